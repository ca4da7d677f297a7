"""Benchmark: 学籍管理 导出 of 50,000 students with every column.

    .venv/bin/python bench/export.py [--students 50000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/export.py

Builds one school with 50,000 students carrying a full catalog row (set up, not timed), then times the export
as the background task writes it (``export_rows`` → ``write_export``: tuples from ``values_list().iterator()``,
no model instances) for csv and xlsx, as the registrar (no masking) with every column ticked. Prints rows/s, by
the wall clock and by this process's CPU (on a shared machine the wall time mostly measures the others' load).
SQLite always; PostgreSQL when DATABASE_URL is set (a fresh database beside the one named, dropped afterwards).
Target (issue 5, PostgreSQL, 2 cores): at least 20,000 rows/s.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def child(database_url: str, data_dir: str, count: int) -> None:
    import bench_db  # type: ignore[import-not-found]

    bench_db.django_setup(database_url, data_dir)

    from xueji.orgs.models import Role, User
    from xueji.students.exports import COLUMNS, export_queryset, export_rows, write_export

    _city, _district, school, offering, school_class = bench_db.school_a()
    registrar = User.objects.create(username="registrar", role=Role.REGISTRAR, school=school)
    bench_db.approved_students(school, offering, school_class, count)

    columns = [c.key for c in COLUMNS]
    figures: dict[str, list[float]] = {}
    for file_format in ("csv", "xlsx"):
        out = Path(data_dir) / f"export.{file_format}"
        started, cpu = time.perf_counter(), time.process_time()
        rows = export_rows(export_queryset(registrar, {}), columns, show_personal=True)
        written = write_export(rows, columns, file_format, out)
        seconds = time.perf_counter() - started
        assert written == count, (written, count)
        figures[file_format] = [seconds, written / seconds, out.stat().st_size / 1e6, time.process_time() - cpu]
    # The read alone (query + turning codes into names, no file), to tell the database from the writer.
    started, cpu = time.perf_counter(), time.process_time()
    read = sum(1 for _row in export_rows(export_queryset(registrar, {}), columns, show_personal=True))
    seconds = time.perf_counter() - started
    figures["rows only (no file)"] = [seconds, read / seconds, 0.0, time.process_time() - cpu]
    print(json.dumps({"columns": len(columns), "figures": figures}))


def count_rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}" if seconds else "-"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=50_000)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.students)
        return
    import bench_db  # type: ignore[import-not-found]

    for label, result, _stderr in bench_db.run_children(__file__, ["--students", str(args.students)]):
        for name, (seconds, rate, megabytes, cpu) in result["figures"].items():
            size = f"{megabytes:6.1f} MB" if megabytes else " " * 9
            print(
                f"{label:10} export {args.students:,} × {result['columns']} columns, {name:20} "
                f"{seconds:6.2f} s {rate:9,.0f} rows/s {size}  (this process's CPU {cpu:5.2f} s: "
                f"{count_rate(args.students, cpu)} rows/s)"
            )


if __name__ == "__main__":
    main()
