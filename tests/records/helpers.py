"""Builders shared by the records tests: valid ID numbers, valid rows, workbooks made by other tools."""

from __future__ import annotations

import datetime
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import xlsxwriter
from stdnum.cn import ric

from xueji.records.catalog import FIELDS_BY_KEY
from xueji.records.context import ClassChoice, RowContext, SchoolCatalog

TODAY = datetime.date(2024, 10, 1)


def resident_id(first17: str) -> str:
    """A resident ID number with the right check digit."""
    return first17 + ric.calc_check_digit(first17 + "0")


def make_school() -> SchoolCatalog:
    return SchoolCatalog.build(
        code="1111000001",
        name="北京市测试职业学校",
        majors=[
            ("710201", "计算机应用", ["网络技术", "软件开发"]),
            ("730301", "会计事务", []),
            ("740201", "中餐烹饪", ["中式面点"]),
        ],
        grades=[2023, 2024],
        classes=[ClassChoice("2024计算机1班", 2024, "710201"), ClassChoice("2024会计1班", 2024, "730301")],
    )


def make_ctx(school: SchoolCatalog | None = None) -> RowContext:
    return RowContext(school=school if school is not None else make_school(), today=TODAY)


def valid_row(serial: int = 1, **overrides: object) -> dict[str, object]:
    """A complete, valid row as a registrar would type it (names, not codes)."""
    row: dict[str, object] = {
        "name": "张三",
        "id_type": "居民身份证",
        "id_number": resident_id(f"110105200803{serial % 28 + 1:02d}{serial % 1000:03d}"),
        "ethnicity": "汉族",
        "nationality": "中国",
        "health_status": "健康或良好",
        "household_region": "110105",
        "household_type": "非农业户口",
        "origin_region": "110105",
        "admission_method": "统一招生",
        "admission_target": "应届初中毕业生",
        "student_source": "应届",
        "exam_ticket_no": "2024110105001",
        "candidate_no": "24110105000123",
        "exam_score": "520",
        "major": "计算机应用",
        "direction": "网络技术",
        "schooling_length": "三年制",
        "enrolment_month": "2024-09",
        "study_mode": "全日制",
        "attendance_mode": "住校",
        "student_category": "普通中专学生",
        "grade": "2024",
        "phone": "13800138000",
        "guardian_name": "张建国",
        "guardian_relation": "父亲",
        "guardian_phone": "13900139000",
    }
    row.update(overrides)
    return row


def headers_for(keys: Iterable[str], *, stars: bool = True) -> list[str]:
    return [FIELDS_BY_KEY[k].header if stars else FIELDS_BY_KEY[k].label for k in keys]


def write_xlsx(path: Path, header: Sequence[object], rows: Iterable[Sequence[object]], *, start_row: int = 0) -> Path:
    """A plain workbook written with xlsxwriter directly (not through our template)."""
    workbook = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    sheet = workbook.add_worksheet("学生")
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(start_row, 0, header)
    for index, row in enumerate(rows, start=start_row + 1):
        for col, value in enumerate(row):
            if isinstance(value, datetime.date):
                sheet.write_datetime(index, col, value, date_format)
            elif isinstance(value, str):
                sheet.write_string(index, col, value)  # text stays text, even "=…" (as typed with a leading ')
            elif value is not None:
                sheet.write(index, col, value)
    workbook.close()
    return path


def rows_as_lists(keys: Sequence[str], rows: Iterable[dict[str, object]]) -> list[list[object]]:
    return [[row.get(k, "") for k in keys] for row in rows]


def soffice_convert(sources: Sequence[Path], target: str, outdir: Path) -> list[Path]:
    """Convert files with LibreOffice headless, in one process, with a private profile so that runs in
    parallel (or a desktop LibreOffice) do not collide."""
    soffice = shutil.which("soffice") or "/usr/bin/soffice"
    profile = tempfile.mkdtemp(prefix="lo-profile-")
    try:
        subprocess.run(
            [
                soffice,
                f"-env:UserInstallation=file://{profile}",
                "--headless",
                "--convert-to",
                target,
                "--outdir",
                str(outdir),
                *map(str, sources),
            ],
            check=True,
            capture_output=True,
            timeout=180,
            env={**os.environ, "HOME": profile},
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    extension = target.split(":", 1)[0]
    results = [outdir / (Path(s).stem + "." + extension) for s in sources]
    missing = [r for r in results if not r.exists()]
    assert not missing, f"LibreOffice did not write {missing}"
    return results
