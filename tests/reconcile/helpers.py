"""Roster files as exam authorities send them: xlsx written by xlsxwriter, CSV saved as GBK."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

HEADER = ["考生号", "准考证号", "姓名", "身份证件号", "录取学校代码", "录取专业", "招生方式/批次"]


def roster_xlsx(
    path: Path, rows: Sequence[Sequence[object]], header: Sequence[str] = HEADER, title: bool = True
) -> Path:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    sheet = workbook.add_worksheet("录取名册")
    start = 0
    if title:
        sheet.write_string(0, 0, "2026年中等职业学校录取名册")
        start = 1
    for col, text in enumerate(header):
        sheet.write_string(start, col, text)
    for r, cells in enumerate(rows, start=start + 1):
        for col, value in enumerate(cells):
            if isinstance(value, (int, float)):
                sheet.write_number(r, col, value)
            else:
                sheet.write_string(r, col, str(value))
    workbook.close()
    return path


def roster_csv(path: Path, rows: Sequence[Sequence[object]], header: Sequence[str] = HEADER) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode("gbk"))
    return path
