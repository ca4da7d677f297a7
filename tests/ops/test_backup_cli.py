"""`xueji backup` and `xueji restore` from the command line as the IT staff run them (a cron job, a restore drill),
and the PostgreSQL client tools: missing or too old, each said plainly."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from xueji.ops.backup import BackupError, backup_create
from xueji.ops.restore import restore_archive


def _run(args: list[str], data_dir: Path) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    environment.update(XUEJI_DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="xueji.settings")
    return subprocess.run(
        [sys.executable, "-m", "xueji", *args], capture_output=True, text=True, env=environment, timeout=300,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip


def test_backup_to_a_folder_check_and_restore_from_the_command_line(tmp_path: Path) -> None:
    data, backups = tmp_path / "data", tmp_path / "backups"
    backups.mkdir()
    assert _run(["manage", "migrate", "--verbosity=0"], data).returncode == 0
    scan = data / "private" / "name_changes" / "a1b2.pdf"
    scan.parent.mkdir(parents=True)
    scan.write_bytes(b"%PDF-1.4 scan")

    made = _run(["backup", str(backups)], data)
    assert made.returncode == 0, made.stderr
    (archive,) = backups.iterdir()
    assert re.fullmatch(r"xueji-backup-\d{8}-\d{6}\.tar\.gz", archive.name)
    assert "上传文件 1 个" in made.stdout

    drill = _run(["restore", "--check", str(archive)], data)
    assert drill.returncode == 0 and "备份文件完整，可以恢复" in drill.stdout

    scan.unlink()
    unconfirmed = _run(["restore", str(archive)], data)
    assert unconfirmed.returncode == 2 and "--yes" in unconfirmed.stderr
    assert not scan.exists()

    restored = _run(["restore", "--yes", str(archive)], data)
    assert restored.returncode == 0 and "已恢复" in restored.stdout, restored.stderr
    assert scan.read_bytes() == b"%PDF-1.4 scan"

    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not a backup")
    refused = _run(["restore", "--yes", str(junk)], data)
    assert refused.returncode == 1 and refused.stderr.startswith("无法恢复：不是 Xueji 生成的备份文件")
    assert _run(["backup", str(archive)], data).returncode == 1  # never over an existing file


postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_dump / pg_restore: PostgreSQL")


def _fake_tools(folder: Path, version: str) -> Path:
    """A folder of pg_dump / pg_restore / psql that report ``version`` (an old client package)."""
    folder.mkdir()
    for name in ("pg_dump", "pg_restore", "psql"):
        tool = folder / name
        tool.write_text(f'#!/bin/sh\necho "{name} (PostgreSQL) {version}"\n', encoding="utf-8")
        tool.chmod(0o755)
    return folder


@postgres_only
@pytest.mark.django_db
def test_missing_pg_dump_is_named_with_the_package_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              settings) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    settings.MEDIA_ROOT = tmp_path / "private"
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("XUEJI_PG_BIN", str(empty))
    with pytest.raises(BackupError, match=r"找不到 pg_dump.*postgresql-client"):
        backup_create(out=tmp_path / "backup.tar.gz")
    assert not (tmp_path / "backup.tar.gz").exists()


@postgres_only
@pytest.mark.django_db
def test_pg_dump_older_than_the_server_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  settings) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    settings.MEDIA_ROOT = tmp_path / "private"
    monkeypatch.setenv("XUEJI_PG_BIN", str(_fake_tools(tmp_path / "bin", "12.3")))
    server = connection.pg_version // 10000  # type: ignore[attr-defined]
    with pytest.raises(BackupError, match=f"pg_dump 的版本（12）低于数据库服务器（{server}）"):
        backup_create(out=tmp_path / "backup.tar.gz")


@postgres_only
@pytest.mark.django_db
def test_pg_restore_older_than_the_dump_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   settings) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    settings.MEDIA_ROOT = tmp_path / "private"
    settings.DATA_DIR = tmp_path
    archive = tmp_path / "backup.tar.gz"
    backup_create(out=archive)
    monkeypatch.setenv("XUEJI_PG_BIN", str(_fake_tools(tmp_path / "bin", "12.3")))
    with pytest.raises(BackupError, match="本机 pg_restore 是 12：请安装 PostgreSQL"):
        restore_archive(archive=archive)
