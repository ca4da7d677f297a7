"""Set-based writes of admission rows for the import: one statement per batch, not one per row.

Django's ``bulk_create`` costs about 200 µs a row in Python (per-field preparation of model instances) and
``bulk_update`` builds a CASE expression per field and row that costs milliseconds a row; at 100,000 rows
those dominate an import. So the import writes plain tuples:
- PostgreSQL: ``COPY`` the new people straight into the table, and the existing 待报到 ones into a temporary
  staging table for one ``UPDATE … FROM``; the people of a batch are looked up by one array parameter;
- SQLite: ``executemany`` of one prepared INSERT and one prepared UPDATE (SQLite has no COPY; executemany
  runs the prepared statement in C).
Both run inside the batch's transaction (the caller's), so a batch is written whole or not at all. The rows
arrive as tuples of what differs from row to row, with ``data`` already JSON text (made by the reader process,
see ``records/reader.py``); what a batch's rows share (school, job, creator, time) comes once, as a ``Stamp``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from django.db import connection

from xueji.admissions.models import AdmissionRecord, ImportFailure
from xueji.records.reader import json_text

__all__ = [
    "CHANGED_COLUMNS",
    "NEW_COLUMNS",
    "Stamp",
    "insert_and_update",
    "insert_failures",
    "json_text",
    "people_found",
]

TABLE = AdmissionRecord._meta.db_table
FAILURE_TABLE = ImportFailure._meta.db_table
# What differs from row to row, in this order: a new record's columns, and an existing one's (followed by its id).
NEW_COLUMNS = (
    "grade", "name", "id_type", "id_number", "gender", "birth_date", "offering_id", "direction_id",
    "admission_method", "data", "import_row",
)  # fmt: skip
CHANGED_COLUMNS = (
    "grade", "name", "gender", "birth_date", "offering_id", "direction_id", "admission_method", "data", "import_row",
)  # fmt: skip
# What every row of a batch shares (``Stamp``): given once per batch, not in each row.
_NEW_STAMP = ("school_id", "state", "import_job_id", "created_by_id", "created_at", "updated_at")
_CHANGED_STAMP = ("import_job_id", "updated_at")
_PENDING = AdmissionRecord.State.PENDING.value
_STAGE = "xueji_admission_stage"
_STAGE_TYPES = {
    "grade": "smallint", "name": "varchar(50)", "gender": "varchar(1)", "birth_date": "date",
    "offering_id": "bigint", "direction_id": "bigint", "admission_method": "varchar(2)", "data": "json",
    "import_row": "integer",
}  # fmt: skip


@dataclass(frozen=True)
class Stamp:
    """What every row written by one batch shares: the school, the job, its uploader and the batch's time."""

    school_id: int
    job_id: int
    creator_id: int | None
    now: datetime


def insert_and_update(stamp: Stamp, inserts: Sequence[Sequence[Any]], updates: Sequence[Sequence[Any]]) -> None:
    """Insert new records (in 待报到) and update existing ones. ``inserts`` are tuples in NEW_COLUMNS order,
    ``updates`` tuples in CHANGED_COLUMNS order followed by the record's id; ``data`` is JSON text as
    ``json_text`` makes it, the birth date ISO text (or None)."""
    if connection.vendor == "postgresql":
        _postgres(stamp, inserts, updates)
    else:
        _generic(stamp, inserts, updates)


def _generic(stamp: Stamp, inserts: Sequence[Sequence[Any]], updates: Sequence[Sequence[Any]]) -> None:
    now = connection.ops.adapt_datetimefield_value(stamp.now)
    with connection.cursor() as cursor:
        if inserts:
            columns = ", ".join([*NEW_COLUMNS, *_NEW_STAMP])
            marks = ", ".join(["%s"] * (len(NEW_COLUMNS) + len(_NEW_STAMP)))
            new = (stamp.school_id, _PENDING, stamp.job_id, stamp.creator_id, now, now)
            cursor.executemany(f"INSERT INTO {TABLE} ({columns}) VALUES ({marks})", [(*row, *new) for row in inserts])
        if updates:
            assignments = ", ".join(f"{c} = %s" for c in (*_CHANGED_STAMP, *CHANGED_COLUMNS))
            changed = (stamp.job_id, now)
            cursor.executemany(f"UPDATE {TABLE} SET {assignments} WHERE id = %s", [(*changed, *row) for row in updates])


# COPY's text format: a tab between values, a newline after each row, \N for NULL, and a backslash, tab,
# newline or carriage return inside a value escaped by a backslash. The rows are written as whole lines
# because psycopg's ``write_row`` adapts value by value (0.9 s of Python for 97,000 rows of 17 values).
_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_NULL = "\\N"


def _text(value: str | None) -> str:
    """A text value for COPY (searching first: escaping every value cost three times as much)."""
    if value is None:
        return _NULL
    return value.translate(_COPY_ESCAPES) if _COPY_SPECIAL.search(value) else value


def _json(data: str) -> str:
    """JSON text for COPY: only its backslashes need escaping, as JSON has no raw control characters inside
    strings and ``json_text`` none between them."""
    return data.replace("\\", "\\\\")


def _id(value: int | None) -> int | str:
    return _NULL if value is None else value


def _postgres(stamp: Stamp, inserts: Sequence[Sequence[Any]], updates: Sequence[Sequence[Any]]) -> None:
    now = stamp.now.isoformat()
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor, for COPY
        # The batch and the job's counters commit together, so a commit lost in a server crash is simply
        # redone when the job resumes: no need to wait for each batch to reach the disk.
        cursor.execute("SET LOCAL synchronous_commit TO OFF")
        if inserts:
            shared = f"\t{stamp.school_id}\t{_PENDING}\t{stamp.job_id}\t{_id(stamp.creator_id)}\t{now}\t{now}\n"
            # New people go straight into the table (a person inserted meanwhile by someone else breaks the
            # unique constraint, and the caller decides the batch again).
            with raw.copy(f"COPY {TABLE} ({', '.join([*NEW_COLUMNS, *_NEW_STAMP])}) FROM STDIN") as copy:
                copy.write(
                    "".join(
                        [
                            f"{grade}\t{_text(name)}\t{_text(id_type)}\t{_text(id_number)}\t{_text(gender)}\t"
                            f"{_text(birth)}\t{offering}\t{_id(direction)}\t{_text(method)}\t{_json(data)}\t"
                            f"{number}{shared}"
                            for grade, name, id_type, id_number, gender, birth, offering, direction, method, data,
                            number in inserts
                        ]
                    )
                )  # fmt: skip
        if updates:
            definition = ", ".join([*(f"{c} {_STAGE_TYPES[c]}" for c in CHANGED_COLUMNS), "existing_id bigint"])
            # Per connection, emptied by every commit: each batch stages only its own rows.
            cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGE} ({definition}) ON COMMIT DELETE ROWS")
            with raw.copy(f"COPY {_STAGE} ({', '.join([*CHANGED_COLUMNS, 'existing_id'])}) FROM STDIN") as copy:
                copy.write(
                    "".join(
                        [
                            f"{grade}\t{_text(name)}\t{_text(gender)}\t{_text(birth)}\t{offering}\t{_id(direction)}\t"
                            f"{_text(method)}\t{_json(data)}\t{number}\t{existing}\n"
                            for grade, name, gender, birth, offering, direction, method, data, number, existing
                            in updates
                        ]
                    )
                )  # fmt: skip
            assignments = ", ".join(
                [*(f"{c} = s.{c}" for c in CHANGED_COLUMNS), *(f"{c} = %s" for c in _CHANGED_STAMP)]
            )
            # By the primary key, row by row: the staging table has no statistics, and a hash or merge join
            # would read the whole table once per batch (an import of 100,000 updates took 5x as long).
            cursor.execute("SET LOCAL enable_hashjoin TO OFF")
            cursor.execute("SET LOCAL enable_mergejoin TO OFF")
            cursor.execute(
                f"UPDATE {TABLE} t SET {assignments} FROM {_STAGE} s WHERE t.id = s.existing_id",
                [stamp.job_id, stamp.now],
            )


def people_found(numbers: Sequence[str]) -> list[tuple[int, str, str, int, str]]:
    """(id, id_type, id_number, school_id, state) of the records with these ID numbers, locked until the
    transaction ends on PostgreSQL (on SQLite the write lock does the same). One statement with the numbers
    as one parameter, JSON text: the ORM's IN list of 1,000 placeholders cost more than the lookup itself, and
    psycopg's adaptation of a list of 1,000 strings to an array twice as much Python as orjson's JSON (0.26 s
    against 0.15 s for 97,000 numbers, the server's work the same)."""
    query = f"SELECT id, id_type, id_number, school_id, state FROM {TABLE} WHERE id_number "
    numbers_json = orjson.dumps(list(numbers)).decode()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Without fresh statistics (a table growing by 100,000 rows in one import) the planner takes the
            # 1,000 numbers to match most of the table and scans all of it, once per batch: a lookup by the
            # unique index is always right here.
            cursor.execute("SET LOCAL enable_seqscan TO OFF")
            cursor.execute(
                query + "= ANY(ARRAY(SELECT jsonb_array_elements_text(%s::jsonb))) FOR UPDATE", [numbers_json]
            )
            rows = cursor.fetchall()
            cursor.execute("RESET enable_seqscan")
            return rows
        else:
            cursor.execute(query + "IN (SELECT value FROM json_each(%s))", [numbers_json])
        return cursor.fetchall()


def insert_failures(job_id: int, failures: Sequence[tuple[int, Sequence[Mapping[str, object]]]]) -> None:
    """The batch's failed rows (row number, reasons), skipping rows already recorded."""
    if not failures:
        return
    cast = "::jsonb" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {FAILURE_TABLE} (job_id, row_number, reasons) VALUES (%s, %s, %s{cast}) "
            "ON CONFLICT (job_id, row_number) DO NOTHING",
            [(job_id, number, orjson.dumps(reasons).decode()) for number, reasons in failures],
        )
