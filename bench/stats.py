"""Benchmark: 统计查询 over a city's students, every dimension and the 学籍状态 × 审核级别 table.

    .venv/bin/python bench/stats.py [--students 200000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/stats.py

Builds one city with 4 districts × 5 schools and the students spread over them, two grades (2025 and 2026,
so every table also counts the previous grade), with varied 性别, 招生方式, 户口性质, 生源地 (counties of several
provinces) and 学籍状态 (set up, not timed). Then times, as the city administrator, one page's queries for
each dimension (``stats_table``: the grade and the previous grade, GROUP BY in the database) and the
学籍状态 × 审核级别 table per district. Prints milliseconds per dimension (best of 3); ``--explain`` also
prints the plan of the 性别 query.
SQLite always; PostgreSQL when DATABASE_URL is set (a fresh database beside the one named, dropped afterwards).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def child(database_url: str, data_dir: str, count: int, explain: bool = False) -> None:
    import bench_db  # type: ignore[import-not-found]

    bench_db.django_setup(database_url, data_dir)
    from django.db.models import Count

    from xueji.admissions.models import AdmissionRecord
    from xueji.orgs.models import MajorOffering, Region, Role, School, User
    from xueji.records.refdata import current_area_codes
    from xueji.reference.models import CatalogMajor
    from xueji.stats.selectors import DIMENSIONS, state_cross_table, stats_table
    from xueji.students.models import State, Student

    rng = random.Random(7)
    city = Region.objects.create(code="110000", name="北京市", kind=Region.Kind.CITY)
    majors = list(CatalogMajor.objects.order_by("code")[:6])
    offerings = []
    for d in range(4):
        district = Region.objects.create(
            code=f"11010{d + 1}", name=f"区{d + 1}", kind=Region.Kind.DISTRICT, parent=city
        )
        for s in range(5):
            school = School.objects.create(code=f"31110{d + 1}{s:04d}", name=f"学校{d + 1}-{s}", district=district)
            offerings += [MajorOffering.objects.create(school=school, major=m) for m in majors]
    admin = User.objects.create(username="city", role=Role.CITY_ADMIN, region=city)
    counties = sorted(c for c in current_area_codes() if not c.endswith("00"))
    origins = [c for c in counties if c[:2] in ("11", "13", "37", "41", "51")]
    states = [s.value for s in State]
    for start in range(0, count, 5000):
        chunk = range(start, min(count, start + 5000))
        records = AdmissionRecord.objects.bulk_create(
            [
                AdmissionRecord(school_id=(o := offerings[n % len(offerings)]).school_id, grade=2025 + n % 2,
                                name=f"学生{n}", id_type="1", id_number=f"X{n:017d}", offering=o,
                                admission_method=rng.choice("1234"), state=AdmissionRecord.State.CHECKED_IN,
                                data={"ethnicity": rng.choice(["01", "01", "01", "02", "03"]),
                                      "household_type": rng.choice("12"), "study_mode": "1",
                                      "attendance_mode": rng.choice("12"), "admission_target": rng.choice("123"),
                                      "origin_region": rng.choice(origins)})
                for n in chunk
            ]
        )  # fmt: skip
        Student.objects.bulk_create(
            [
                Student(school_id=r.school_id, admission=r, grade=r.grade, name=r.name, id_type="1",
                        id_number=r.id_number, gender=rng.choice("12"), offering_id=r.offering_id,
                        admission_method=r.admission_method, data=r.data, state=rng.choice(states))
                for r in records
            ]
        )  # fmt: skip
    from django.db import connection

    with connection.cursor() as cursor:  # as a live database would be after autovacuum / a nightly ANALYZE
        cursor.execute("ANALYZE")
    if explain:
        from xueji.stats.selectors import _scoped, _value_expression

        students = (
            _scoped(admin, None).filter(grade__in=(2026, 2025)).annotate(v=_value_expression(DIMENSIONS["gender"]))
        )
        sql, params = students.values("grade", "v").annotate(n=Count("pk")).query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(
                ("EXPLAIN ANALYZE " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN ") + sql, params
            )
            print("\n".join(str(row) for row in cursor.fetchall()), file=sys.stderr)
    figures: dict[str, float] = {}
    for key in DIMENSIONS:
        best = min(_timed(lambda key=key: stats_table(admin, key, 2026)) for _ in range(3))
        figures[DIMENSIONS[key].label] = best * 1000
    best = min(_timed(lambda: state_cross_table(admin, 2026, "district")) for _ in range(3))
    figures["学籍状态×审核级别（各区县）"] = best * 1000
    print(json.dumps({"figures": figures}, ensure_ascii=False))


def _timed(call) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=200_000)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--explain", action="store_true", help="print the plan of one query (stderr)")
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.students, args.explain)
        return
    import bench_db  # type: ignore[import-not-found]

    child_args = ["--students", str(args.students), *(["--explain"] if args.explain else [])]
    for label, result, stderr in bench_db.run_children(__file__, child_args):
        if args.explain:
            print(stderr, file=sys.stderr)
        for name, ms in result["figures"].items():
            print(f"{label:10} 统计 {args.students:,} students, {name:24} {ms:8.1f} ms")


if __name__ == "__main__":
    main()
