"""Benchmark: `xueji backup`, `xueji restore --check` and `xueji restore` of one city's year.

    .venv/bin/python bench/backup.py [--students 30000] [--files 200]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/backup.py

Builds one school with N approved students carrying a full catalog row and M evidence scans of 256 KB of
incompressible bytes under the private folder (set up, not timed), then times the backup, the check-only
restore (unpack and verify every SHA-256) and the full restore. Prints seconds and the archive size.
SQLite always; PostgreSQL when DATABASE_URL is set (a fresh database beside the one named, dropped afterwards).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def child(database_url: str, data_dir: str, count: int, files: int) -> None:
    import bench_db  # type: ignore[import-not-found]

    bench_db.django_setup(database_url, data_dir)
    from datetime import date

    from django.conf import settings

    from tests.admissions.helpers import school_a_row
    from xueji.admissions.models import AdmissionRecord
    from xueji.admissions.services import json_value
    from xueji.ops.backup import backup_create
    from xueji.ops.restore import restore_archive
    from xueji.orgs.selectors import school_catalog
    from xueji.records.context import RowContext
    from xueji.records.validator import RowValidator
    from xueji.students.models import State, Student

    _city, _district, school, offering, school_class = bench_db.school_a()
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
    evidence = Path(settings.MEDIA_ROOT) / "name_changes"
    evidence.mkdir(parents=True, exist_ok=True)
    for n in range(files):
        (evidence / f"{n:032x}.pdf").write_bytes(b"%PDF-1.4\n" + os.urandom(256 * 1024))

    figures: dict[str, float] = {}
    archive = Path(data_dir) / "backup.tar.gz"
    started = time.perf_counter()
    backup_create(out=archive)
    figures["backup"] = time.perf_counter() - started
    started = time.perf_counter()
    restore_archive(archive=archive, check_only=True)
    figures["restore --check"] = time.perf_counter() - started
    started = time.perf_counter()
    restore_archive(archive=archive)
    figures["restore"] = time.perf_counter() - started
    assert Student.objects.count() == count
    print(json.dumps({"figures": figures, "archive_mb": archive.stat().st_size / 1e6}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=30_000)
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.students, args.files)
        return
    import bench_db  # type: ignore[import-not-found]

    for label, result, _stderr in bench_db.run_children(
        __file__, ["--students", str(args.students), "--files", str(args.files)]
    ):
        what = f"{args.students:,} students + {args.files} scans of 256 KB"
        for name, seconds in result["figures"].items():
            print(f"{label:10} {name:16} {what}: {seconds:6.2f} s")
        print(f"{label:10} archive size: {result['archive_mb']:.1f} MB")


if __name__ == "__main__":
    main()
