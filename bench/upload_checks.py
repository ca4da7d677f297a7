"""Benchmark: what the upload checks before parsing (``check_archive``) cost, against python-calamine's read.

    .venv/bin/python bench/upload_checks.py [--rows 100000] [--runs 3] [--keep DIR]

Same workbook as bench/validate.py. Times, best of ``--runs``:
  * the archive's declared sizes only (``verify_unpacked=False``: no inflating),
  * the full check: every entry inflated once, its sizes verified, its XML scanned for entity declarations
    and for the sheet's extent (cells far from A1, cells without a position),
  * python-calamine's bare read of the sheet, the floor every upload pays anyway.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import python_calamine

from bench.validate import make_workbook
from xueji.records.workbook import Limits, check_archive


def best(runs: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="write the workbook here and keep it (reused when it exists)")
    args = parser.parse_args()
    directory = args.keep or Path(tempfile.mkdtemp(prefix="xueji-bench-"))
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"admissions-{args.rows}.xlsx"
    if not path.exists():
        make_workbook(path, args.rows)
    print(f"workbook: {args.rows} rows, {path.stat().st_size / 1e6:.1f} MB")

    def read() -> int:
        sheet = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
        return sum(1 for _ in sheet.iter_rows())

    declared = best(args.runs, lambda: check_archive(path, Limits(verify_unpacked=False)))
    full = best(args.runs, lambda: check_archive(path))
    bare = best(args.runs, read)
    print(f"declared sizes only:             {declared:6.2f} s")
    print(f"full archive check (inflate+scan): {full:6.2f} s")
    print(f"python-calamine bare read:       {bare:6.2f} s")
    print(f"archive check / bare read: {full / bare:.2f}")
    if not args.keep:
        path.unlink()
        directory.rmdir()


if __name__ == "__main__":
    main()
