"""Faults during 导入名单: the database connection lost in the middle of a batch, the disk full when the failure
workbook is written. The job ends in a state that says what happened (失败 with the reason, and 重新运行), and
running it again gives exact counts with nothing written twice and nothing lost. (A worker killed outright is
tests/admissions/test_worker.py.)"""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
from django.db import OperationalError, connection

from tests.admissions.helpers import school_a_row, workbook
from tests.conftest import World, school_a_from_scratch
from xueji.admissions import imports
from xueji.admissions.models import AdmissionRecord, ImportFailure, ImportJob
from xueji.orgs.models import School

ROWS = 35
BAD = (3, 17, 33)  # unknown 健康状况: rows 4, 18 and 34 of the sheet fail
BATCH = 10


def source_file(tmp_path: Path) -> Path:
    rows = [school_a_row(n) for n in range(1, ROWS + 1)]
    for n in BAD:
        rows[n - 1]["health_status"] = "很差"
    return workbook(tmp_path / "名单.xlsx", rows)


def queued_job(school: School, path: Path) -> ImportJob:
    with path.open("rb") as stream:
        return imports.import_job_create(actor=None, school=school, stream=stream, file_name=path.name, enqueue=False)


def assert_exact(job: ImportJob) -> None:
    """The job as if nothing had happened: every row once, the three bad ones as failures."""
    job.refresh_from_db()
    assert (job.status, job.total_rows, job.created_count, job.updated_count, job.failed_count) == (
        ImportJob.Status.DONE, ROWS, ROWS - len(BAD), 0, len(BAD),
    )  # fmt: skip
    saved = AdmissionRecord.objects.filter(import_job=job)
    assert saved.count() == len(set(saved.values_list("id_number", flat=True))) == ROWS - len(BAD)
    assert sorted(saved.values_list("import_row", flat=True)) == [n + 1 for n in range(1, ROWS + 1) if n not in BAD]
    assert sorted(ImportFailure.objects.filter(job=job).values_list("row_number", flat=True)) == [n + 1 for n in BAD]
    path = imports.import_failure_path(job)
    assert path is not None and path.stat().st_size > 0


def rerun(job: ImportJob, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    """重新运行 as the button does it: requeue, then the queued task runs."""
    assert imports.import_job_can_rerun(job)
    with django_capture_on_commit_callbacks(execute=False):
        assert imports.import_job_requeue(job.pk)
    imports.import_job_run(job.pk)


def test_connection_lost_in_the_second_batch(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks
) -> None:
    monkeypatch.setattr(imports, "BATCH_SIZE", BATCH)
    job = queued_job(world.school_a, source_file(tmp_path))
    real = imports.insert_and_update
    calls = {"n": 0}

    def drops_on_the_second_batch(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            real(*args, **kwargs)  # half the batch's statements went through before the connection went
            raise OperationalError("server closed the connection unexpectedly")
        return real(*args, **kwargs)

    monkeypatch.setattr(imports, "insert_and_update", drops_on_the_second_batch)
    with pytest.raises(OperationalError):
        imports.import_job_run(job.pk)
    job.refresh_from_db()
    assert (job.status, job.error_message) == (ImportJob.Status.FAILED, imports.SYSTEM_ERROR_MESSAGE)
    # Only the first batch is there, whole: rows 2-11, of which row 4 failed.
    assert (job.committed_rows, job.created_count, job.failed_count) == (BATCH, BATCH - 1, 1)
    assert AdmissionRecord.objects.filter(import_job=job).count() == BATCH - 1
    monkeypatch.setattr(imports, "insert_and_update", real)
    rerun(job, django_capture_on_commit_callbacks)
    assert_exact(job)
    assert job.attempts == 2


def test_disk_full_on_the_failure_workbook(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks
) -> None:
    """The failure workbook is written as the batches are (imports.FailureWorkbook) and, after a restart, from
    the file at the end (write_annotated): a full disk in either leaves every row imported, the job 失败 with
    its reason, no half-written workbook offered, and 重新运行 writes just the workbook."""
    monkeypatch.setattr(imports, "BATCH_SIZE", BATCH)
    job = queued_job(world.school_a, source_file(tmp_path))

    class DiskFullAtTheEnd(imports.AnnotatedWriter):
        def __init__(self, table, out, **kwargs):  # type: ignore[no-untyped-def]
            super().__init__(table, out, **kwargs)
            self.out = Path(out)

        def close(self) -> int:
            self.out.write_bytes(b"PK\x03\x04 half a workbook")
            raise OSError(errno.ENOSPC, "No space left on device", str(self.out))

    def disk_full(source, report, target, **kwargs):  # type: ignore[no-untyped-def]
        Path(target).write_bytes(b"PK\x03\x04 half a workbook")
        raise OSError(errno.ENOSPC, "No space left on device", str(target))

    def assert_disk_full() -> None:
        job.refresh_from_db()
        assert (job.status, job.error_message) == (ImportJob.Status.FAILED, imports.DISK_FULL_MESSAGE)
        # Every batch is in; only the workbook is missing, and the half-written one is not offered.
        assert (job.committed_rows, job.created_count, job.failed_count) == (ROWS, ROWS - len(BAD), len(BAD))
        assert job.failure_file == "" and imports.import_failure_path(job) is None
        assert not list(imports.imports_dir().glob(f"{job.stored_name}-failures*"))

    real_writer, real_write = imports.AnnotatedWriter, imports.write_annotated
    monkeypatch.setattr(imports, "AnnotatedWriter", DiskFullAtTheEnd)
    with pytest.raises(OSError):
        imports.import_job_run(job.pk)
    assert_disk_full()
    monkeypatch.setattr(imports, "AnnotatedWriter", real_writer)
    monkeypatch.setattr(imports, "write_annotated", disk_full)
    with pytest.raises(OSError):
        rerun(job, django_capture_on_commit_callbacks)
    assert_disk_full()
    monkeypatch.setattr(imports, "write_annotated", real_write)
    rerun(job, django_capture_on_commit_callbacks)
    assert_exact(job)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="terminates its own PostgreSQL backend")
def test_database_backend_killed_in_the_middle_of_a_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks
) -> None:
    """The real thing on PostgreSQL: the server ends the import's connection (as a restart or a cut network
    does) while the batch is being written. Batches are written two at a time here, each on its own connection
    (imports._Writers), and commit in order: the first batch is in, the ones after the second are not."""
    _city, _district, school = school_a_from_scratch()
    monkeypatch.setattr(imports, "BATCH_SIZE", BATCH)
    job = queued_job(school, source_file(tmp_path))
    real = imports.insert_and_update
    writers: list[int] = []
    real_writers = imports._Writers

    class Writers(real_writers):  # type: ignore[misc, valid-type]
        def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            super().__init__(*args, **kwargs)
            writers.append(len(self._threads))

    def killed_in_the_second_batch(stamp, inserts, updates):  # type: ignore[no-untyped-def]
        if any(row[-1] == BATCH + 2 for row in inserts):  # the row's sheet number is last: row 12 opens batch 2
            real(stamp, inserts, updates)
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        return real(stamp, inserts, updates)

    monkeypatch.setattr(imports, "insert_and_update", killed_in_the_second_batch)
    monkeypatch.setattr(imports, "_Writers", Writers)
    with pytest.raises(OperationalError):
        imports.import_job_run(job.pk)
    assert writers == [2]
    job.refresh_from_db()  # on a new connection
    assert (job.status, job.error_message) == (ImportJob.Status.FAILED, imports.SYSTEM_ERROR_MESSAGE)
    assert (job.committed_rows, job.created_count) == (BATCH, BATCH - 1)
    assert AdmissionRecord.objects.filter(import_job=job).count() == BATCH - 1
    monkeypatch.setattr(imports, "insert_and_update", real)
    rerun(job, django_capture_on_commit_callbacks)
    assert_exact(job)
