"""`xueji backup`: the database and the private uploads in one checksummed archive (restore.py reads it back).

The archive is a gzip'd tar holding ``database/…`` (an SQLite file copied with SQLite's online backup API, or a
``pg_dump`` custom-format dump), ``private/…`` (everything under MEDIA_ROOT: 改名 evidence, 录取名册 uploads and
correction scans, 上报盘 packages, campaign attachments, import and export files), the generated ``secret_key``
when the install uses one (filing packages are signed with it) and ``manifest.json`` (format, version, time,
database vendor, applied migrations, the SHA-256 and size of every other member).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import connection

FORMAT = "xueji-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database/xueji.sqlite3"
POSTGRES_MEMBER = "database/xueji.pgdump"
SECRET_MEMBER = "secret_key"
FILES_PREFIX = "private/"
MANIFEST_LIMIT = 64 * 1024 * 1024
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A refused backup or restore, with the message the operator reads."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    vendor: str
    files: int
    size: int


def _xueji_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("xueji")
    except PackageNotFoundError:  # running from a source tree without an install
        return "0"


def database_vendor() -> str:
    if connection.vendor not in ("sqlite", "postgresql"):
        raise BackupError(f"不支持备份 {connection.vendor} 数据库：只支持 SQLite 和 PostgreSQL")
    return connection.vendor


def vendor_name(vendor: str) -> str:
    return {"sqlite": "SQLite", "postgresql": "PostgreSQL"}.get(vendor, vendor)


def media_root() -> Path:
    return Path(settings.MEDIA_ROOT)


def secret_key_file() -> Path:
    return Path(settings.DATA_DIR) / "secret_key"


# ---------------------------------------------------------------------------------------------------------
# PostgreSQL client tools


def pg_tool(name: str) -> str:
    """The path of pg_dump / pg_restore / psql: from XUEJI_PG_BIN (e.g. /usr/lib/postgresql/16/bin) or PATH."""
    folder = os.environ.get("XUEJI_PG_BIN", "")
    path = shutil.which(name, path=folder) if folder else shutil.which(name)
    if path is None:
        where = f"XUEJI_PG_BIN={folder}" if folder else "PATH"
        raise BackupError(
            f"找不到 {name}（在 {where} 中）：请安装与数据库服务器同版本的 PostgreSQL 客户端工具"
            "（Debian：apt install postgresql-client），或用 XUEJI_PG_BIN 指定其目录"
        )
    return path


def tool_major(path: str) -> int:
    result = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30)
    match = re.search(r"\)\s*(\d+)", result.stdout) or re.search(r"(\d+)\.\d+", result.stdout)
    if result.returncode != 0 or match is None:
        raise BackupError(f"无法确定 {path} 的版本：{(result.stdout + result.stderr).strip()}")
    return int(match.group(1))


def _server_major() -> int:
    connection.ensure_connection()
    return int(connection.pg_version) // 10000  # type: ignore[attr-defined]


def pg_env() -> dict[str, str]:
    """libpq environment for the Django database: the password never appears on a command line."""
    db: dict[str, Any] = dict(settings.DATABASES["default"])
    env = {**os.environ, "PGDATABASE": str(db["NAME"]), "PGAPPNAME": "xueji-backup"}
    for key, variable in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if db.get(key):
            env[variable] = str(db[key])
    options = db.get("OPTIONS") or {}
    for option in ("sslmode", "sslrootcert", "sslcert", "sslkey"):
        if options.get(option):
            env[f"PG{option.upper()}"] = str(options[option])
    return env


def _run_tool(args: list[str], what: str) -> None:
    result = subprocess.run(args, capture_output=True, text=True, env=pg_env())
    if result.returncode != 0:
        raise BackupError(f"{what}失败：{result.stderr.strip() or result.stdout.strip()}")


# ---------------------------------------------------------------------------------------------------------
# Backup


class _HashingReader(io.RawIOBase):
    """Reads a file for tarfile while computing its SHA-256, so each file is read once."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.digest.update(data)
        return data


def _applied_migrations() -> list[list[str]]:
    from django.db.migrations.recorder import MigrationRecorder

    return sorted([app, name] for app, name in MigrationRecorder(connection).applied_migrations())


class SQLiteBusy(Exception):
    pass


def sqlite_copy(source: sqlite3.Connection, target: sqlite3.Connection, *, wait_seconds: float) -> None:
    """Copy a whole SQLite database with the online backup API in one step (pages=-1): one read transaction on
    the source, so the copy is a consistent snapshot, and one write transaction on the target, so readers of the
    target see the old database or the new one. Python retries a locked database forever; the progress callback
    gives up after ``wait_seconds`` instead (SQLiteBusy)."""
    started = time.monotonic()

    def give_up_when_stuck(status: int, remaining: int, total: int) -> None:
        if status in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) and time.monotonic() - started > wait_seconds:
            raise SQLiteBusy

    source.backup(target, pages=-1, progress=give_up_when_stuck, sleep=0.1)


def _dump_sqlite(target: Path) -> None:
    source_name = str(settings.DATABASES["default"]["NAME"])
    if not Path(source_name).exists():
        raise BackupError(f"找不到 SQLite 数据库文件 {source_name}")
    source = sqlite3.connect(source_name, timeout=1)
    copy = sqlite3.connect(str(target))
    try:
        # In WAL mode (as settings.py opens it) the web and the workers go on writing meanwhile.
        try:
            sqlite_copy(source, copy, wait_seconds=60)
        except SQLiteBusy as error:
            raise BackupError("SQLite 数据库被长时间锁定，无法备份：请稍后再试") from error
        copy.execute("PRAGMA journal_mode=DELETE")
        if copy.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise BackupError("SQLite 数据库自检未通过：请先运行 xueji doctor 查明原因")
    finally:
        copy.close()
        source.close()


def _dump_postgres(target: Path) -> dict[str, Any]:
    pg_dump = pg_tool("pg_dump")
    tool, server = tool_major(pg_dump), _server_major()
    if tool < server:
        raise BackupError(
            f"pg_dump 的版本（{tool}）低于数据库服务器（{server}）：请安装 PostgreSQL {server} 的客户端工具"
            f"（Debian：apt install postgresql-client-{server}），或用 XUEJI_PG_BIN 指定其目录"
        )
    # --no-owner/--no-privileges: the dump restores under whatever role the target installation uses.
    _run_tool([pg_dump, "--format=custom", "--no-owner", "--no-privileges", f"--file={target}"], "pg_dump 导出")
    return {"server_version": server, "dump_version": tool}


def _add_file(archive: tarfile.TarFile, path: Path, name: str) -> dict[str, Any] | None:
    try:
        stream = path.open("rb")
    except FileNotFoundError:  # removed meanwhile (an export file swept after a week): nothing to keep
        return None
    with stream:
        status = os.fstat(stream.fileno())
        info = tarfile.TarInfo(name)
        info.size = status.st_size
        info.mtime = int(status.st_mtime)
        info.mode = 0o600
        reader = _HashingReader(stream)
        archive.addfile(info, reader)  # type: ignore[arg-type]
    return {"sha256": reader.digest.hexdigest(), "size": info.size}


def _private_files() -> Iterator[tuple[Path, str]]:
    root = media_root()
    if not root.is_dir():
        return
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for file_name in sorted(names):
            path = Path(folder) / file_name
            if path.is_file() and not path.is_symlink():
                yield path, FILES_PREFIX + path.relative_to(root).as_posix()


def backup_default_name() -> str:
    return f"xueji-backup-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}.tar.gz"


def backup_create(*, out: Path) -> BackupSummary:
    """Write the archive to ``out`` (a new file; written beside it and renamed into place when complete)."""
    vendor = database_vendor()
    out = out.resolve()
    if out.exists():
        raise BackupError(f"{out} 已存在：请换一个文件名（备份不会覆盖已有文件）")
    if not out.parent.is_dir():
        raise BackupError(f"目录 {out.parent} 不存在")
    staging = Path(tempfile.mkdtemp(prefix=".xueji-backup-", dir=out.parent))
    partial = staging / "archive.tar.gz"
    try:
        members: dict[str, dict[str, Any]] = {}
        database: dict[str, Any] = {"vendor": vendor}
        dump = staging / "database"
        migrations = _applied_migrations()
        if vendor == "sqlite":
            _dump_sqlite(dump)
            database["member"] = SQLITE_MEMBER
        else:
            database.update(_dump_postgres(dump))
            database["member"] = POSTGRES_MEMBER
        with tarfile.open(partial, "w:gz", compresslevel=6) as archive:
            members[database["member"]] = _add_file(archive, dump, database["member"]) or {}
            dump.unlink()
            # Files after the database snapshot: every row in the snapshot finds its file in the archive.
            for path, name in _private_files():
                entry = _add_file(archive, path, name)
                if entry is not None:
                    members[name] = entry
            if secret_key_file().is_file():
                members[SECRET_MEMBER] = _add_file(archive, secret_key_file(), SECRET_MEMBER) or {}
            manifest = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "xueji_version": _xueji_version(),
                "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "database": database,
                "migrations": migrations,
                "files": members,
            }
            data = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(data), int(dt.datetime.now().timestamp()), 0o600
            archive.addfile(info, io.BytesIO(data))
        with partial.open("rb") as written:
            os.fsync(written.fileno())
        partial.chmod(0o600)  # the archive holds every student's personal data
        os.replace(partial, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    from xueji.audit.services import audit_record

    audit_record(actor=None, action="ops.backup", after={"file": out.name, "vendor": vendor, "files": len(members)})
    files = sum(1 for name in members if name.startswith(FILES_PREFIX))
    return BackupSummary(path=out, vendor=vendor, files=files, size=out.stat().st_size)
