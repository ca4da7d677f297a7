"""The import's set-based writes (bulk.py) store every value exactly as given: on PostgreSQL the rows are
written as COPY text lines made by hand, so backslashes, tabs, line breaks, quotes, NULLs and Chinese text
must come back unchanged, for new records and for updated ones."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from tests.admissions.helpers import KEYS, person_id, school_a_row
from tests.conftest import World
from tests.records.helpers import headers_for, write_xlsx
from xueji.admissions import imports
from xueji.admissions.bulk import Stamp, insert_and_update, json_text
from xueji.admissions.models import AdmissionRecord, ImportJob

AWKWARD = "a\tb\nc\rd\\e \\N \\. \"quoted\" 'single' 中文，全角\\"
SHORT = ["\t", "\\", "\n", "\r"]  # one character each, for the one- and two-character columns


def _stored(pk: int) -> tuple[object, ...]:
    return AdmissionRecord.objects.values_list(
        "grade", "name", "id_type", "id_number", "gender", "birth_date", "offering_id", "direction_id",
        "admission_method", "data", "import_row", "school_id", "state", "import_job_id", "created_by_id",
    ).get(pk=pk)  # fmt: skip


def test_awkward_values_are_stored_as_given(world: World) -> None:
    job = ImportJob.objects.create(school=world.school_a, uploaded_by=None, original_name="x.xlsx", stored_name="x")
    stamp = Stamp(school_id=world.school_a.pk, job_id=job.pk, creator_id=None, now=timezone.now())
    data = {"home_address": AWKWARD, "remarks": "\\N", "note": None, "list": ["\t", 1, "\\u4e2d"]}
    offering, direction = world.offering_a.pk, world.direction_a.pk
    rows = [
        (2026, AWKWARD, "\t", f"{AWKWARD}{n}"[-40:], SHORT[n], None, offering, None, SHORT[n - 1], json_text(data), n)
        for n in range(1, 4)
    ]  # fmt: skip
    with transaction.atomic():
        insert_and_update(stamp, rows, [])
    records = {r.import_row: r for r in AdmissionRecord.objects.filter(import_job=job)}
    for row in rows:
        record = records[row[-1]]
        assert _stored(record.pk) == (*row[:9], data, row[-1], world.school_a.pk, "pending", job.pk, None)
        assert record.created_at == record.updated_at == stamp.now
    later = Stamp(school_id=world.school_a.pk, job_id=job.pk, creator_id=world.registrar_a.pk, now=timezone.now())
    changed = {"home_address": "\\\\server\\share\t\n", "name": "张三"}
    updates = [
        (2025, f"{AWKWARD}!", "\\", "2010-03-07", offering, direction, "\r\n", json_text(changed), 7, record.pk)
        for record in records.values()
    ]
    with transaction.atomic():
        insert_and_update(later, [], updates)
    for grade, name, gender, _birth, offering_id, direction_id, method, _data, number, pk in updates:
        record = AdmissionRecord.objects.get(pk=pk)
        assert _stored(pk)[:11] == (
            grade, name, SHORT[0], record.id_number, gender, date(2010, 3, 7), offering_id, direction_id, method,
            changed, number,
        )  # fmt: skip
        assert (record.import_job_id, record.created_by_id, record.updated_at) == (job.pk, None, later.now)


def test_awkward_text_in_a_workbook_comes_back_unchanged_after_import_and_reimport(
    world: World, tmp_path: Path
) -> None:
    address = "C:\\学生\\家\t\"东门\" '2' 号\n\\N"
    school_b = {"major": "会计事务", "direction": "", "class_name": ""}  # a major without directions: NULL
    rows = [
        school_a_row(1, home_address=address, name="O'Brien Smith", **school_b),
        school_a_row(2, home_address="\\", **school_b),
    ]
    keys = [*KEYS, "home_address"]
    path = write_xlsx(tmp_path / "名单.xlsx", headers_for(keys), [[row.get(k, "") for k in keys] for row in rows])
    for run in range(2):  # new records, then the same people updated
        with path.open("rb") as stream:
            queued = imports.import_job_create(
                actor=world.registrar_b, school=world.school_b, stream=stream, file_name=path.name, enqueue=False
            )
        job = imports.import_job_run(queued.pk)
        assert (job.created_count, job.updated_count, job.failed_count) == ((2, 0, 0) if run == 0 else (0, 2, 0))
        first, second = (AdmissionRecord.objects.get(id_number=person_id(n)) for n in (1, 2))
        assert (first.name, first.data["name"], first.data["home_address"]) == (
            "O'Brien Smith",
            "O'Brien Smith",
            address,
        )
        assert (second.name, second.data["home_address"]) == (rows[1]["name"], "\\")
        assert first.direction_id is None and second.direction_id is None
        assert (first.import_job_id, second.import_job_id, first.created_by_id) == (
            job.pk,
            job.pk,
            world.registrar_b.pk,
        )
