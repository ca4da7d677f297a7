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

    from django.conf import settings

    from xueji.ops.backup import backup_create
    from xueji.ops.restore import restore_archive
    from xueji.students.models import Student

    _city, _district, school, offering, school_class = bench_db.school_a()
    bench_db.approved_students(school, offering, school_class, count)
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
