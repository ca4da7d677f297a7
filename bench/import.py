"""Benchmark: 导入名单 end to end (read, validate, upsert, failure workbook) against a bare calamine read.

    .venv/bin/python bench/import.py [--rows 100000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/import.py

Makes the realistic rows of bench/validate.py (about 2% of rows with an error) into two workbooks: one with a
shared-strings table, as Excel, WPS and LibreOffice save (what registrars upload), and one with inline strings,
as streaming writers save. Then, for each workbook, on SQLite (always) and PostgreSQL (when DATABASE_URL is set;
a fresh database is made beside the one named and dropped afterwards), it runs one import job in a child
process on an empty database and prints rows/s, the ratio to python-calamine's bare read of the same file
(measured in the same run), the job's counts, the CPU of the job, its readers and the rest of the machine, and
the peak RSS of the job's process and of its reader processes. A second run of the same file (every row an
update) is timed too. XUEJI_BENCH_SKIP_SQLITE=1 runs PostgreSQL only; --file imports one given workbook.
Targets (issue 4): at least 15,000 rows/s on PostgreSQL and 10,000 on SQLite on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def child(database_url: str, data_dir: str, source: str) -> None:
    """Runs in its own process: migrate, set up the school, import twice, print JSON."""
    os.environ["DATABASE_URL"] = database_url
    os.environ["XUEJI_DATA_DIR"] = data_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "xueji.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from validate import SCHOOL  # type: ignore[import-not-found]

    from xueji.admissions.imports import import_job_create, import_job_run
    from xueji.orgs.models import Direction, Grade, MajorOffering, Region, School, SchoolClass
    from xueji.reference.models import CatalogMajor
    from xueji.reference.services import reference_load

    reference_load()
    city = Region.objects.create(code="110000", name="北京市", kind=Region.Kind.CITY)
    district = Region.objects.create(code="110101", name="东城区", kind=Region.Kind.DISTRICT, parent=city)
    school = School.objects.create(code=SCHOOL.code, name=SCHOOL.name, district=district)
    for major in SCHOOL.majors:
        offering = MajorOffering.objects.create(school=school, major=CatalogMajor.objects.get(code=major.code))
        for name in major.directions:
            Direction.objects.create(offering=offering, name=name)
    grades = {year: Grade.objects.create(school=school, year=year) for year in SCHOOL.grades}
    for c in SCHOOL.classes:
        offering = MajorOffering.objects.get(school=school, major__code=c.major_code)
        SchoolClass.objects.create(school=school, grade=grades[c.grade], offering=offering, name=c.name)

    results = []
    for label in ("first", "again"):
        with open(source, "rb") as stream:
            job = import_job_create(actor=None, school=school, stream=stream, file_name="bench.xlsx", enqueue=False)
        cpu = _cpu_seconds()
        started = time.perf_counter()
        job = import_job_run(job.pk)
        seconds = time.perf_counter() - started
        cpu = {key: value - cpu[key] for key, value in _cpu_seconds().items()}
        results.append(
            {
                "run": label,
                "seconds": seconds,
                "status": job.status,
                "total": job.total_rows,
                "created": job.created_count,
                "updated": job.updated_count,
                "failed": job.failed_count,
                "cpu": cpu,
            }
        )
    peak_kib = _own_peak_kib()
    reader_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the reader process (records/reader.py)
    print(json.dumps({"runs": results, "peak_rss_mib": peak_kib / 1024, "reader_rss_mib": reader_kib / 1024}))


def _cpu_seconds() -> dict[str, float]:
    """CPU seconds used so far by this process (the job), its finished children (the readers) and the whole
    machine (/proc/stat): on PostgreSQL the rest is mostly the server processes of the job's connections (it
    writes on two at once), plus whatever else the machine was doing."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    found = {"job": own.ru_utime + own.ru_stime, "reader": children.ru_utime + children.ru_stime, "machine": 0.0}
    try:
        with open("/proc/stat") as stat:
            fields = [int(value) for value in stat.readline().split()[1:]]
        busy = sum(fields) - fields[3] - fields[4]  # all but idle and iowait
        found["machine"] = busy / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        pass
    return found


def _own_peak_kib() -> int:
    """This process's peak RSS. Linux's ru_maxrss carries over the parent's figure across fork and exec (here:
    the bare read's 400 MB), VmHWM is this program's own."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run_child(database_url: str, source: Path) -> dict:
    with tempfile.TemporaryDirectory(prefix="xueji-bench-") as data_dir:
        out = subprocess.run(
            [sys.executable, __file__, "--child", database_url, data_dir, str(source)],
            check=True,
            capture_output=True,
            text=True,
        )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--file", type=Path, help="import this workbook instead of making them (--rows: its rows)")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    from validate import bare_read, make_workbook  # type: ignore[import-not-found]

    with tempfile.TemporaryDirectory(prefix="xueji-bench-file-") as folder:
        if args.file:
            sources = [("file", args.file.resolve())]
        else:
            # The same rows twice: with a shared-strings table as Excel, WPS and LibreOffice save (what registrars
            # upload), and with inline strings as streaming writers save.
            sources = [
                ("shared strings", Path(folder) / "shared.xlsx"),
                ("inline strings", Path(folder) / "inline.xlsx"),
            ]
            for kind, path in sources:
                make_workbook(path, args.rows, shared_strings=kind == "shared strings")
        import bench_db  # type: ignore[import-not-found]

        for kind, source in sources:
            started = time.perf_counter()
            bare_read(source)
            floor = time.perf_counter() - started
            print(
                f"workbook ({kind}): {args.rows} rows, {source.stat().st_size / 1e6:.1f} MB; "
                f"bare calamine read {floor:.2f} s"
            )
            data = Path(folder) / f"data-{source.stem}"  # a database of its own for each workbook
            data.mkdir()
            targets = [(label, url.replace("@DATA@", str(data)), drop) for label, url, drop in bench_db.targets()]
            for label, url, drop in targets:
                try:
                    result = run_child(url, source)
                finally:
                    if drop:
                        drop()
                _report(label, result, args.rows, floor)


def _report(label: str, result: dict, rows: int, floor: float) -> None:
    for run in result["runs"]:
        rate = rows / run["seconds"]
        print(
            f"{label:10} {run['run']:5}: {run['seconds']:6.2f} s  {rate:8.0f} rows/s  "
            f"{run['seconds'] / floor:5.1f}x bare read  "
            f"(新增 {run['created']}, 更新 {run['updated']}, 失败 {run['failed']}, {run['status']})"
        )
        cpu = run["cpu"]
        rest = max(0.0, cpu["machine"] - cpu["job"] - cpu["reader"])
        print(
            f"{'':10} {'':5}  CPU: job {cpu['job']:.2f} s, reader {cpu['reader']:.2f} s, "
            f"rest of the machine (database server) {rest:.2f} s; all {cpu['machine']:.2f} s "
            f"of {(os.cpu_count() or 1) * run['seconds']:.2f} s ({os.cpu_count()} cores)"
        )
    print(
        f"{label:10} peak RSS {result['peak_rss_mib']:.0f} MiB (the job), "
        f"{result['reader_rss_mib']:.0f} MiB (its reader process)"
    )


if __name__ == "__main__":
    main()
