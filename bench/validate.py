"""Benchmark: the pre-check (开始检查) against python-calamine's bare read of the same workbook.

    .venv/bin/python bench/validate.py [--rows 100000] [--keep DIR]

Makes a workbook of realistic admission rows (every catalog field, about 2% of rows with an error: bad check
digits, unknown 民族, duplicates, missing required cells), then times
  * the floor: python-calamine opening the file and turning every cell into Python values, and
  * the check: ``check_file`` (size and zip-bomb checks, header mapping, validation, duplicate IDs).
Target (issue 3): the check takes at most 2x the bare read.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import os
import platform
import random
import tempfile
import time
from pathlib import Path

import python_calamine
import xlsxwriter
from stdnum.cn import ric

from xueji.records.catalog import FIELDS
from xueji.records.check import CheckReport, check_file
from xueji.records.context import ClassChoice, RowContext, SchoolCatalog

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鑫宇轩浩然子涵欣怡梓萱雨桐"
SYLLABLES = (
    "WANG LI ZHANG LIU CHEN YANG HUANG ZHAO WU ZHOU XU SUN MA ZHU HU GUO HE GAO LIN LUO ZHENG LIANG XIE SONG TANG "
    "WEI FANG NA XIU YING MIN JING QIANG LEI JUN YANG YONG YAN JIE JUAN TAO MING CHAO LAN XIA PING GANG HUA YU"
).split()
STREETS = ["建国路", "朝阳北路", "学院路", "中关村大街", "长安街", "复兴路", "人民路", "解放路", "和平里", "望京街"]
REGIONS = ["110101", "110105", "110108", "120101", "130102", "310101", "320102", "330106", "440106", "510104"]
ETHNICITIES = ["汉族"] * 18 + ["满族", "回族", "蒙古族", "壮族"]
MAJORS = [
    ("710201", "计算机应用", ("网络技术", "软件开发")),
    ("730301", "会计事务", ()),
    ("740201", "中餐烹饪", ("中式面点",)),
]
SCHOOL = SchoolCatalog.build(
    code="1111000001",
    name="北京市测试职业学校",
    majors=MAJORS,
    grades=[2023, 2024],
    classes=[ClassChoice(f"2024{name[:2]}{n}班", 2024, code) for code, name, _ in MAJORS for n in range(1, 4)],
)


def resident_id(rng: random.Random, serial: int) -> str:
    birth = datetime.date(2007, 9, 1) + datetime.timedelta(days=rng.randrange(730))
    body = f"{rng.choice(REGIONS)}{birth:%Y%m%d}{serial % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def make_row(rng: random.Random, index: int) -> dict[str, object]:
    _, major, directions = rng.choice(MAJORS)
    unified = rng.random() < 0.8
    given_length = rng.choice((1, 2))
    row: dict[str, object] = {
        "name": rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(given_length)),
        "name_pinyin": " ".join(rng.choice(SYLLABLES) for _ in range(given_length + 1)),
        "id_type": "居民身份证",
        "id_number": resident_id(rng, index),
        "ethnicity": rng.choice(ETHNICITIES),
        "nationality": "中国",
        "hmt_status": "否",
        "political_status": rng.choice(("共青团员", "群众")),
        "health_status": "健康或良好",
        "household_region": rng.choice(REGIONS),
        "household_type": rng.choice(("农业户口", "非农业户口")),
        "origin_region": rng.choice(REGIONS),
        "residence_type": rng.choice(("城市", "农村", "县城")),
        # Addresses, phones, e-mail addresses, exam numbers and names hardly repeat in a real file.
        "home_address": f"北京市朝阳区{rng.choice(STREETS)}{rng.randrange(1, 999)}号{rng.randrange(1, 30)}栋"
        f"{rng.randrange(101, 2500)}室",
        "postcode": "100020",
        "admission_method": "统一招生" if unified else "自主招生",
        "admission_target": "应届初中毕业生",
        "student_source": "应届",
        "exam_ticket_no": f"2024{rng.randrange(10**9):09d}" if unified else "",
        "candidate_no": f"24{rng.randrange(10**12):012d}" if unified else "",
        "exam_score": rng.randrange(300, 650) if unified else "",
        "major": major,
        "direction": rng.choice(directions) if directions else "",
        "schooling_length": "三年制",
        "enrolment_month": "2024-09",
        "study_mode": "全日制",
        "attendance_mode": rng.choice(("走读", "住校")),
        "student_category": "普通中专学生",
        "joint_type": "非联合办学",
        "staged_mode": "非分段培养",
        "previous_school": f"北京市第{rng.randrange(1, 300)}中学",
        "grade": "2024",
        "class_name": f"2024{major[:2]}{rng.randrange(1, 4)}班",
        "phone": f"13{rng.randrange(10**9):09d}",
        "email": f"s{index}@example.com" if rng.random() < 0.5 else "",
        "guardian_name": rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
        "guardian_relation": rng.choice(("父亲", "母亲")),
        "guardian_phone": f"139{rng.randrange(10**8):08d}",
    }
    # About 2% of rows carry one of the errors registrars really make.
    roll = rng.random()
    if roll < 0.005:
        row["id_number"] = str(row["id_number"])[:-1] + ("0" if str(row["id_number"])[-1] != "0" else "1")
    elif roll < 0.01:
        row["ethnicity"] = "汉"[:1] + "足"
    elif roll < 0.015:
        row["phone"] = "1380013800"
    elif roll < 0.02:
        row["major"] = "计算机"
    return row


def make_workbook(path: Path, rows: int, *, shared_strings: bool = False) -> None:
    """The rows written with inline strings, as streaming writers save them, or (``shared_strings``) with a
    shared-strings table numbered in the order of use, as Excel, WPS and LibreOffice save them."""
    rng = random.Random(20240901)
    keys = [f.key for f in FIELDS]
    options = {"constant_memory": not shared_strings, "strings_to_numbers": False}
    workbook = xlsxwriter.Workbook(str(path), options)
    sheet = workbook.add_worksheet("招生信息")
    sheet.write_row(0, 0, [f.header for f in FIELDS])
    previous: dict[str, object] = {}
    for index in range(1, rows + 1):
        row = make_row(rng, index)
        if index % 500 == 0 and previous:
            row["id_number"] = previous["id_number"]  # a duplicate in the file
        previous = row
        for col, key in enumerate(keys):
            value = row.get(key, "")
            if isinstance(value, int):
                sheet.write_number(index, col, value)
            elif value:
                sheet.write_string(index, col, str(value))
    workbook.close()


def bare_read(path: Path) -> int:
    workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    count = 0
    for _ in workbook.get_sheet_by_index(0).iter_rows():
        count += 1
    return count - 1


def interleaved(runs: int, path: Path, ctx: RowContext) -> tuple[float, int, float, CheckReport]:
    """Best of ``runs`` for the bare read and for the check, run in turns so that a busy spell on the machine
    does not land on one side only."""
    read_best = check_best = float("inf")
    read_rows, report = 0, None
    for _ in range(runs):
        start = time.perf_counter()
        read_rows = bare_read(path)
        read_best = min(read_best, time.perf_counter() - start)
        start = time.perf_counter()
        report = check_file(path, ctx)
        check_best = min(check_best, time.perf_counter() - start)
    assert report is not None
    return read_best, read_rows, check_best, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="write the workbook here and keep it (reused when it exists)")
    args = parser.parse_args()

    directory = args.keep or Path(tempfile.mkdtemp(prefix="xueji-bench-"))
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"admissions-{args.rows}.xlsx"
    if args.keep and path.exists():
        print(f"workbook: reusing {path}")
    else:
        start = time.perf_counter()
        make_workbook(path, args.rows)
        print(
            f"workbook: {args.rows} rows x {len(FIELDS)} columns, {path.stat().st_size / 1e6:.1f} MB, "
            f"written in {time.perf_counter() - start:.1f} s"
        )
    print(
        f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"python-calamine {importlib.metadata.version('python-calamine')}, load average {os.getloadavg()[0]:.2f}"
    )

    ctx = RowContext(school=SCHOOL, today=datetime.date(2024, 10, 1))
    read_time, read_rows, check_time, report = interleaved(args.runs, path, ctx)
    assert read_rows == report.rows_checked == args.rows, (read_rows, report.rows_checked)
    print(f"python-calamine bare read: {read_time:6.2f} s  {read_rows / read_time:9,.0f} rows/s  (best of {args.runs})")
    print(f"full check (check_file):   {check_time:6.2f} s  {report.rows_checked / check_time:9,.0f} rows/s")
    print(f"rows with errors: {report.rows_with_errors}, with warnings only: {report.rows_with_warnings}")
    print(f"ratio check / bare read: {check_time / read_time:.2f}x (target <= 2x)")
    if not args.keep:
        path.unlink()
        directory.rmdir()


if __name__ == "__main__":
    main()
