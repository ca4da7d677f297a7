"""The databases a benchmark runs on: SQLite always, PostgreSQL when DATABASE_URL names a server (a fresh
database is made beside the one named, and dropped by the returned callback)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from typing import Any


def _postgres(base_url: str) -> tuple[str, Callable[[], None]]:
    import psycopg

    stem, _name = base_url.rsplit("/", 1)
    name = f"xueji_bench_{os.getpid()}"
    admin = f"{stem}/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return f"{stem}/{name}", drop


def targets() -> list[tuple[str, str, Callable[[], None] | None]]:
    """(label, DATABASE_URL, drop) for each database; "@DATA@" in a URL stands for the run's data folder.
    XUEJI_BENCH_SKIP_SQLITE=1 runs PostgreSQL only (when profiling it)."""
    found: list[tuple[str, str, Callable[[], None] | None]] = []
    if not os.environ.get("XUEJI_BENCH_SKIP_SQLITE"):
        found.append(("SQLite", "sqlite:///@DATA@/bench.sqlite3", None))
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        url, drop = _postgres(os.environ["DATABASE_URL"])
        found.append(("PostgreSQL", url, drop))
    return found


def django_setup(database_url: str, data_dir: str) -> None:
    """In a benchmark's child process: Django on that database, migrated, with the reference data loaded."""
    os.environ.update(DATABASE_URL=database_url, XUEJI_DATA_DIR=data_dir, DJANGO_SETTINGS_MODULE="xueji.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from xueji.reference.services import reference_load

    call_command("migrate", verbosity=0)
    reference_load()


def school_a():  # type: ignore[no-untyped-def]
    """Beijing, 东城 and school A (计算机应用 with 网络应用, 2026级, 2026级1班): (city, district, school, offering,
    school_class)."""
    from xueji.orgs.models import Direction, Grade, MajorOffering, Region, School, SchoolClass
    from xueji.reference.models import CatalogMajor

    city = Region.objects.create(code="110000", name="北京市", kind=Region.Kind.CITY)
    district = Region.objects.create(code="110101", name="东城区", kind=Region.Kind.DISTRICT, parent=city)
    school = School.objects.create(code="3111010001", name="东城职业教育中心", district=district)
    offering = MajorOffering.objects.create(school=school, major=CatalogMajor.objects.get(code="710201"))
    Direction.objects.create(offering=offering, name="网络应用")
    grade = Grade.objects.create(school=school, year=2026)
    school_class = SchoolClass.objects.create(school=school, grade=grade, offering=offering, name="2026级1班")
    return city, district, school, offering, school_class


def approved_students(school, offering, school_class, count: int) -> None:  # type: ignore[no-untyped-def]
    """``count`` approved students at ``school_a()``'s school, each with its admission record and one full, valid
    catalog row (as the import stores it) under its own name and ID number."""
    from datetime import date

    from tests.admissions.helpers import school_a_row
    from xueji.admissions.models import AdmissionRecord
    from xueji.admissions.services import json_value
    from xueji.orgs.selectors import school_catalog
    from xueji.records.context import RowContext
    from xueji.records.validator import RowValidator
    from xueji.students.models import State, Student

    clean, errors = RowValidator(RowContext(school=school_catalog(school))).validate(school_a_row(1))
    assert not [e for e in errors if e.severity == "error"], errors
    template = {key: json_value(value) for key, value in clean.items()}
    for start in range(0, count, 5000):
        numbers = [f"110101201001{n % 28 + 1:02d}{n:04d}" for n in range(start, min(count, start + 5000))]
        records = AdmissionRecord.objects.bulk_create(
            [
                AdmissionRecord(school=school, grade=2026, name=f"学生{n[-5:]}", id_type="1", id_number=n,
                                offering=offering, admission_method="1", state=AdmissionRecord.State.CHECKED_IN,
                                data={**template, "name": f"学生{n[-5:]}", "id_number": n})
                for n in numbers
            ]
        )  # fmt: skip
        Student.objects.bulk_create(
            [
                Student(school=school, admission=r, grade=2026, school_class=school_class, name=r.name, id_type="1",
                        id_number=r.id_number, birth_date=date(2010, 1, 1), offering=offering, admission_method="1",
                        data=r.data, state=State.APPROVED, student_no=f"G{r.id_number}")
                for r in records
            ]
        )  # fmt: skip


def run_children(script: str, args: list[str]) -> Iterator[tuple[str, Any, str]]:
    """Run ``script`` with ``args --child URL DATA_DIR`` once per database in ``targets()``, each in a fresh data
    folder (and a fresh PostgreSQL database, dropped afterwards); yield (label, the JSON of the child's last output
    line, the child's stderr)."""
    for label, url, drop in targets():
        try:
            with tempfile.TemporaryDirectory(prefix="xueji-bench-") as data_dir:
                out = subprocess.run(
                    [sys.executable, script, *args, "--child", url.replace("@DATA@", data_dir), data_dir],
                    check=True,
                    capture_output=True,
                    text=True,
                )
        finally:
            if drop:
                drop()
        yield label, json.loads(out.stdout.strip().splitlines()[-1]), out.stderr
