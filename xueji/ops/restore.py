"""`xueji restore`: put a `xueji backup` archive back, all of it or nothing.

The whole archive is read into a staging folder first and every checksum, the vendor, the migrations and the
database file itself are checked before anything is touched; then the files are swapped in and the database is
replaced in one step (SQLite: the backup API into the live file, one transaction; PostgreSQL: one
``psql --single-transaction`` that drops and recreates the schema), and the old files go back if that step fails.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

from django.conf import settings
from django.db import connection

from xueji.ops.backup import (
    CHUNK,
    FILES_PREFIX,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    POSTGRES_MEMBER,
    SECRET_MEMBER,
    SQLITE_MEMBER,
    BackupError,
    SQLiteBusy,
    database_vendor,
    media_root,
    pg_env,
    pg_tool,
    secret_key_file,
    sqlite_copy,
    tool_major,
    vendor_name,
)

MANIFEST_LIMIT = 64 * 1024 * 1024
# How long the restore waits for a web or worker process holding a lock before it gives up (changing nothing).
LOCK_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class RestoreSummary:
    vendor: str
    created_at: str
    xueji_version: str
    files: int
    restored: bool
    pending_migrations: list[str] = field(default_factory=list)


def _safe_member_name(name: str) -> bool:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or "\\" in name or not path.parts:
        return False
    return name in (MANIFEST, SECRET_MEMBER, SQLITE_MEMBER, POSTGRES_MEMBER) or (
        name.startswith(FILES_PREFIX) and len(path.parts) > 1
    )


class _StagingFull(Exception):
    pass


def _extract(stream: IO[bytes], target: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    size = 0
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        out = target.open("wb")
    except OSError as error:
        raise _StagingFull(error) from error
    with out:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            try:
                out.write(chunk)
            except OSError as error:
                raise _StagingFull(error) from error
    return {"sha256": digest.hexdigest(), "size": size}


def _unpack(archive_path: Path, staging: Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Extract every member into ``staging`` (hashing as it goes) and return (manifest, what was found)."""
    found: dict[str, dict[str, Any]] = {}
    manifest: dict[str, Any] | None = None
    try:
        archive = tarfile.open(archive_path, "r:*")
    except (tarfile.TarError, OSError) as error:
        raise BackupError("不是 Xueji 生成的备份文件（无法作为 tar.gz 压缩包打开）：拒绝恢复") from error
    try:
        with archive:
            for member in archive:
                if member.isdir():
                    continue
                if not member.isreg() or not _safe_member_name(member.name):
                    raise BackupError(f"备份文件含有不应有的内容（{member.name}）：不是 Xueji 生成的备份，拒绝恢复")
                if member.name in found or (member.name == MANIFEST and manifest is not None):
                    raise BackupError(f"备份文件中 {member.name} 出现了两次：拒绝恢复")
                stream = archive.extractfile(member)
                assert stream is not None  # a regular member always has a stream
                if member.name == MANIFEST:
                    if member.size > MANIFEST_LIMIT:
                        raise BackupError("备份清单过大：不是 Xueji 生成的备份")
                    try:
                        manifest = json.loads(stream.read())
                    except ValueError as error:
                        raise BackupError(f"备份清单（manifest.json）无法读取：{error}") from error
                    continue
                found[member.name] = _extract(stream, staging / member.name)
    except _StagingFull as error:
        cause = error.__cause__
        reason = getattr(cause, "strerror", None) or str(cause)
        raise BackupError(f"无法在 {staging.parent} 中解开备份（{reason}）：请检查磁盘空间，数据没有改动") from error
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        raise BackupError(f"备份文件已损坏或不完整，无法读取（{error}）：拒绝恢复") from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError("备份文件中没有 Xueji 备份清单（manifest.json）：不是 Xueji 生成的备份")
    return manifest, found


def _check_manifest(manifest: dict[str, Any], found: dict[str, dict[str, Any]]) -> None:
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"备份格式版本 {manifest.get('format_version')} 不受本版本支持（支持 {FORMAT_VERSION}）："
            "请用生成它的版本恢复"
        )
    listed: dict[str, dict[str, Any]] = manifest.get("files") or {}
    for name, expected in sorted(listed.items()):
        actual = found.get(name)
        if actual is None:
            raise BackupError(f"备份文件不完整：缺少 {name}，拒绝恢复")
        if actual != {"sha256": expected.get("sha256"), "size": expected.get("size")}:
            raise BackupError(f"备份文件已被改动或损坏：{name} 的 SHA-256 校验值与清单不符，拒绝恢复")
    extra = sorted(set(found) - set(listed))
    if extra:
        raise BackupError(f"备份文件含有清单以外的文件（{extra[0]}）：拒绝恢复")
    vendor = database_vendor()
    database = manifest.get("database") or {}
    if database.get("vendor") != vendor:
        raise BackupError(
            f"这是 {vendor_name(str(database.get('vendor')))} 数据库的备份，本系统当前使用 {vendor_name(vendor)}："
            "只能恢复到同一种数据库（检查 DATABASE_URL）"
        )
    if database.get("member") not in found:
        raise BackupError("备份文件中没有数据库：拒绝恢复")


def _check_migrations(manifest: dict[str, Any]) -> list[str]:
    """Refuse a backup made by a newer version; return the migrations this version will add (run migrate)."""
    from django.db.migrations.loader import MigrationLoader

    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    applied = {(app, name) for app, name in manifest.get("migrations") or []}
    unknown = sorted(applied - known)
    if unknown:
        app, name = unknown[0]
        raise BackupError(
            f"备份来自较新的版本 {manifest.get('xueji_version')}（含本版本没有的数据库迁移 {app}.{name}）："
            "请先把本系统升级到该版本，再恢复"
        )
    return [f"{app}.{name}" for app, name in sorted(known - applied)]


def _check_database(manifest: dict[str, Any], dump: Path) -> None:
    if manifest["database"]["vendor"] == "sqlite":
        try:
            staged = sqlite3.connect(f"file:{dump}?mode=ro", uri=True)
            try:
                ok = staged.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            finally:
                staged.close()
        except sqlite3.DatabaseError as error:
            raise BackupError(f"备份中的 SQLite 数据库无法打开（{error}）：拒绝恢复") from error
        if not ok:
            raise BackupError("备份中的 SQLite 数据库自检未通过：拒绝恢复")
        return
    pg_restore = pg_tool("pg_restore")
    pg_tool("psql")
    tool, made_by = tool_major(pg_restore), int(manifest["database"].get("dump_version") or 0)
    if tool < made_by:
        raise BackupError(
            f"备份由 PostgreSQL {made_by} 的 pg_dump 生成，本机 pg_restore 是 {tool}：请安装 PostgreSQL {made_by}"
            f" 或更新的客户端工具（Debian：apt install postgresql-client-{made_by}），或用 XUEJI_PG_BIN 指定其目录"
        )
    result = subprocess.run([pg_restore, "--list", str(dump)], capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"备份中的 PostgreSQL 导出文件无法读取（{result.stderr.strip()}）：拒绝恢复")


def _restore_sqlite(dump: Path) -> None:
    live = str(settings.DATABASES["default"]["NAME"])
    source = sqlite3.connect(str(dump))
    target = sqlite3.connect(live, timeout=1)
    try:
        # One write transaction on the live file: other connections see the old database or the restored one,
        # and a failure (or a crash) leaves the old one.
        sqlite_copy(source, target, wait_seconds=LOCK_TIMEOUT_SECONDS)
    except SQLiteBusy as error:
        raise BackupError(
            f"数据库被其他进程锁定超过 {LOCK_TIMEOUT_SECONDS} 秒，数据库保持原状：请先停止网页服务和后台任务进程再恢复"
        ) from error
    except sqlite3.Error as error:
        raise BackupError(f"恢复 SQLite 数据库失败（{error}），数据库保持原状") from error
    finally:
        target.close()
        source.close()


def _pg_preamble() -> bytes:
    # The schema is dropped and recreated inside the restore's one transaction, so tables a newer migration added
    # do not linger; lock_timeout makes a process holding a lock fail the restore clearly instead of stalling it.
    return (
        f"SET lock_timeout = '{LOCK_TIMEOUT_SECONDS}s';\nDROP SCHEMA IF EXISTS public CASCADE;\nCREATE SCHEMA public;\n"
    ).encode()


def _restore_postgres(dump: Path, staging: Path) -> None:
    pg_restore, psql = pg_tool("pg_restore"), pg_tool("psql")
    env = pg_env()
    errors = (staging / "pg_restore.err").open("w+b"), (staging / "psql.err").open("w+b")
    with errors[0], errors[1]:
        script = subprocess.Popen(
            [pg_restore, "--no-owner", "--no-privileges", "--file=-", str(dump)],
            stdout=subprocess.PIPE,
            stderr=errors[0],
        )
        loader = subprocess.Popen(
            [psql, "--no-psqlrc", "--quiet", "--single-transaction", "--set=ON_ERROR_STOP=1", "--output=/dev/null"],
            stdin=subprocess.PIPE,
            stderr=errors[1],
            env=env,
        )
        assert script.stdout is not None and loader.stdin is not None
        try:
            loader.stdin.write(_pg_preamble())
            shutil.copyfileobj(script.stdout, loader.stdin, CHUNK)
        except BrokenPipeError:  # psql stopped at an error; its message is read below
            pass
        finally:
            script.stdout.close()
            try:
                loader.stdin.close()
            except BrokenPipeError:
                pass
        script_status, loader_status = script.wait(), loader.wait()
        errors[0].seek(0)
        errors[1].seek(0)
        message = (errors[1].read() or errors[0].read()).decode(errors="replace").strip()
    if script_status != 0 or loader_status != 0:
        hint = "（有进程占用数据库：请先停止网页服务和后台任务进程再恢复）" if "lock timeout" in message else ""
        raise BackupError(f"恢复 PostgreSQL 数据库失败，事务已回滚，数据库保持原状{hint}：{message}")


@contextmanager
def _swapped(current: Path, replacement: Path | None, keep_old: Path) -> Iterator[None]:
    """Put ``replacement`` (None: nothing) where ``current`` is, keeping the old one in ``keep_old``; put the
    old one back if the block fails."""
    had_old = current.exists()
    if had_old:
        os.replace(current, keep_old)
    if replacement is not None:
        os.replace(replacement, current)
    try:
        yield
    except BaseException:
        if current.exists() and current.is_dir():
            shutil.rmtree(current, ignore_errors=True)
        elif current.exists():
            current.unlink()
        if had_old:
            os.replace(keep_old, current)
        raise


def restore_archive(*, archive: Path, check_only: bool = False) -> RestoreSummary:
    """Check ``archive`` completely, then (unless ``check_only``) replace the database and private files with
    it. Nothing is changed when a check fails or the database step fails."""
    if not archive.is_file():
        raise BackupError(f"找不到备份文件 {archive}")
    media = media_root()
    media.parent.mkdir(parents=True, exist_ok=True)
    # The staging folder sits beside MEDIA_ROOT so the swap is a rename on one file system.
    staging = Path(tempfile.mkdtemp(prefix=".xueji-restore-", dir=media.parent))
    try:
        manifest, found = _unpack(archive, staging)
        try:
            _check_manifest(manifest, found)
            pending = _check_migrations(manifest)
        except (AttributeError, TypeError, KeyError, ValueError) as error:
            raise BackupError("备份清单（manifest.json）的格式不对：不是 Xueji 生成的备份，拒绝恢复") from error
        dump = staging / manifest["database"]["member"]
        _check_database(manifest, dump)
        summary = RestoreSummary(
            vendor=manifest["database"]["vendor"],
            created_at=str(manifest.get("created_at")),
            xueji_version=str(manifest.get("xueji_version")),
            files=sum(1 for name in found if name.startswith(FILES_PREFIX)),
            restored=not check_only,
            pending_migrations=pending,
        )
        if check_only:
            return summary
        staged_private = staging / FILES_PREFIX.rstrip("/")
        staged_private.mkdir(exist_ok=True)
        staged_secret = staging / SECRET_MEMBER
        # A backup without a generated key came from an install whose key is set in the environment: the key
        # file here (if any) stays as it is.
        secret_swap: AbstractContextManager[None] = (
            _swapped(secret_key_file(), staged_secret, staging / "previous-key")
            if staged_secret.exists()
            else nullcontext()
        )
        connection.close()
        with _swapped(media, staged_private, staging / "previous-private"), secret_swap:
            if summary.vendor == "sqlite":
                _restore_sqlite(dump)
            else:
                _restore_postgres(dump, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if pending:
        # A backup from an older version: bring its schema up to this version, as `xueji serve` would.
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)
    from xueji.audit.services import audit_record

    audit_record(
        actor=None,
        action="ops.restore",
        after={"file": archive.name, "created_at": summary.created_at, "files": summary.files},
    )
    return summary
