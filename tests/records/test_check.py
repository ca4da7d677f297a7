from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest
from python_calamine import CalamineWorkbook

from tests.records.helpers import (
    headers_for,
    make_ctx,
    resident_id,
    rows_as_lists,
    soffice_convert,
    valid_row,
    write_xlsx,
)
from xueji.records.check import (
    EXIT_FILE_ERROR,
    EXIT_OK,
    EXIT_ROW_ERRORS,
    check_file,
    neutralise,
    run_check,
    write_annotated,
)

KEYS = list(valid_row())
NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


def student_rows() -> list[dict[str, object]]:
    """Row 2 valid, row 3 two errors, row 4 blank, row 5 a duplicate of row 2, row 6 a warning only."""
    return [
        valid_row(1),
        valid_row(2, ethnicity="汉足", name='=HYPERLINK("http://x")'),
        {},
        valid_row(1, name="李四"),
        valid_row(3, guardian_phone="87654321"),
    ]


@pytest.fixture(scope="module")
def workbook_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("check") / "students.xlsx"
    return write_xlsx(path, headers_for(KEYS), rows_as_lists(KEYS, student_rows()))


@pytest.fixture(scope="module")
def report(workbook_path):
    return check_file(workbook_path, make_ctx())


def test_report_counts_rows_and_lists_problems_per_row_and_field(report):
    assert report.rows_checked == 4
    assert report.rows_with_errors == 2
    assert report.rows_with_warnings == 1
    by_row = report.errors_by_row()
    assert set(by_row) == {3, 5, 6}
    assert {e.key for e in by_row[3].errors} == {"ethnicity", "name"}
    assert [e.message for e in by_row[5].errors] == ["与第2行身份证件号重复"]
    assert [e.severity for e in by_row[6].errors] == ["warning"]
    assert not report.ok


def test_report_is_json_serialisable(report):
    data = json.loads(report.to_json())
    assert data["summary"] == {"rows_checked": 4, "rows_with_errors": 2, "rows_with_warnings": 1, "rows_ok": 2}
    row = next(r for r in data["rows"] if r["row"] == 3)
    ethnicity = next(e for e in row["errors"] if e["field"] == "ethnicity")
    assert {"label": "民族", "value": "汉足", "severity": "error", "suggestion": None}.items() <= ethnicity.items()


def test_text_report_names_row_field_value_and_reason(report):
    text = report.to_text()
    assert "第3行  错误  民族  “汉足”  “汉足”不是有效的民族，最接近的有：汉族" in text
    assert "共检查4行：2行有错误，1行只有提示，2行可以导入。" in text


def test_run_check_prints_json_and_returns_the_exit_code(workbook_path):
    out = io.StringIO()
    assert run_check(workbook_path, make_ctx(), json_output=True, stdout=out) == EXIT_ROW_ERRORS
    assert json.loads(out.getvalue())["summary"]["rows_with_errors"] == 2


def test_run_check_on_a_clean_file_exits_zero(tmp_path):
    path = write_xlsx(tmp_path / "ok.xlsx", headers_for(KEYS), rows_as_lists(KEYS, [valid_row(1), valid_row(2)]))
    out = io.StringIO()
    assert run_check(path, make_ctx(), stdout=out) == EXIT_OK
    assert "共检查2行：0行有错误" in out.getvalue()


def test_file_level_problem_is_one_error_and_exit_code_two(tmp_path):
    keys = [k for k in KEYS if k != "ethnicity"]
    path = write_xlsx(tmp_path / "missing.xlsx", headers_for(keys), rows_as_lists(keys, [valid_row()]))
    out = io.StringIO()
    assert run_check(path, make_ctx(), json_output=True, stdout=out, annotated_out=str(tmp_path / "x.xlsx")) == (
        EXIT_FILE_ERROR
    )
    data = json.loads(out.getvalue())
    assert data["file_errors"] == ["缺少必填列：民族。请使用系统下载的导入模板，或把表头改成模板中的列名"]
    assert data["rows"] == []
    assert not (tmp_path / "x.xlsx").exists()


def test_unreadable_file_is_a_file_level_error(tmp_path):
    path = tmp_path / "garbage.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    report = check_file(path, make_ctx())
    assert report.exit_code == EXIT_FILE_ERROR and report.file_errors


# --- annotated workbook ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def annotated(workbook_path, report, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("annotated") / "annotated.xlsx"
    assert write_annotated(workbook_path, report, out) == 4
    return out


def _cells(path: Path) -> dict[str, ElementTree.Element]:
    with zipfile.ZipFile(path) as archive:
        sheet = ElementTree.fromstring(archive.read("xl/worksheets/sheet1.xml"))
    return {c.get("r"): c for c in sheet.iter(f"{{{NS['m']}}}c")}


def _fill_of(path: Path, cell: ElementTree.Element) -> str | None:
    with zipfile.ZipFile(path) as archive:
        styles = ElementTree.fromstring(archive.read("xl/styles.xml"))
    xf = styles.find("m:cellXfs", NS).findall("m:xf", NS)[int(cell.get("s", "0"))]
    fill = styles.find("m:fills", NS).findall("m:fill", NS)[int(xf.get("fillId", "0"))]
    color = fill.find(".//m:fgColor", NS)
    return color.get("rgb") if color is not None else None


def test_annotated_file_keeps_row_numbers_and_adds_the_reason_column(annotated):
    rows = CalamineWorkbook.from_path(str(annotated)).get_sheet_by_index(0).to_python()
    assert rows[0][-1] == "失败原因"
    assert "民族：“汉足”不是有效的民族，最接近的有：汉族" in rows[2][-1]
    assert rows[3] == [""] * len(rows[0])  # the blank row stays blank
    assert rows[4][-1] == "身份证件号：与第2行身份证件号重复"
    assert rows[5][-1].startswith("提示：监护人联系电话是固定电话时请加区号")
    assert rows[1][-1] == ""


def test_bad_cells_are_red_and_warnings_yellow(annotated):
    from xlsxwriter.utility import xl_col_to_name

    cells = _cells(annotated)
    ethnicity = xl_col_to_name(KEYS.index("ethnicity"))
    phone = xl_col_to_name(KEYS.index("guardian_phone"))
    name = xl_col_to_name(KEYS.index("name"))
    assert _fill_of(annotated, cells[f"{ethnicity}3"]) == "FFFFC7CE"
    assert _fill_of(annotated, cells[f"{phone}6"]) == "FFFFEB9C"
    assert _fill_of(annotated, cells[f"{name}2"]) is None


def test_formula_like_values_are_written_back_as_inert_text(annotated):
    from xlsxwriter.utility import xl_col_to_name

    cell = _cells(annotated)[f"{xl_col_to_name(KEYS.index('name'))}3"]
    assert cell.find("m:f", NS) is None
    rows = CalamineWorkbook.from_path(str(annotated)).get_sheet_by_index(0).to_python()
    assert rows[2][KEYS.index("name")] == '\'=HYPERLINK("http://x")'
    assert neutralise("@SUM(1)") == "'@SUM(1)" and neutralise("张三") == "张三"


def test_annotated_file_opens_in_libreoffice(annotated, tmp_path):
    (csv_path,) = soffice_convert([annotated], "csv:Text - txt - csv (StarCalc):44,34,76,1", tmp_path)
    with csv_path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][-1] == "失败原因" and rows[4][-1] == "身份证件号：与第2行身份证件号重复"


def test_only_failed_rows_with_their_original_numbers(workbook_path, report, tmp_path):
    out = tmp_path / "failed.xlsx"
    assert write_annotated(workbook_path, report, out, only_failed=True) == 2
    rows = CalamineWorkbook.from_path(str(out)).get_sheet_by_index(0).to_python()
    assert rows[0][-2:] == ["原行号", "失败原因"]
    assert [row[-2] for row in rows[1:]] == [3.0, 5.0]
    # Fixed and uploaded again, the failure workbook is read like any other (原行号 and 失败原因 ignored).
    again = check_file(out, make_ctx())
    assert again.notices == [] and again.rows_checked == 2


def test_annotated_output_to_a_buffer(workbook_path, report):
    buffer = io.BytesIO()
    write_annotated(workbook_path, report, buffer)
    assert buffer.getvalue()[:2] == b"PK"


# --- other tools' files, end to end -------------------------------------------------------------------------


def test_gbk_csv_end_to_end(tmp_path):
    path = tmp_path / "gbk.csv"
    with path.open("w", encoding="gbk", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers_for(KEYS, stars=False))
        for row in rows_as_lists(KEYS, [valid_row(1, name="欧阳娜娜"), valid_row(2, ethnicity="满")]):
            writer.writerow(row)
        writer.writerow(rows_as_lists(KEYS, [valid_row(3, id_number=resident_id("11010520080301002")[:-1] + "0")])[0])
    report = check_file(path, make_ctx())
    assert report.format == "csv" and report.rows_checked == 3
    assert [(r.row, [e.message for e in r.errors]) for r in report.rows] == [
        (4, [f"身份证件号校验位错误：应为{resident_id('11010520080301002')[-1]}"])
    ]
    out = tmp_path / "gbk-annotated.xlsx"
    write_annotated(path, report, out)
    rows = CalamineWorkbook.from_path(str(out)).get_sheet_by_index(0).to_python()
    assert rows[1][KEYS.index("name")] == "欧阳娜娜"


@pytest.fixture(scope="module")
def libreoffice_files(workbook_path, tmp_path_factory) -> dict[str, Path]:
    outdir = tmp_path_factory.mktemp("lo-check")
    (xls,) = soffice_convert([workbook_path], "xls", outdir)
    (ods,) = soffice_convert([workbook_path], "ods", outdir)
    return {"xls": xls, "ods": ods}


@pytest.mark.parametrize("fmt", ["xls", "ods"])
def test_libreoffice_files_give_the_same_report(libreoffice_files, report, fmt):
    converted = check_file(libreoffice_files[fmt], make_ctx())
    assert converted.format == fmt
    assert [(r.row, sorted(e.message for e in r.errors)) for r in converted.rows] == [
        (r.row, sorted(e.message for e in r.errors)) for r in report.rows
    ]


def test_report_on_a_libreoffice_file_can_be_annotated(libreoffice_files, tmp_path):
    report = check_file(libreoffice_files["ods"], make_ctx())
    out = tmp_path / "ods-annotated.xlsx"
    write_annotated(libreoffice_files["ods"], report, out)
    rows = CalamineWorkbook.from_path(str(out)).get_sheet_by_index(0).to_python()
    assert re.match("身份证件号：与第2行", rows[4][-1])


def test_json_and_text_reports_say_the_same(workbook_path):
    text_out, json_out = io.StringIO(), io.StringIO()
    assert run_check(workbook_path, make_ctx(), stdout=text_out) == EXIT_ROW_ERRORS
    assert run_check(workbook_path, make_ctx(), json_output=True, stdout=json_out) == EXIT_ROW_ERRORS
    data = json.loads(json_out.getvalue())
    lines = [line for line in text_out.getvalue().splitlines() if line.startswith("第")]
    expected = []
    for row in data["rows"]:
        for e in row["errors"]:
            mark = "错误" if e["severity"] == "error" else "提示"
            value = f"“{e['value']}”" if e["value"] else "（空）"
            expected.append(f"第{row['row']}行  {mark}  {e['label']}  {value}  {e['message']}")
    assert lines == expected and len(lines) == 4


def test_csv_rows_shorter_than_the_header_read_as_blank_cells(tmp_path):
    # Some programs leave out the empty cells at the end of a line.
    keys = [*KEYS, "email", "former_name"]
    full = rows_as_lists(keys, [valid_row(1)])[0]
    path = tmp_path / "short.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers_for(keys, stars=False))
        writer.writerow(full[: len(KEYS)])  # no 电子信箱, no 曾用名: both optional
        writer.writerow(rows_as_lists(keys, [valid_row(2)])[0][: KEYS.index("guardian_phone")])
    report = check_file(path, make_ctx())
    assert report.rows_checked == 2
    assert [(r.row, [(e.key, e.message) for e in r.errors]) for r in report.rows] == [
        (3, [("guardian_phone", "监护人联系电话不能为空")])
    ]
