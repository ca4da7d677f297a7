"""The background import (导入名单): upload → job → batches → counts and a failure workbook.

Rows are validated by the same code as the pre-check and written in batches, each batch in one
transaction together with its failures and the job's counters. A worker that dies mid-job therefore
leaves whole batches only; the job is claimed again (its heartbeat goes stale) and resumes after the last
committed row, so the final counts are exact and nothing is written twice.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from xueji.admissions.bulk import Stamp, insert_and_update, insert_failures, people_found
from xueji.admissions.models import ImportJob
from xueji.admissions.services import ExistingPerson, SchoolChoices, conflict_error
from xueji.audit.services import audit_record
from xueji.jobs import job_claim, jobs_requeue_stale
from xueji.orgs.models import School, User
from xueji.orgs.selectors import school_catalog
from xueji.records.check import CheckReport, RowReport, write_annotated
from xueji.records.context import RowContext
from xueji.records.reader import BatchReader, Row
from xueji.records.validator import ERROR, FieldError
from xueji.records.workbook import (
    DEFAULT_LIMITS,
    WorkbookError,
    check_archive,
    check_size,
    open_table,
    save_upload,
    sniff_format,
)
from xueji.storage import private_dir

logger = logging.getLogger(__name__)

BATCH_SIZE = settings.XUEJI_IMPORT_BATCH_SIZE
KEEP_FAILED_ROWS = 20_000
# Files from this size on are read and validated in a child process while this one writes (reader.py); a
# small file is done before a process would have started.
READER_PROCESS_MIN_BYTES = 512 * 1024
# The upload was inflated once to prove its declared sizes when it was stored (import_job_create), and the
# stored file is only ever written there: the job reads it without inflating every entry a second time.
RUN_LIMITS = replace(DEFAULT_LIMITS, verify_unpacked=False)
BATCH_ATTEMPTS = 3  # a batch that loses a race with another import of the same person is read again


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def imports_dir() -> Path:
    return private_dir("imports")


def import_job_create(
    *, actor: User | None, school: School, stream: BinaryIO, file_name: str, enqueue: bool = True
) -> ImportJob:
    """Store the upload and queue the job. Size and type are checked now, so a wrong file is refused at once
    (``WorkbookError``) instead of failing later in the background."""
    stored = f"{uuid.uuid4().hex}{Path(file_name).suffix.lower()[:8]}"
    path = imports_dir() / stored
    try:
        save_upload(stream, path)
        check_size(path)
        if sniff_format(path) in ("xlsx", "ods"):
            check_archive(path)
    except WorkbookError:
        path.unlink(missing_ok=True)
        raise
    with transaction.atomic():
        job = ImportJob.objects.create(
            school=school,
            uploaded_by=actor,
            original_name=file_name[:255],
            stored_name=stored,
            size=path.stat().st_size,
            sha256=file_sha256(path),
        )
        audit_record(actor=actor, action="import.upload", obj=job, after={"file": job.original_name})
        if enqueue:
            transaction.on_commit(lambda: enqueue_import(job.pk))
    return job


def enqueue_import(job_id: int) -> None:
    from xueji.admissions.tasks import run_import

    run_import.enqueue(job_id)


def import_job_claim(job_id: int) -> bool:
    """Take the job for this worker: a queued job, or a running one whose worker went silent. The
    conditional update makes two workers racing for the same job agree on one winner."""
    return job_claim(
        ImportJob,
        job_id,
        running=[ImportJob.Status.RUNNING],
        status=ImportJob.Status.RUNNING,
        started_at=timezone.now(),
        attempts=F("attempts") + 1,
    )


def _keep(
    kept: list[tuple[int, list[object]]] | None, failed: list[tuple[int, list[object]]]
) -> list[tuple[int, list[object]]] | None:
    if kept is None:
        return None
    kept.extend(failed)
    return kept if len(kept) <= KEEP_FAILED_ROWS else None  # too many to hold: read the file again at the end


def _write_batch(job: ImportJob, school: School, choices: SchoolChoices, batch: list[Row]) -> list[int]:
    """Save one batch with its failures and counters, atomically. Another import (or a registrar at the form)
    may create the same person between our read and our insert: the unique constraint then refuses the whole
    batch, and it is simply read and decided again."""
    for attempt in range(BATCH_ATTEMPTS):
        try:
            return _write_batch_once(job, school, choices, batch)
        except IntegrityError:
            if attempt == BATCH_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


# The clean values the reader hands over for each good row, in this order (besides the whole row as JSON).
ROW_COLUMNS = (
    "grade",
    "name",
    "id_type",
    "id_number",
    "gender",
    "birth_date",
    "admission_method",
    "major",
    "direction",
)


def _write_batch_once(job: ImportJob, school: School, choices: SchoolChoices, batch: list[Row]) -> list[int]:
    """Returns the row numbers that failed, in file order."""
    failures: list[tuple[int, list[FieldError]]] = []
    good: list[tuple[int, tuple[Any, ...], str | None, list[FieldError]]] = []
    for number, values, data, errors in batch:
        if values is None:
            failures.append((number, errors))
        else:
            good.append((number, values, data, errors))
    stamp = Stamp(school_id=school.pk, job_id=job.pk, creator_id=job.uploaded_by_id, now=timezone.now())
    offerings = {code: offering.pk for code, offering in choices.offerings.items()}
    directions = {key: direction.pk for key, direction in choices.directions.items()}
    with transaction.atomic():
        found = {
            (id_type, number): ExistingPerson(pk, sid, state)
            for pk, id_type, number, sid, state in people_found(sorted({values[3] for _n, values, _d, _e in good}))
        }
        inserts: list[tuple[object, ...]] = []
        updates: list[tuple[object, ...]] = []
        for number, values, data, errors in good:
            grade, name, id_type, id_number, gender, birth, method, major, direction = values
            offering_id = offerings[major]
            direction_id = directions.get((offering_id, direction)) if direction else None
            existing = found.get((id_type, id_number))
            if existing is None:
                inserts.append(
                    (int(grade), name, id_type, id_number, gender or "", birth, offering_id, direction_id, method,
                     data, number)
                )  # fmt: skip
                continue
            conflict = existing.conflict_with(school)
            if conflict is not None:
                failures.append((number, [*errors, conflict_error(conflict, str(id_number))]))
                continue
            updates.append(
                (int(grade), name, gender or "", birth, offering_id, direction_id, method, data, number, existing.pk)
            )
        insert_and_update(stamp, inserts, updates)
        insert_failures(job.pk, [(number, [e.to_dict() for e in reasons]) for number, reasons in failures])
        ImportJob.objects.filter(pk=job.pk).update(
            committed_rows=F("committed_rows") + len(batch),
            processed_rows=F("committed_rows") + len(batch),
            created_count=F("created_count") + len(inserts),
            updated_count=F("updated_count") + len(updates),
            failed_count=F("failed_count") + len(failures),
            heartbeat_at=timezone.now(),
        )
    return sorted(number for number, _reasons in failures)


def _failure_report(job: ImportJob) -> CheckReport:
    report = CheckReport(file=job.original_name)
    for failure in job.failures.order_by("row_number"):
        errors = [
            FieldError(r["field"], r["label"], r["value"] or "", r["message"], r.get("severity") or ERROR)
            for r in failure.reasons
        ]
        report.rows.append(RowReport(failure.row_number, errors))
    return report


def import_job_run(job_id: int, *, progress: Callable[[ImportJob], None] | None = None) -> ImportJob:
    """Run (or resume) a job to its end. Safe to call for a job another worker holds: it then does nothing."""
    if not import_job_claim(job_id):
        return ImportJob.objects.get(pk=job_id)
    job = ImportJob.objects.select_related("school", "uploaded_by").get(pk=job_id)
    source = imports_dir() / job.stored_name
    try:
        school = job.school
        choices = SchoolChoices.load(school)
        ctx = RowContext(school=school_catalog(school))
        skip = job.committed_rows
        # Every row is read and validated again on a resume (cheap), so that duplicates within the file are
        # still recognised; only rows after the committed ones are written.
        with BatchReader(
            source,
            ctx,
            skip=skip,
            columns=ROW_COLUMNS,
            batch_size=BATCH_SIZE,
            keep_limit=KEEP_FAILED_ROWS,
            in_process=source.stat().st_size < READER_PROCESS_MIN_BYTES,
            limits=RUN_LIMITS,
        ) as reader:
            table = reader.info.table()
            total = table.estimated_rows
            if total is None:  # CSV: counting its lines is cheap
                total = sum(1 for _ in open_table(source).rows())
            ImportJob.objects.filter(pk=job.pk).update(total_rows=total, processed_rows=job.committed_rows)
            if progress:
                job.refresh_from_db()
                progress(job)
            # The failed rows' cells, kept for the failure workbook so the file is read once. A resumed job
            # has failures from before the restart that are not here: it reads the file again for them.
            kept: list[tuple[int, list[object]]] | None = [] if skip == 0 else None
            for batch, failed_cells in reader:
                refused = _write_batch(job, school, choices, batch)
                invalid = {number for number, _cells in failed_cells}
                reader.ack(number for number in refused if number not in invalid)
                kept = _keep(kept, failed_cells)
                if progress:
                    job.refresh_from_db()
                    progress(job)
            count, refused_cells = reader.finish()
        if kept is not None:
            kept = None if refused_cells is None else _keep(kept, refused_cells)
        ImportJob.objects.filter(pk=job.pk).update(total_rows=count)
        job.refresh_from_db()
        if progress:
            progress(job)
        failure_file = ""
        if job.failed_count:
            failure_file = f"{job.stored_name}-failures.xlsx"
            report = _failure_report(job)
            target = imports_dir() / failure_file
            try:
                if kept is not None:
                    kept.sort(key=lambda row: row[0])
                    write_annotated(source, report, target, only_failed=True, table=table, rows=kept)
                else:
                    write_annotated(source, report, target, only_failed=True)
            except OSError as error:
                target.unlink(missing_ok=True)  # a half-written workbook is never offered for download
                if error.errno == errno.ENOSPC:
                    raise _DiskFull from error
                raise
        with transaction.atomic():
            ImportJob.objects.filter(pk=job.pk).update(
                status=ImportJob.Status.DONE,
                finished_at=timezone.now(),
                failure_file=failure_file,
                processed_rows=F("committed_rows"),
            )
            job.refresh_from_db()
            audit_record(
                actor=job.uploaded_by,
                action="import.done",
                obj=job,
                after={"created": job.created_count, "updated": job.updated_count, "failed": job.failed_count},
            )
    except WorkbookError as error:
        # The file itself cannot be read: nothing was written, and running it again cannot help.
        _fail(job, error.message)
        source.unlink(missing_ok=True)
        job.refresh_from_db()  # the caller (``xueji import``) reports the job's final state
        return job
    except _DiskFull:
        logger.exception("import job %s: no space left for the failure workbook", job_id)
        _fail(job, DISK_FULL_MESSAGE)
        raise
    except Exception:
        # Whole batches only were committed; the upload is kept so that 重新运行 resumes after them.
        logger.exception("import job %s failed", job_id)
        _fail(job, SYSTEM_ERROR_MESSAGE)
        raise
    source.unlink(missing_ok=True)
    return job


def import_job_can_rerun(job: ImportJob) -> bool:
    return job.status == ImportJob.Status.FAILED and (imports_dir() / job.stored_name).exists()


def import_job_requeue(job_id: int) -> bool:
    """重新运行 a job that failed on a system error (its upload is still there): it resumes, not restarts."""
    job = ImportJob.objects.get(pk=job_id)
    if not (imports_dir() / job.stored_name).exists():
        return False
    requeued = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.FAILED).update(
        status=ImportJob.Status.QUEUED, error_message=""
    )
    if requeued:
        transaction.on_commit(lambda: enqueue_import(job_id))
    return requeued == 1


def import_jobs_requeue_stale() -> int:
    """Queue again every running job whose worker went silent (killed, host lost); the claim decides."""
    return jobs_requeue_stale(ImportJob, running=[ImportJob.Status.RUNNING], enqueue=enqueue_import)


SYSTEM_ERROR_MESSAGE = "导入过程中出现系统错误，已记录。已完成的批次已保存，可点“重新运行”从中断处继续，不会重复。"
DISK_FULL_MESSAGE = (
    "服务器磁盘空间不足，无法写出失败数据文件。所有行已导入完毕、数据已保存；"
    "请联系系统管理员清理磁盘后点“重新运行”，只补写失败数据文件，不会重复导入。"
)


class _DiskFull(OSError):
    """No space left on the device for the failure workbook."""


def _fail(job: ImportJob, message: str) -> None:
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.FAILED, error_message=message, finished_at=timezone.now()
    )


def import_failure_path(job: ImportJob) -> Path | None:
    if not job.failure_file:
        return None
    path = imports_dir() / job.failure_file
    return path if path.exists() else None
