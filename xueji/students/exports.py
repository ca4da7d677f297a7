"""学籍管理 导出: the ticked columns of every student matching the list's filters, within the user's scope, as xlsx
or csv.

Small exports are written in the request; larger ones (``export_inline_limit``) by a background task with a
progress bar (``ExportJob``). Either way the rows come from ``students_visible_to`` + ``student_filter``, read
as tuples (``values_list(...).iterator()``, no model instances), personal data is masked for every role but
the registrar, text a spreadsheet would run as a formula is neutralised, and the export is one audit event
(who, filters, columns, row count).
"""

from __future__ import annotations

import csv
import io
import logging
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson
from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast
from django.http import HttpRequest
from django.utils import timezone

from xueji.admissions.selectors import HIDDEN, can_see_personal_data, is_personal_field, mask_id_number, mask_student_no
from xueji.audit.services import audit_record
from xueji.jobs import job_claim, job_files_sweep, jobs_requeue_stale
from xueji.orgs.models import User
from xueji.records.catalog import FIELDS, Kind
from xueji.records.check import neutralise
from xueji.records.codes import code_table, country_table
from xueji.records.workbook import write_text_sheet
from xueji.reference.models import CatalogMajor
from xueji.storage import private_dir
from xueji.students.models import ExportJob, State, Student
from xueji.students.selectors import student_filter, students_visible_to

logger = logging.getLogger(__name__)

FORMATS = ("xlsx", "csv")
FILTER_KEYS = ("school", "grade", "class", "major", "state", "source", "q")
PROGRESS_EVERY = 2000  # rows between two progress updates of a background export


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    group: str


# The student's own columns first (学校 for district and city users), then every catalog field in its order.
STATUS_GROUP = "学籍"
EXTRA_COLUMNS: tuple[Column, ...] = (
    Column("school", "学校", STATUS_GROUP),
    Column("state", "学籍状态", STATUS_GROUP),
    Column("student_no", "学籍号", STATUS_GROUP),
    Column("return_reason", "退回原因", STATUS_GROUP),
)
COLUMNS: tuple[Column, ...] = (*EXTRA_COLUMNS, *(Column(f.key, f.label, f.group or "其他") for f in FIELDS))
COLUMNS_BY_KEY = {c.key: c for c in COLUMNS}
DEFAULT_COLUMNS = ("state", "student_no", "name", "id_number", "gender", "grade", "major", "direction", "class_name")


def export_inline_limit() -> int:
    """Above this many rows an export runs in the background (a request should answer in seconds)."""
    return int(getattr(settings, "XUEJI_EXPORT_INLINE_ROWS", 5000))


def column_groups() -> list[tuple[str, list[Column]]]:
    groups: dict[str, list[Column]] = {}
    for column in COLUMNS:
        groups.setdefault(column.group, []).append(column)
    return list(groups.items())


def clean_columns(keys: Iterable[str]) -> list[str]:
    """The known columns among ``keys``, in the chooser's order, each once."""
    wanted = set(keys)
    return [c.key for c in COLUMNS if c.key in wanted]


def clean_filters(params: Mapping[str, str]) -> dict[str, str]:
    return {k: str(params.get(k, ""))[:40] for k in FILTER_KEYS if params.get(k)}


def export_queryset(user: User, filters: Mapping[str, str]) -> QuerySet[Student]:
    return student_filter(students_visible_to(user), filters)


# ---------------------------------------------------------------- rows

_STATE_LABELS = {state.value: str(state.label) for state in State}
# Positions in the tuples ``_rows`` reads.
_DATA, _STATE, _NO, _CLASS, _SCHOOL, _REASON = range(6)
_VALUES = ("data", "state", "student_no", "school_class__name", "school__name", "return_reason")


def _cell_function(key: str, show_personal: bool) -> Callable[[tuple[Any, ...]], str]:
    """How to turn one row tuple into the text of column ``key``: codes become names, personal data is masked,
    formula-like text is neutralised. Built once per export, called once per cell."""
    if key == "state":
        return lambda row: _STATE_LABELS.get(row[_STATE], row[_STATE])
    if key == "student_no":
        # A 学籍号 kept from the old system is whatever its file said.
        if show_personal:
            return lambda row: neutralise(row[_NO] or "")
        return lambda row: neutralise(mask_student_no(row[_NO]))
    if key == "school":
        return lambda row: neutralise(row[_SCHOOL] or "")
    if key == "return_reason":
        return lambda row: neutralise(row[_REASON] or "")
    if key == "class_name":  # the class the student is in now (the column), not the one typed at admission
        return lambda row: neutralise(row[_CLASS] or "")
    spec = next(f for f in FIELDS if f.key == key)
    if spec.kind is Kind.ID_NUMBER and not show_personal:
        return lambda row: mask_id_number(str(row[_DATA].get(key) or ""))
    if is_personal_field(spec) and not show_personal:
        return lambda row: HIDDEN if row[_DATA].get(key) not in (None, "") else ""
    names: Mapping[str, str] | None = None
    if spec.kind is Kind.CODE and spec.code_table:
        names = dict(code_table(spec.code_table).items)
    elif spec.kind is Kind.COUNTRY:
        names = dict(country_table().items)
    elif spec.kind is Kind.MAJOR:
        names = dict(CatalogMajor.objects.values_list("code", "name"))
    if names is not None:
        table = names

        def named(row: tuple[Any, ...]) -> str:
            value = row[_DATA].get(key)
            if value in (None, ""):
                return ""
            return table.get(value) or neutralise(str(value))

        return named

    def text(row: tuple[Any, ...]) -> str:
        value = row[_DATA].get(key)
        if value is None:
            return ""
        value = value if value.__class__ is str else str(value)
        return "'" + value if value and value[0] in "=+-@\t\r" else value

    return text


def export_rows(
    students: QuerySet[Student], columns: Sequence[str], *, show_personal: bool, chunk_size: int = 2000
) -> Iterator[list[str]]:
    """Each student as the texts of ``columns``, read in chunks of tuples: memory stays flat for any count."""
    cells = [_cell_function(key, show_personal) for key in columns]
    # ``data`` as text, parsed by orjson: the JSON field's own decoding (json.loads) was a quarter of the read.
    rows = (
        students.order_by("pk")
        .annotate(data_text=Cast("data", TextField()))
        .values_list("data_text", *_VALUES[1:])
        .iterator(chunk_size=chunk_size)
    )
    loads = orjson.loads
    for text, *rest in rows:
        row = (loads(text), *rest)
        yield [cell(row) for cell in cells]


def write_export(
    rows: Iterable[list[str]],
    columns: Sequence[str],
    file_format: str,
    out: str | Path | IO[bytes],
    *,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the header and ``rows`` as xlsx (``write_text_sheet``: streamed, strings never formulas) or csv
    (UTF-8 with a BOM, so that Excel reads the Chinese right). Returns the number of data rows."""
    headers = [COLUMNS_BY_KEY[key].label for key in columns]
    count = 0
    if file_format == "csv":
        stream: IO[str]
        if isinstance(out, str | Path):
            stream = open(out, "w", encoding="utf-8-sig", newline="")
        else:
            stream = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
        try:
            writer = csv.writer(stream)
            writer.writerow(headers)
            for row in rows:
                writer.writerow(row)
                count += 1
                if progress is not None and count % PROGRESS_EVERY == 0:
                    progress(count)
        finally:
            if isinstance(out, str | Path):
                stream.close()
            else:
                stream.flush()
                stream.detach()  # type: ignore[attr-defined]
        return count

    widths = [
        max(next((f.width for f in FIELDS if f.key == key), 12), len(COLUMNS_BY_KEY[key].label) * 2 + 2)
        for key in columns
    ]

    def reported() -> Iterator[list[str]]:
        for number, row in enumerate(rows, start=1):
            yield row
            if progress is not None and number % PROGRESS_EVERY == 0:
                progress(number)

    return write_text_sheet(out, sheet_name="学籍", headers=headers, rows=reported(), widths=widths)


# ---------------------------------------------------------------- the two ways to run it


def export_now(
    *,
    user: User,
    filters: Mapping[str, str],
    columns: Sequence[str],
    file_format: str,
    request: HttpRequest | None = None,
) -> tuple[bytes, int]:
    """A small export, written in the request: the file's bytes and its row count."""
    buffer = io.BytesIO()
    rows = export_rows(export_queryset(user, filters), columns, show_personal=can_see_personal_data(user))
    count = write_export(rows, columns, file_format, buffer)
    with transaction.atomic():
        audit_record(
            actor=user,
            action="student.export",
            after={
                "filters": dict(filters),
                "columns": list(columns),
                "format": file_format,
                "rows": count,
                "personal_data": can_see_personal_data(user),
            },
            request=request,
        )
    return buffer.getvalue(), count


def exports_dir() -> Path:
    return private_dir("exports")


def export_jobs_visible_to(user: User) -> QuerySet[ExportJob]:
    """An export holds its user's view of the data (masked or not): only that user sees it."""
    return ExportJob.objects.filter(user=user)


def export_job_create(
    *, user: User, filters: Mapping[str, str], columns: Sequence[str], file_format: str, total: int
) -> ExportJob:
    with transaction.atomic():
        job = ExportJob.objects.create(
            user=user, filters=dict(filters), columns=list(columns), file_format=file_format, total_rows=total
        )
        transaction.on_commit(lambda: enqueue_export(job.pk))
    return job


def enqueue_export(job_id: int) -> None:
    from xueji.students.tasks import run_export

    run_export.enqueue(job_id)


def _progress(job_id: int, rows: int) -> None:
    ExportJob.objects.filter(pk=job_id).update(processed_rows=rows, heartbeat_at=timezone.now())


def export_jobs_requeue_stale() -> int:
    """Queue again every running export whose worker went silent; the claim lets one worker redo it (an
    export only reads, so running it again from the start is safe)."""
    return jobs_requeue_stale(ExportJob, running=[ExportJob.Status.RUNNING], enqueue=enqueue_export)


def export_files_sweep(keep_days: int = 7) -> int:
    """Finished exports hold personal data: their files go after ``keep_days``; the job stays listed."""
    return job_files_sweep(ExportJob, folder=exports_dir(), keep_days=keep_days)


def export_job_run(job_id: int) -> None:
    """The background side: claim the job (a conditional update, so two workers never both run it), write the
    file with the user's scope and masking as they are now, report progress, then audit and finish."""
    if not job_claim(ExportJob, job_id, running=[ExportJob.Status.RUNNING], status=ExportJob.Status.RUNNING):
        return
    job = ExportJob.objects.select_related("user").get(pk=job_id)
    user = job.user
    stored = f"{uuid.uuid4().hex}.{job.file_format}"
    path = exports_dir() / stored
    students = export_queryset(user, job.filters)
    try:
        total = students.count()
        ExportJob.objects.filter(pk=job_id).update(total_rows=total)
        rows = export_rows(students, job.columns, show_personal=can_see_personal_data(user))
        count = write_export(
            rows,
            job.columns,
            job.file_format,
            path,
            progress=lambda n: _progress(job_id, n),
        )
    except Exception as error:  # the user sees that it failed; the log has the cause
        logger.exception("export job %s failed", job_id)
        path.unlink(missing_ok=True)
        ExportJob.objects.filter(pk=job_id).update(
            status=ExportJob.Status.FAILED,
            error_message=f"导出失败：{type(error).__name__}",
            finished_at=timezone.now(),
        )
        return
    with transaction.atomic():
        ExportJob.objects.filter(pk=job_id).update(
            status=ExportJob.Status.DONE,
            processed_rows=count,
            total_rows=count,
            stored_name=stored,
            finished_at=timezone.now(),
        )
        audit_record(
            actor=user,
            action="student.export",
            obj=job,
            after={
                "filters": dict(job.filters),
                "columns": list(job.columns),
                "format": job.file_format,
                "rows": count,
                "personal_data": can_see_personal_data(user),
                "background": True,
            },
        )


def export_file(job: ExportJob) -> Path | None:
    if job.status != ExportJob.Status.DONE or not job.stored_name:
        return None
    path = exports_dir() / job.stored_name
    return path if path.exists() else None
