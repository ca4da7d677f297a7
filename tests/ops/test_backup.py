"""`xueji backup` / `xueji restore`: a round trip brings back the data and the private files; a corrupt, foreign
or newer archive is refused with a clear message and nothing changes; a restore that fails half-way (the
database busy) leaves the database and the files as they were. On whichever database the suite runs on."""

from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
import stat
import tarfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, connections

from tests.admissions.helpers import school_a_row
from tests.conftest import make_school, make_user, school_a_from_scratch
from xueji.admissions.models import AdmissionRecord
from xueji.admissions.services import admission_save
from xueji.audit.models import AuditEvent
from xueji.audit.services import audit_verify_chain
from xueji.ops import restore as restore_module
from xueji.ops.backup import BackupError, backup_create
from xueji.ops.restore import restore_archive
from xueji.orgs.models import Role, School
from xueji.reconcile.namechange import store_evidence
from xueji.students.models import Student
from xueji.students.services import checkin

pytestmark = pytest.mark.django_db(transaction=True)

SCAN = b"%PDF-1.4 \xe6\x94\xb9\xe5\x90\x8d\xe8\xaf\x81\xe6\x98\x8e" + os.urandom(4096)


@pytest.fixture
def data_dir(settings, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    """A data directory of the test's own: MEDIA_ROOT and the generated key file under it."""
    folder = tmp_path / "data"
    folder.mkdir()
    settings.DATA_DIR = folder
    settings.MEDIA_ROOT = folder / "private"
    (folder / "secret_key").write_text("k" * 60, encoding="utf-8")
    return folder


@pytest.fixture
def school_with_students(data_dir: Path) -> Iterator[dict[str, Any]]:
    *_, school = school_a_from_scratch()
    registrar = make_user("xj", Role.REGISTRAR, school=school)
    for serial, name in enumerate(["周一", "吴二", "郑三"], start=1):
        assert admission_save(actor=registrar, school=school, raw=school_a_row(serial, name=name)).ok
    checkin(actor=registrar, records=AdmissionRecord.objects.filter(name__in=["周一", "吴二"]))
    stored, *_ = store_evidence(io.BytesIO(SCAN), "改名证明.pdf")
    yield {"school": school, "evidence": data_dir / "private" / "name_changes" / stored}


def _rewrite(source: Path, target: Path, *, manifest: Callable[[dict[str, Any]], None] | None = None,
             member: Callable[[str, bytes], bytes] | None = None) -> Path:  # fmt: skip
    """A copy of an archive with its manifest or a member's bytes changed (as a hand-edited archive would be)."""
    with tarfile.open(source, "r:gz") as original, tarfile.open(target, "w:gz") as copy:
        for info in original.getmembers():
            stream = original.extractfile(info)
            data = stream.read() if stream is not None else b""
            if info.name == "manifest.json" and manifest is not None:
                loaded = json.loads(data)
                manifest(loaded)
                data = json.dumps(loaded).encode()
            elif member is not None:
                data = member(info.name, data)
            info.size = len(data)
            copy.addfile(info, io.BytesIO(data))
    return target


def _state() -> tuple[list[str], list[str], list[str]]:
    return (
        sorted(AdmissionRecord.objects.values_list("name", flat=True)),
        sorted(Student.objects.values_list("name", flat=True)),
        sorted(School.objects.values_list("name", flat=True)),
    )


def test_round_trip_brings_back_data_files_and_key(school_with_students: dict[str, Any], data_dir: Path,
                                                   tmp_path: Path) -> None:  # fmt: skip
    evidence: Path = school_with_students["evidence"]
    before = _state()
    archive = tmp_path / "backup.tar.gz"

    summary = backup_create(out=archive)

    assert summary.vendor == connection.vendor and summary.files == 1
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600  # it holds every student's personal data
    with tarfile.open(archive) as opened:
        manifest = json.load(opened.extractfile("manifest.json"))  # type: ignore[arg-type]
    assert manifest["database"]["vendor"] == connection.vendor
    assert manifest["files"][f"private/name_changes/{evidence.name}"]["sha256"] == hashlib.sha256(SCAN).hexdigest()
    assert ["students", "0001_initial"] in manifest["migrations"]

    # Everything changes after the backup: a record deleted, a student renamed, a school added, files swapped.
    AdmissionRecord.objects.filter(name="郑三").delete()
    Student.objects.filter(name="周一").update(name="周改")
    make_school("3111010009", "后来的学校", school_with_students["school"].district)
    evidence.unlink()
    (data_dir / "private" / "later.txt").write_text("after the backup", encoding="utf-8")
    (data_dir / "secret_key").write_text("z" * 60, encoding="utf-8")
    assert _state() != before

    restored = restore_archive(archive=archive)

    assert restored.restored and restored.files == 1 and restored.pending_migrations == []
    assert _state() == before
    assert evidence.read_bytes() == SCAN
    assert not (data_dir / "private" / "later.txt").exists()
    assert (data_dir / "secret_key").read_text(encoding="utf-8") == "k" * 60
    # The restore is itself on the record, chained onto the restored log.
    assert audit_verify_chain().ok
    assert AuditEvent.objects.order_by("-id").values_list("action", flat=True).first() == "ops.restore"
    # No staging folder is left behind.
    assert [p.name for p in data_dir.iterdir() if p.name.startswith(".xueji")] == []


def test_backup_never_overwrites_an_existing_file(school_with_students: dict[str, Any], tmp_path: Path) -> None:
    existing = tmp_path / "backup.tar.gz"
    existing.write_bytes(b"last week's backup")
    with pytest.raises(BackupError, match="已存在"):
        backup_create(out=existing)
    assert existing.read_bytes() == b"last week's backup"


def test_check_only_verifies_without_changing_anything(school_with_students: dict[str, Any],
                                                       tmp_path: Path) -> None:  # fmt: skip
    archive = tmp_path / "backup.tar.gz"
    backup_create(out=archive)
    AdmissionRecord.objects.filter(name="郑三").delete()
    after_change = _state()
    summary = restore_archive(archive=archive, check_only=True)
    assert not summary.restored and summary.files == 1
    assert _state() == after_change


def _truncated(archive: Path, target: Path) -> None:
    target.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])


def _not_an_archive(archive: Path, target: Path) -> None:
    target.write_bytes(b"MZ\x90\x00 a renamed program, not a backup")


def _file_altered(archive: Path, target: Path) -> None:
    _rewrite(archive, target, member=lambda name, data: data + b"x" if name.startswith("private/") else data)


def _file_missing(archive: Path, target: Path) -> None:
    def add_phantom(manifest: dict[str, Any]) -> None:
        manifest["files"]["private/gone.pdf"] = {"sha256": "0" * 64, "size": 1}

    _rewrite(archive, target, manifest=add_phantom)


def _other_database(archive: Path, target: Path) -> None:
    def swap_vendor(manifest: dict[str, Any]) -> None:
        manifest["database"]["vendor"] = "postgresql" if manifest["database"]["vendor"] == "sqlite" else "sqlite"

    _rewrite(archive, target, manifest=swap_vendor)


def _newer_version(archive: Path, target: Path) -> None:
    _rewrite(archive, target, manifest=lambda m: m["migrations"].append(["students", "9999_from_the_future"]))


def _garbled_manifest(archive: Path, target: Path) -> None:
    _rewrite(archive, target, manifest=lambda m: m.update(files=["database/xueji.sqlite3"]))


def _unknown_format(archive: Path, target: Path) -> None:
    _rewrite(archive, target, manifest=lambda m: m.update(format_version=99))


@pytest.mark.parametrize(
    ("corrupt", "message"),
    [
        pytest.param(_truncated, "已损坏或不完整", id="truncated"),
        pytest.param(_not_an_archive, "不是 Xueji 生成的备份文件", id="not-an-archive"),
        pytest.param(_file_altered, "SHA-256 校验值与清单不符", id="file-altered"),
        pytest.param(_file_missing, "缺少 private/gone.pdf", id="file-missing"),
        pytest.param(_other_database, "只能恢复到同一种数据库", id="other-database"),
        pytest.param(_newer_version, "备份来自较新的版本", id="newer-version"),
        pytest.param(_unknown_format, "备份格式版本 99", id="unknown-format"),
        pytest.param(_garbled_manifest, "格式不对", id="garbled-manifest"),
    ],
)
def test_a_bad_archive_is_refused_and_nothing_changes(
    school_with_students: dict[str, Any], data_dir: Path, tmp_path: Path, corrupt: Any, message: str
) -> None:
    archive = tmp_path / "backup.tar.gz"
    backup_create(out=archive)
    AdmissionRecord.objects.filter(name="郑三").delete()
    (data_dir / "private" / "later.txt").write_text("after the backup", encoding="utf-8")
    after_change = _state()
    bad = tmp_path / "bad.tar.gz"
    corrupt(archive, bad)

    with pytest.raises(BackupError, match=message):
        restore_archive(archive=bad)

    assert _state() == after_change
    assert (data_dir / "private" / "later.txt").exists()
    assert [p.name for p in data_dir.iterdir() if p.name.startswith(".xueji")] == []


def test_an_archive_with_a_path_outside_the_data_directory_is_refused(school_with_students: dict[str, Any],
                                                                      tmp_path: Path) -> None:  # fmt: skip
    archive = tmp_path / "backup.tar.gz"
    backup_create(out=archive)
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(archive) as original, tarfile.open(evil, "w:gz") as copy:
        for info in original.getmembers():
            copy.addfile(info, original.extractfile(info))
        payload = tarfile.TarInfo("private/../../escaped.txt")
        payload.size = 3
        copy.addfile(payload, io.BytesIO(b"bad"))
    with pytest.raises(BackupError, match="不应有的内容"):
        restore_archive(archive=evil)
    assert not (tmp_path / "escaped.txt").exists()


def _another_connection(sql: str) -> Callable[[bool], None]:
    """A second connection (a web process mid-request) that has run ``sql`` in an open transaction; returns
    end(commit)."""
    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        other = sqlite3.connect(settings_dict["NAME"], isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        other.execute(sql)

        def end_sqlite(commit: bool) -> None:
            other.execute("COMMIT" if commit else "ROLLBACK")
            other.close()

        return end_sqlite
    import psycopg

    pg = psycopg.connect(
        dbname=settings_dict["NAME"], user=settings_dict["USER"], host=settings_dict["HOST"],
        port=settings_dict["PORT"] or 5432, password=settings_dict["PASSWORD"] or None,
    )  # fmt: skip
    pg.execute(sql)  # type: ignore[arg-type]

    def end_postgres(commit: bool) -> None:
        pg.commit() if commit else pg.rollback()
        pg.close()

    return end_postgres


def test_a_restore_that_fails_half_way_leaves_database_and_files_as_they_were(
    school_with_students: dict[str, Any], data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    evidence: Path = school_with_students["evidence"]
    archive = tmp_path / "backup.tar.gz"
    backup_create(out=archive)
    AdmissionRecord.objects.filter(name="郑三").delete()
    evidence.unlink()
    (data_dir / "private" / "later.txt").write_text("after the backup", encoding="utf-8")
    after_change = _state()
    monkeypatch.setattr(restore_module, "LOCK_TIMEOUT_SECONDS", 1)
    end = _another_connection("UPDATE orgs_school SET name = name")  # holds its lock until it ends
    try:
        with pytest.raises(BackupError, match="数据库保持原状"):
            restore_archive(archive=archive)
    finally:
        end(False)
    assert _state() == after_change
    assert not evidence.exists()
    assert (data_dir / "private" / "later.txt").read_text(encoding="utf-8") == "after the backup"
    # Once the other process is done, the same archive restores.
    restore_archive(archive=archive)
    assert evidence.read_bytes() == SCAN


def test_backup_runs_beside_a_writer_and_holds_only_committed_data(school_with_students: dict[str, Any],
                                                                   tmp_path: Path) -> None:  # fmt: skip
    """The online copy: a web process in the middle of a write neither blocks the backup nor gets its
    uncommitted change into it."""
    school = school_with_students["school"]
    end = _another_connection(f"UPDATE orgs_school SET name = '未提交的改名' WHERE id = {school.pk}")
    archive = tmp_path / "backup.tar.gz"
    errors: list[BaseException] = []

    def run_backup() -> None:
        try:
            backup_create(out=archive)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    backup = threading.Thread(target=run_backup)
    backup.start()
    try:
        # The archive is in place while the writer's transaction is still open: the copy did not wait for it.
        for _ in range(600):
            if archive.exists() or not backup.is_alive():
                break
            time.sleep(0.1)
        assert archive.exists()
    finally:
        end(True)  # the writer commits; the backup's own audit event can then be appended
        backup.join(timeout=60)
    assert errors == []
    assert School.objects.get(pk=school.pk).name == "未提交的改名"
    restore_archive(archive=archive)
    assert School.objects.get(pk=school.pk).name == school.name


def test_a_backup_from_an_older_version_is_migrated_forward(school_with_students: dict[str, Any],
                                                            tmp_path: Path) -> None:  # fmt: skip
    """An older release's database (here: without the worker-heartbeat table) comes back and is brought up to
    this release's schema."""
    from django.core.management import call_command

    from xueji.ops.models import WorkerHeartbeat
    from xueji.ops.workers import worker_heartbeat

    before = _state()
    call_command("migrate", "ops", "zero", verbosity=0)
    archive = tmp_path / "older.tar.gz"
    backup_create(out=archive)
    call_command("migrate", verbosity=0)

    summary = restore_archive(archive=archive)

    assert summary.pending_migrations == ["ops.0001_worker_heartbeat"]
    assert _state() == before
    worker_heartbeat()  # the table the older version lacked exists again
    assert WorkerHeartbeat.objects.count() == 1
