"""write_text_sheet, the fast writer of large exports: text stays text (never a formula, a number or a link),
the workbook opens in LibreOffice and reads back as written, and an empty export still has its header."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from tests.records.helpers import soffice_convert
from xueji.records.workbook import write_text_sheet

HEADERS = ["姓名", "身份证件号", "家庭现地址", "备注", "电话"]
# Values a spreadsheet would take for formulas, numbers, dates, booleans, errors or links, XML's special
# characters, control characters, leading and trailing spaces, line breaks and a blank cell.
ROWS = [
    ["张三", "110101201001010011", '=HYPERLINK("http://x","点我")', "@SUM(A1)", "13800138000"],
    ["李四", "0123", "+1", "-1", "1e5"],
    ["王五", "TRUE", "\t=x", "\r=x", "#N/A"],
    ["赵六", "2026-09-01", "http://example.com", "<&>\"'", "3.14"],
    ["钱七", "  前导空格", "结尾空格 ", "两行\n文字", ""],
    ["孙八", "a\x01b", "", "", "0"],
]


def _read(path: Path) -> list[list[object]]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()


def test_every_cell_is_text_and_reads_back_as_written(tmp_path: Path) -> None:
    path = tmp_path / "out.xlsx"
    assert write_text_sheet(path, sheet_name="学籍", headers=HEADERS, rows=iter(ROWS), widths=[10] * 5) == len(ROWS)
    with zipfile.ZipFile(path) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
        assert archive.read("xl/workbook.xml").decode().count('name="学籍"') == 1
    assert "<f>" not in sheet and "<v>" not in sheet  # no formula, no number, no boolean
    assert sheet.count('t="inlineStr"') == len(HEADERS) + sum(1 for row in ROWS for value in row if value)
    assert 'state="frozen"' in sheet  # the header stays in view
    assert _read(path) == [HEADERS, *ROWS]


def test_libreoffice_opens_it_and_sees_the_same_text(tmp_path: Path) -> None:
    path = tmp_path / "out.xlsx"
    rows = [row for row in ROWS if not any(c in "".join(row) for c in "\x01\r\n")]  # csv cannot carry these
    write_text_sheet(path, sheet_name="学籍", headers=HEADERS, rows=rows, widths=[10] * 5)
    (converted,) = soffice_convert([path], "csv:Text - txt - csv (StarCalc):44,34,76", tmp_path / "lo")
    read = list(csv.reader(io.StringIO(converted.read_text(encoding="utf-8"))))
    assert read == [HEADERS, *rows]


def test_no_rows_still_gives_the_header(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    assert write_text_sheet(buffer, sheet_name="学籍", headers=HEADERS, rows=[], widths=[10] * 5) == 0
    path = tmp_path / "empty.xlsx"
    path.write_bytes(buffer.getvalue())
    assert _read(path) == [HEADERS]


def test_a_row_of_the_wrong_width_or_a_repeated_header_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_text_sheet(tmp_path / "a.xlsx", sheet_name="学籍", headers=["甲", "乙"], rows=[["1"]], widths=[10, 10])
    with pytest.raises(ValueError):
        write_text_sheet(tmp_path / "b.xlsx", sheet_name="学籍", headers=["甲", "甲"], rows=[], widths=[10, 10])
