"""Set-based writes of admission rows for the import: one statement per batch, not one per row.

Django's ``bulk_create`` costs about 200 µs a row in Python (per-field preparation of model instances) and
``bulk_update`` builds a CASE expression per field and row that costs milliseconds a row; at 100,000 rows
those dominate an import. So the import writes plain tuples:
- PostgreSQL: ``COPY`` the new people straight into the table, and the existing 待报到 ones into a temporary
  staging table for one ``UPDATE … FROM``; the people of a batch are looked up by one array parameter;
- SQLite: ``executemany`` of one prepared INSERT and one prepared UPDATE (SQLite has no COPY; executemany
  runs the prepared statement in C).
Both run inside the batch's transaction (the caller's), so a batch is written whole or not at all. The rows
arrive as tuples with ``data`` already JSON text (made by the reader process, see ``records/reader.py``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from django.db import connection

from xueji.admissions.models import AdmissionRecord, ImportFailure
from xueji.records.reader import json_text

__all__ = ["INSERT_COLUMNS", "UPDATE_COLUMNS", "insert_and_update", "insert_failures", "json_text", "people_found"]

TABLE = AdmissionRecord._meta.db_table
FAILURE_TABLE = ImportFailure._meta.db_table
# Written on insert, in this order; an update writes the same except school, state and the creation fields.
INSERT_COLUMNS = (
    "school_id", "grade", "name", "id_type", "id_number", "gender", "birth_date", "offering_id", "direction_id",
    "admission_method", "state", "data", "import_job_id", "import_row", "created_by_id", "created_at", "updated_at",
)  # fmt: skip
UPDATE_COLUMNS = (
    "grade", "name", "gender", "birth_date", "offering_id", "direction_id", "admission_method", "data",
    "import_job_id", "import_row", "updated_at",
)  # fmt: skip
_STAGE = "xueji_admission_stage"
_STAGE_TYPES = {
    "school_id": "bigint", "grade": "smallint", "name": "varchar(50)", "id_type": "varchar(2)",
    "id_number": "varchar(40)", "gender": "varchar(1)", "birth_date": "date", "offering_id": "bigint",
    "direction_id": "bigint", "admission_method": "varchar(2)", "state": "varchar(16)", "data": "jsonb",
    "import_job_id": "bigint", "import_row": "integer", "created_by_id": "bigint",
    "created_at": "timestamptz", "updated_at": "timestamptz",
}  # fmt: skip


def insert_and_update(inserts: Sequence[Sequence[Any]], updates: Sequence[Sequence[Any]]) -> None:
    """Insert new records and update existing ones. ``inserts`` are tuples in INSERT_COLUMNS order,
    ``updates`` tuples in UPDATE_COLUMNS order followed by the record's id; ``data`` is JSON text, the birth
    date ISO text (or None), the two times one datetime of the batch."""
    if connection.vendor == "postgresql":
        _postgres(inserts, updates)
    else:
        _generic(inserts, updates)


def _generic(inserts: Sequence[Sequence[Any]], updates: Sequence[Sequence[Any]]) -> None:
    adapt_time = functools.lru_cache(maxsize=8)(connection.ops.adapt_datetimefield_value)  # one "now" per batch
    times = [i for i, c in enumerate(INSERT_COLUMNS) if c in ("created_at", "updated_at")]
    update_time = UPDATE_COLUMNS.index("updated_at")
    with connection.cursor() as cursor:
        if inserts:
            rows = [list(row) for row in inserts]
            for row in rows:
                for i in times:
                    row[i] = adapt_time(row[i])
            columns = ", ".join(INSERT_COLUMNS)
            marks = ", ".join(["%s"] * len(INSERT_COLUMNS))
            cursor.executemany(f"INSERT INTO {TABLE} ({columns}) VALUES ({marks})", rows)
        if updates:
            rows = [list(row) for row in updates]
            for row in rows:
                row[update_time] = adapt_time(row[update_time])
            assignments = ", ".join(f"{c} = %s" for c in UPDATE_COLUMNS)
            cursor.executemany(f"UPDATE {TABLE} SET {assignments} WHERE id = %s", rows)


def _postgres(inserts: Sequence[Sequence[Any]], updates: Sequence[Sequence[Any]]) -> None:
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor, for COPY
        # The batch and the job's counters commit together, so a commit lost in a server crash is simply
        # redone when the job resumes: no need to wait for each batch to reach the disk.
        cursor.execute("SET LOCAL synchronous_commit TO OFF")
        if inserts:
            # New people go straight into the table (a person inserted meanwhile by someone else breaks the
            # unique constraint, and the caller decides the batch again).
            with raw.copy(f"COPY {TABLE} ({', '.join(INSERT_COLUMNS)}) FROM STDIN") as copy:
                write = copy.write_row
                for row in inserts:
                    write(row)
        if updates:
            definition = ", ".join([*(f"{c} {_STAGE_TYPES[c]}" for c in UPDATE_COLUMNS), "existing_id bigint"])
            # Per connection, emptied by every commit: each batch stages only its own rows.
            cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGE} ({definition}) ON COMMIT DELETE ROWS")
            with raw.copy(f"COPY {_STAGE} ({', '.join([*UPDATE_COLUMNS, 'existing_id'])}) FROM STDIN") as copy:
                write = copy.write_row
                for row in updates:
                    write(row)
            assignments = ", ".join(f"{c} = s.{c}" for c in UPDATE_COLUMNS)
            # By the primary key, row by row: the staging table has no statistics, and a hash or merge join
            # would read the whole table once per batch (an import of 100,000 updates took 5x as long).
            cursor.execute("SET LOCAL enable_hashjoin TO OFF")
            cursor.execute("SET LOCAL enable_mergejoin TO OFF")
            cursor.execute(f"UPDATE {TABLE} t SET {assignments} FROM {_STAGE} s WHERE t.id = s.existing_id")


def people_found(numbers: Sequence[str]) -> list[tuple[int, str, str, int, str]]:
    """(id, id_type, id_number, school_id, state) of the records with these ID numbers, locked until the
    transaction ends on PostgreSQL (on SQLite the write lock does the same). One statement with the numbers
    as one parameter: the ORM's IN list of 1,000 placeholders cost more than the lookup itself."""
    query = f"SELECT id, id_type, id_number, school_id, state FROM {TABLE} WHERE id_number "
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Without fresh statistics (a table growing by 100,000 rows in one import) the planner takes the
            # 1,000 numbers to match most of the table and scans all of it, once per batch: a lookup by the
            # unique index is always right here.
            cursor.execute("SET LOCAL enable_seqscan TO OFF")
            cursor.execute(query + "= ANY(%s::text[]) FOR UPDATE", [list(numbers)])
            rows = cursor.fetchall()
            cursor.execute("RESET enable_seqscan")
            return rows
        else:
            cursor.execute(query + "IN (SELECT value FROM json_each(%s))", [orjson.dumps(list(numbers)).decode()])
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
