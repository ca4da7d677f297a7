"""The background import (导入名单): upload → job → batches → counts and a failure workbook.

Rows are validated by the same code as the pre-check and written in batches, each batch in one
transaction together with its failures and the job's counters. A worker that dies mid-job therefore
leaves whole batches only; the job is claimed again (its heartbeat goes stale) and resumes after the last
committed row, so the final counts are exact and nothing is written twice.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import hashlib
import logging
import queue
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path
from typing import Any, BinaryIO, NoReturn

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from xueji.admissions.bulk import Stamp, insert_and_update, insert_failures, people_found
from xueji.admissions.models import ImportJob
from xueji.admissions.services import ExistingPerson, SchoolChoices, conflict_error
from xueji.audit.services import audit_record
from xueji.jobs import job_claim, jobs_requeue_stale
from xueji.orgs.models import School, User
from xueji.orgs.selectors import school_catalog
from xueji.records.check import AnnotatedWriter, CheckReport, RowReport, write_annotated
from xueji.records.context import RowContext
from xueji.records.reader import BatchReader, Row
from xueji.records.validator import ERROR, FieldError
from xueji.records.workbook import (
    DEFAULT_LIMITS,
    Table,
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
# Files from this size on are read and validated in a child process while this one writes (reader.py); a
# small file is done before a process would have started.
READER_PROCESS_MIN_BYTES = 512 * 1024
# An xlsx from this size on (about 15,000 rows) is parsed by two reader processes, half of the sheet each
# (records/split.py): the parse is the longest step of a large import, and one core would do it alone.
READER_SPLIT_MIN_BYTES = 4 * 1024 * 1024
# The upload was inflated once to prove its declared sizes when it was stored (import_job_create), and the
# stored file is only ever written there: the job reads it without inflating every entry a second time.
RUN_LIMITS = replace(DEFAULT_LIMITS, verify_unpacked=False)
BATCH_ATTEMPTS = 3  # a batch that loses a race with another import of the same person is read again
WRITER_THREADS = 2  # batches written at once on PostgreSQL (_Writers)


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


def _write_batch(
    job: ImportJob,
    school: School,
    choices: SchoolChoices,
    batch: list[Row],
    after: Future[Any] | None = None,
) -> list[tuple[int, list[FieldError]]]:
    """Save one batch with its failures and counters, atomically; commit only after the batch ``after`` (when
    given) has committed. Another import (or a registrar at the form) may create the same person between our
    read and our insert: the unique constraint then refuses the whole batch, and it is simply read and decided
    again."""
    for attempt in range(BATCH_ATTEMPTS):
        try:
            return _write_batch_once(job, school, choices, batch, after)
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


def _write_batch_once(
    job: ImportJob, school: School, choices: SchoolChoices, batch: list[Row], after: Future[Any] | None
) -> list[tuple[int, list[FieldError]]]:
    """Returns the rows that failed with their reasons, in file order."""
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
        if after is not None:
            after.result()  # the batch before commits first (or, failing, rolls this one back)
        ImportJob.objects.filter(pk=job.pk).update(
            committed_rows=F("committed_rows") + len(batch),
            processed_rows=F("committed_rows") + len(batch),
            created_count=F("created_count") + len(inserts),
            updated_count=F("updated_count") + len(updates),
            failed_count=F("failed_count") + len(failures),
            heartbeat_at=timezone.now(),
        )
    return sorted(failures, key=lambda failure: failure[0])


class _Writers:
    """Batches written ``threads`` at a time, each thread with its own connection: writing is the server's work
    more than the job's, and one connection keeps one core of the server busy at most (measured: the job and its
    server backend together used one core while the second sat idle at the end of an import). With one thread
    (``_writer_threads``) a batch is written at once, in the caller's thread and on its connection.

    Each batch commits only after the one before it (``_write_batch``'s ``after``), so the committed batches are
    always the first N and a resumed job still skips a prefix of the file. Two batches never hold the same
    person: a repeated ID number is a failure before any batch is written (reader.BatchReader)."""

    def __init__(self, job: ImportJob, school: School, choices: SchoolChoices, threads: int):
        self.job, self.school, self.choices, self.threads = job, school, choices, threads
        self._queues: list[queue.SimpleQueue[tuple[list[Row], Future[Any], Future[Any] | None] | None]] = []
        self._threads: list[threading.Thread] = []
        for index in range(threads if threads > 1 else 0):
            work: queue.SimpleQueue[tuple[list[Row], Future[Any], Future[Any] | None] | None] = queue.SimpleQueue()
            thread = threading.Thread(target=self._serve, args=(work,), name=f"xueji-import-writer-{index}")
            thread.start()
            self._queues.append(work)
            self._threads.append(thread)
        self._previous: Future[Any] | None = None
        self._turn = 0

    def submit(self, batch: list[Row]) -> Future[Any]:
        done: Future[Any] = Future()
        if not self._queues:
            done.set_result(_write_batch(self.job, self.school, self.choices, batch))
            return done
        self._queues[self._turn % len(self._queues)].put((batch, done, self._previous))
        self._turn += 1
        self._previous = done
        return done

    def _serve(self, work: queue.SimpleQueue[tuple[list[Row], Future[Any], Future[Any] | None] | None]) -> None:
        try:
            while (item := work.get()) is not None:
                batch, done, after = item
                try:
                    done.set_result(_write_batch(self.job, self.school, self.choices, batch, after))
                except BaseException as error:
                    done.set_exception(error)
        finally:
            connection.close()  # this thread's own connection

    def close(self) -> None:
        for work in self._queues:
            work.put(None)
        for thread in self._threads:
            thread.join()


def _writer_threads() -> int:
    """How many batches to write at once: two on PostgreSQL; one on SQLite (one writer at a time), and inside a
    transaction (tests), where another connection would not see the caller's data."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return 1
    return WRITER_THREADS


class FailureWorkbook:
    """The failure workbook (失败数据), written as the batches are written instead of all at the end, so that
    the import does not finish with a second of writing while the reader processes sit idle.

    A batch's failed rows are written once the cells of all of them are here: those of rows with errors come
    with the batch, those of rows the job refused come back from the reader after the acknowledgement
    (``fill``), in the order of the acknowledgements. Rows go out in file order. A full disk is kept until
    ``close``: the import goes on, and only the workbook is missing."""

    def __init__(self, table: Table, target: Path):
        self.table, self.target = table, target
        self._writer: AnnotatedWriter | None = None
        self._pending: deque[tuple[list[tuple[int, list[FieldError]]], dict[int, list[object]]]] = deque()
        self._owed: deque[dict[int, list[object]]] = deque()  # the cells of the batches waiting for the reader
        self._error: OSError | None = None

    def add(self, failed: list[tuple[int, list[FieldError]]], cells: dict[int, list[object]]) -> None:
        """A written batch's failed rows (number and reasons, in file order) and the cells at hand."""
        if not failed:
            return
        self._pending.append((failed, cells))
        if any(number not in cells for number, _reasons in failed):
            self._owed.append(cells)
        self._flush()

    def fill(self, answers: list[list[tuple[int, list[object]]]]) -> None:
        """The refused rows' cells, one list per batch that had some, in batch order."""
        for answer in answers:
            self._owed.popleft().update(answer)
        self._flush()

    def _flush(self) -> None:
        while self._pending and all(number in self._pending[0][1] for number, _ in self._pending[0][0]):
            failed, cells = self._pending.popleft()
            if self._error is not None:
                continue
            try:
                if self._writer is None:
                    self._writer = AnnotatedWriter(self.table, self.target, only_failed=True)
                for number, reasons in failed:
                    self._writer.row(number, cells[number], RowReport(number, reasons))
            except OSError as error:
                self._error = error
                self._writer = None

    def close(self) -> None:
        """Write the file out (raises what writing it met, leaving no half-written file)."""
        assert not self._pending, "failed rows whose cells never came back"
        try:
            if self._error is not None:
                raise self._error
            if self._writer is not None:
                self._writer.close()
        except OSError as error:
            self._writer = None
            _unwritten(error, self.target)

    def discard(self) -> None:
        self._writer = None
        self.target.unlink(missing_ok=True)


def _failure_report(job: ImportJob) -> CheckReport:
    report = CheckReport(file=job.original_name)
    for failure in job.failures.order_by("row_number"):
        errors = [
            FieldError(r["field"], r["label"], r["value"] or "", r["message"], r.get("severity") or ERROR)
            for r in failure.reasons
        ]
        report.rows.append(RowReport(failure.row_number, errors))
    return report


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while the rows go through. Every batch from the readers is some 15,000
    tuples and lists that live until it is written; with them the collector ran a full collection of the whole
    process (Django's models and app registry included) every few batches, 0.1-0.2 s of a 100,000-row import.
    The rows, batches and statements form no reference cycles: they are freed as they go, collector or not."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def import_job_run(job_id: int, *, progress: Callable[[ImportJob], None] | None = None) -> ImportJob:
    """Run (or resume) a job to its end. Safe to call for a job another worker holds: it then does nothing."""
    if not import_job_claim(job_id):
        return ImportJob.objects.get(pk=job_id)
    job = ImportJob.objects.select_related("school", "uploaded_by").get(pk=job_id)
    source = imports_dir() / job.stored_name
    failures: FailureWorkbook | None = None
    try:
        school = job.school
        choices = SchoolChoices.load(school)
        ctx = RowContext(school=school_catalog(school))
        skip = job.committed_rows
        # Every row is read and validated again on a resume (cheap), so that duplicates within the file are
        # still recognised; only rows after the committed ones are written.
        failure_file = f"{job.stored_name}-failures.xlsx"
        target = imports_dir() / failure_file
        with (
            BatchReader(
                source,
                ctx,
                skip=skip,
                columns=ROW_COLUMNS,
                batch_size=BATCH_SIZE,
                in_process=source.stat().st_size < READER_PROCESS_MIN_BYTES,
                limits=RUN_LIMITS,
                split_from_bytes=READER_SPLIT_MIN_BYTES,
            ) as reader,
            _collector_paused(),
        ):
            table = reader.info.table()
            total = table.estimated_rows
            if total is None:  # CSV: counting its lines is cheap
                total = sum(1 for _ in open_table(source).rows())
            ImportJob.objects.filter(pk=job.pk).update(total_rows=total, processed_rows=job.committed_rows)
            if progress:
                job.refresh_from_db()
                progress(job)
            # The failure workbook is written as the batches are. A resumed job has failures from before the
            # restart that are not here: it writes the workbook at the end from the file and the stored reasons.
            failures = FailureWorkbook(table, target) if skip == 0 else None
            written: deque[tuple[Future[Any], list[tuple[int, list[object]]]]] = deque()

            def finish_oldest() -> None:
                done, failed_cells = written.popleft()
                failed = done.result()
                cells = dict(failed_cells)
                reader.ack(number for number, _reasons in failed if number not in cells)
                if failures is not None:
                    failures.add(failed, cells)
                    failures.fill(reader.arrived())
                if progress:
                    job.refresh_from_db()
                    progress(job)

            writers = _Writers(job, school, choices, _writer_threads())
            try:
                for batch, failed_cells in reader:
                    written.append((writers.submit(batch), failed_cells))
                    while written and (len(written) > writers.threads or written[0][0].done()):
                        finish_oldest()
                while written:
                    finish_oldest()
            finally:
                writers.close()
            count, owed = reader.finish()
        ImportJob.objects.filter(pk=job.pk).update(total_rows=count)
        job.refresh_from_db()
        if progress:
            progress(job)
        if not job.failed_count:
            failure_file = ""
            if failures is not None:
                failures.discard()
        elif failures is not None:
            failures.fill(owed)
            failures.close()
        else:
            try:
                write_annotated(source, _failure_report(job), target, only_failed=True)
            except OSError as error:
                _unwritten(error, target)
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
        # The file itself cannot be read, and running it again cannot help. Mostly this is found before any row
        # is written; found part way (more rows than allowed in an xlsx), the batches before it stay written and
        # the message says so.
        if failures is not None:
            failures.discard()
        job.refresh_from_db()
        message = error.message
        if job.committed_rows:
            message = PART_WRITTEN_MESSAGE.format(message=error.message.rstrip("。"), rows=job.committed_rows)
        _fail(job, message)
        source.unlink(missing_ok=True)
        job.refresh_from_db()  # the caller (``xueji import``) reports the job's final state
        return job
    except _DiskFull:
        logger.exception("import job %s: no space left for the failure workbook", job_id)
        _fail(job, DISK_FULL_MESSAGE)
        raise
    except Exception:
        # Whole batches only were committed; the upload is kept so that 重新运行 resumes after them.
        if failures is not None:
            failures.discard()
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
PART_WRITTEN_MESSAGE = (
    "{message}。在此之前的{rows}行已经处理（新增、更新、失败的数目见本任务）；修改文件后重新导入即可，"
    "已导入的学生会被更新，不会重复。"
)
DISK_FULL_MESSAGE = (
    "服务器磁盘空间不足，无法写出失败数据文件。所有行已导入完毕、数据已保存；"
    "请联系系统管理员清理磁盘后点“重新运行”，只补写失败数据文件，不会重复导入。"
)


class _DiskFull(OSError):
    """No space left on the device for the failure workbook."""


def _unwritten(error: OSError, target: Path) -> NoReturn:
    """The failure workbook could not be written: remove what there is of it (a half-written workbook is never
    offered for download) and raise, as _DiskFull when the disk is full."""
    target.unlink(missing_ok=True)
    if error.errno == errno.ENOSPC:
        raise _DiskFull from error
    raise error


def _fail(job: ImportJob, message: str) -> None:
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.FAILED, error_message=message, finished_at=timezone.now()
    )


def import_failure_path(job: ImportJob) -> Path | None:
    if not job.failure_file:
        return None
    path = imports_dir() / job.failure_file
    return path if path.exists() else None
