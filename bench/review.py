"""Benchmark: 学籍审核 at scale.

    .venv/bin/python bench/review.py [--students 50000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/review.py

Builds one district school with 50,000 students 审核中 at the school level (set up, not timed), then times:
returning 1,000 (校领导), approving all the rest at the school, district and city levels (the city's step
assigns every 学籍号), and the 学籍管理 list page with filters (median of 7 requests through Django's test
client, as the registrar). Each step also gives the CPU it used (this process plus, on PostgreSQL on this host,
its server backend): on a shared machine the wall time mostly measures the others' load. SQLite always;
PostgreSQL when DATABASE_URL is set (a fresh database beside the one named, dropped afterwards). Targets
(issue 5, PostgreSQL, 2 cores): approve 50,000 in under 3 s, list page under 150 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def child(database_url: str, data_dir: str, count: int) -> None:
    import bench_db  # type: ignore[import-not-found]

    bench_db.django_setup(database_url, data_dir)
    from datetime import date

    from django.db import connection
    from django.test import Client

    from xueji.admissions.models import AdmissionRecord
    from xueji.orgs.models import Role, User
    from xueji.students.models import State, Student
    from xueji.students.workflow import Action, transition_apply

    city, district, school, offering, _class = bench_db.school_a()
    scopes = {
        Role.REGISTRAR: {"school": school},
        Role.SCHOOL_LEADER: {"school": school},
        Role.DISTRICT_REVIEWER: {"region": district},
        Role.CITY_ADMIN: {"region": city},
    }
    users = {
        role: User.objects.create(username=role.value, role=role, must_change_password=False, **scopes[role])
        for role in Role
    }
    data = {"name": "", "ethnicity": "01", "nationality": "CHN", "phone": "13800138000", "guardian_name": "张建国"}
    for start in range(0, count, 5000):
        numbers = [f"110101201001{n % 28 + 1:02d}{n:04d}" for n in range(start, min(count, start + 5000))]
        records = AdmissionRecord.objects.bulk_create(
            [
                AdmissionRecord(school=school, grade=2026, name=f"学生{n}", id_type="1", id_number=n, offering=offering,
                                admission_method="1", state=AdmissionRecord.State.CHECKED_IN, data=data)
                for n in numbers
            ]
        )  # fmt: skip
        Student.objects.bulk_create(
            [
                Student(school=school, admission=r, grade=2026, name=r.name, id_type="1", id_number=r.id_number,
                        birth_date=date(2010, 1, 1), offering=offering, admission_method="1", data=data,
                        state=State.REVIEW_SCHOOL)
                for r in records
            ]
        )  # fmt: skip

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # what autovacuum does after a bulk load, before anyone reviews
    timings: dict[str, float] = {}
    backend_cpu = _backend_cpu(connection)

    def timed(label: str, function):  # type: ignore[no-untyped-def]
        started, cpu = time.perf_counter(), time.process_time() + backend_cpu()
        result = function()
        timings[label] = time.perf_counter() - started
        # CPU of this process and of its PostgreSQL backend: on a shared machine the wall time mostly measures
        # the others' load; this measures the work.
        timings[f"  cpu: {label}"] = time.process_time() + backend_cpu() - cpu
        return result

    in_school = Student.objects.filter(school=school)
    returned = list(in_school.order_by("pk").values_list("pk", flat=True)[:1000])
    timed(
        "return 1,000 (school)",
        lambda: transition_apply(actor=users[Role.SCHOOL_LEADER], action=Action.RETURN,
                                 students=in_school.filter(pk__in=returned), reason="照片不清晰"),
    )  # fmt: skip
    approved = count - len(returned)
    for label, role in (
        ("school", Role.SCHOOL_LEADER),
        ("district", Role.DISTRICT_REVIEWER),
        ("city", Role.CITY_ADMIN),
    ):
        result = timed(
            f"approve {approved:,} ({label})",
            lambda role=role: transition_apply(actor=users[role], action=Action.APPROVE, students=in_school),
        )
        assert len(result.done) == approved, (label, len(result.done))
    assert Student.objects.filter(student_no__startswith="G").count() == approved

    client = Client()
    client.force_login(users[Role.REGISTRAR])
    samples = []
    for _ in range(7):
        started = time.perf_counter()
        response = client.get("/students/", {"grade": "2026", "state": "approved", "q": "学生1"}, HTTP_HOST="127.0.0.1")
        samples.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
    timings["学籍管理 list page, filtered (median of 7)"] = statistics.median(samples)
    print(json.dumps(timings))


def _backend_cpu(connection):  # type: ignore[no-untyped-def]
    """Seconds of CPU used so far by the PostgreSQL backend serving ``connection`` (user + system, from /proc),
    or a function returning 0 where that cannot be read (SQLite runs in this process; a remote server)."""
    if connection.vendor != "postgresql":
        return lambda: 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        stat = Path(f"/proc/{cursor.fetchone()[0]}/stat")
    tick = os.sysconf("SC_CLK_TCK")

    def read() -> float:
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / tick

    return read


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=50_000)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.students)
        return
    import bench_db  # type: ignore[import-not-found]

    for label, timings, _stderr in bench_db.run_children(__file__, ["--students", str(args.students)]):
        for name, seconds in timings.items():
            figure = f"{seconds * 1000:8.0f} ms" if seconds < 1 else f"{seconds:8.2f} s "
            print(f"{label:10} {name:45} {figure}")


if __name__ == "__main__":
    main()
