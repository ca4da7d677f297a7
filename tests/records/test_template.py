from __future__ import annotations

import csv
import datetime
import io
import re
import warnings
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest
from python_calamine import CalamineWorkbook

from tests.records.helpers import make_ctx, resident_id, soffice_convert, valid_row
from xueji.records.catalog import FIELDS, Kind
from xueji.records.check import check_file
from xueji.records.codes import code_table
from xueji.records.template import LAST_SHEET_ROW, TEMPLATE_ROWS, display_width, template_headers, write_template

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


def column(key: str) -> str:
    from xlsxwriter.utility import xl_col_to_name

    return xl_col_to_name([f.key for f in FIELDS].index(key))


@pytest.fixture(scope="module")
def full_template(tmp_path_factory, school) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "template.xlsx"
    write_template(path, school)
    return path


@pytest.fixture(scope="module")
def data_sheet_xml(full_template) -> ElementTree.Element:
    with zipfile.ZipFile(full_template) as archive:
        return ElementTree.fromstring(archive.read("xl/worksheets/sheet1.xml"))


@pytest.fixture(scope="module")
def filled(tmp_path_factory, school) -> dict[str, Path]:
    """A template filled with three students, leaving 性别 and 出生日期 to the formulas, opened and saved by
    LibreOffice (which recalculates them)."""
    outdir = tmp_path_factory.mktemp("filled")
    source = outdir / "filled-source.xlsx"
    rows = [
        valid_row(1),
        valid_row(2, id_number="110105080302002"),  # a legacy 15-digit number: 女, born 1908-03-02
        valid_row(
            3, id_type="护照", id_number="E12345678", gender="女", birth_date=datetime.date(2008, 5, 6), hmt_status="否"
        ),
    ]
    rows[1]["enrolment_month"] = "2024-09"
    write_template(source, school, rows=20, data=rows)
    (saved,) = soffice_convert([source], "xlsx:Calc MS Excel 2007 XML", outdir / "lo")
    (csv,) = soffice_convert([source], "csv:Text - txt - csv (StarCalc):44,34,76,1", outdir / "csv")
    return {"source": source, "saved": saved, "csv": csv}


def test_data_sheet_headers_mark_required_fields_with_a_star(full_template):
    workbook = CalamineWorkbook.from_path(str(full_template))
    assert workbook.sheet_names == ["招生信息", "采集指标说明", "字典", "_lists"]
    header = next(iter(workbook.get_sheet_by_name("招生信息").iter_rows()))
    assert header == template_headers()
    assert header[0] == "★姓名" and "姓名拼音" in header and "准考证号" in header


def test_header_is_frozen_and_lists_sheet_hidden(full_template, data_sheet_xml):
    pane = data_sheet_xml.find(".//m:pane", NS)
    assert pane is not None and pane.get("state") == "frozen" and pane.get("ySplit") == "1"
    with zipfile.ZipFile(full_template) as archive:
        book = archive.read("xl/workbook.xml").decode()
    assert re.search(r'<sheet name="_lists"[^>]*state="hidden"', book)


LIST_KINDS = (Kind.CODE, Kind.COUNTRY, Kind.MAJOR, Kind.DIRECTION, Kind.GRADE, Kind.CLASS)


def test_every_code_field_has_a_refusing_drop_down_on_every_row_of_the_sheet(data_sheet_xml):
    validations = {v.get("sqref"): v for v in data_sheet_xml.findall(".//m:dataValidation", NS)}
    for f in FIELDS:
        if f.kind in LIST_KINDS:
            # Not only the rows with formulas (TEMPLATE_ROWS): every row a registrar can type in.
            sqref = f"{column(f.key)}2:{column(f.key)}{LAST_SHEET_ROW}"
            assert sqref in validations, f.label
            validation = validations[sqref]
            assert validation.get("type") == "list", f.label
            assert validation.get("errorStyle") in (None, "stop")
            assert validation.find("m:formula1", NS).text == f"list_{f.key}"
            assert validation.get("promptTitle") == f.label
    assert TEMPLATE_ROWS + 1 < LAST_SHEET_ROW


def test_every_column_shows_an_input_hint_on_every_row(data_sheet_xml):
    by_column = {v.get("sqref").split(":")[0][:-1]: v for v in data_sheet_xml.findall(".//m:dataValidation", NS)}
    for f in FIELDS:
        validation = by_column[column(f.key)]
        assert validation.get("sqref") == f"{column(f.key)}2:{column(f.key)}{LAST_SHEET_ROW}", f.label
        assert validation.get("promptTitle") == f.label
        assert validation.get("prompt").startswith(f.requirement_text), f.label
    name = by_column[column("name")]
    assert (name.get("type"), name.get("operator"), name.find("m:formula1", NS).text) == (
        "textLength",
        "lessThanOrEqual",
        "50",
    )


def test_writing_the_template_drops_nothing_silently(school, tmp_path):
    # xlsxwriter leaves out a drop-down or hint it finds too long, with only a warning: the file would open
    # without it, or with a repair prompt in Excel.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        write_template(tmp_path / "strict.xlsx", school, rows=20)


def test_columns_are_wide_enough_for_their_headers_and_an_18_digit_number(data_sheet_xml):
    widths: dict[int, float] = {}
    for col in data_sheet_xml.find("m:cols", NS).findall("m:col", NS):
        for index in range(int(col.get("min")), int(col.get("max")) + 1):
            widths[index] = float(col.get("width"))
    for index, f in enumerate(FIELDS, start=1):
        assert widths[index] >= display_width(f.header) + 1, f.header
    assert widths[[f.key for f in FIELDS].index("id_number") + 1] >= 20


def test_school_majors_directions_and_grades_are_the_drop_down_lists(full_template):
    lists = CalamineWorkbook.from_path(str(full_template)).get_sheet_by_name("_lists").to_python()
    columns = {col[0]: [v for v in col[1:] if v != ""] for col in zip(*lists, strict=True)}
    assert columns["专业"] == ["计算机应用", "会计事务", "中餐烹饪"]
    assert columns["专业方向"] == ["网络技术", "软件开发", "中式面点"]
    assert columns["年级"] == ["2023", "2024"]
    assert columns["民族"][:2] == ["汉族", "蒙古族"]
    assert columns["国籍/地区"][0] == "中国"


def test_gender_and_birth_date_cells_hold_formulas_on_every_template_row(data_sheet_xml):
    formulas = {
        c.get("r"): c.find("m:f", NS).text
        for c in data_sheet_xml.iter(f"{{{NS['m']}}}c")
        if c.find("m:f", NS) is not None
    }
    gender, birth = column("gender"), column("birth_date")
    assert f"{gender}2" in formulas and f"{gender}{TEMPLATE_ROWS + 1}" in formulas
    assert f"{birth}{TEMPLATE_ROWS + 1}" in formulas
    assert len(formulas) == 2 * TEMPLATE_ROWS
    assert f"MID({column('id_number')}2,IF(LEN({column('id_number')}2)=18,17,15),1)" in formulas[f"{gender}2"]
    # Each row's formula reads its own row's ID number and document type.
    last = TEMPLATE_ROWS + 1
    assert f"LEN({column('id_number')}{last})=18" in formulas[f"{birth}{last}"]
    assert f'{column("id_type")}{last}="居民身份证"' in formulas[f"{gender}{last}"]
    assert f"{column('id_number')}{last - 1}" not in formulas[f"{gender}{last}"]


def test_id_number_and_phone_columns_are_formatted_as_text(full_template, data_sheet_xml):
    with zipfile.ZipFile(full_template) as archive:
        styles = ElementTree.fromstring(archive.read("xl/styles.xml"))
    xfs = styles.find("m:cellXfs", NS).findall("m:xf", NS)
    cols = data_sheet_xml.find("m:cols", NS).findall("m:col", NS)
    index = [f.key for f in FIELDS].index("id_number") + 1
    col = next(c for c in cols if int(c.get("min")) <= index <= int(c.get("max")))
    assert xfs[int(col.get("style"))].get("numFmtId") == "49"  # "@", text


def test_help_sheet_describes_every_field(full_template):
    rows = CalamineWorkbook.from_path(str(full_template)).get_sheet_by_name("采集指标说明").to_python()
    described = {row[1]: row for row in rows[1 : len(FIELDS) + 1]}
    assert set(described) == {f.label for f in FIELDS}
    assert described["准考证号"][2] == "条件必填：招生方式为统一招生时必填"
    assert described["性别"][2] == "必填（可由身份证件号自动生成）"
    assert described["身份证件号"][6] == "11010520080301002X"


def test_codes_sheet_lists_every_code_table(full_template):
    rows = CalamineWorkbook.from_path(str(full_template)).get_sheet_by_name("字典").to_python()
    tables = {row[0] for row in rows[1:]}
    assert {"民族", "性别", "招生方式", "联招合作类型", "国籍/地区", "本校专业"} <= tables
    assert ["民族", "01", "汉族"] in rows
    listed = {tuple(row) for row in rows[1:]}
    for f in FIELDS:
        if f.code_table:
            missing = [item for item in code_table(f.code_table).items if (f.code_table, *item) not in listed]
            assert missing == [], f.code_table
    assert ("国籍/地区", "HKG", "中国香港") in listed
    assert ("专业方向（计算机应用）", "710201", "网络技术") in listed


def test_template_opens_in_libreoffice_and_keeps_its_sheets(filled):
    workbook = CalamineWorkbook.from_path(str(filled["saved"]))
    assert workbook.sheet_names[:3] == ["招生信息", "采集指标说明", "字典"]


def test_formulas_fill_gender_and_birth_date_in_libreoffice(filled):
    rows = CalamineWorkbook.from_path(str(filled["saved"])).get_sheet_by_name("招生信息").to_python()
    gender, birth = [f.key for f in FIELDS].index("gender"), [f.key for f in FIELDS].index("birth_date")
    assert rows[1][gender] == "男" and rows[1][birth] == datetime.date(2008, 3, 2)
    assert rows[2][gender] == "女" and rows[2][birth] == datetime.date(1908, 3, 2)
    # A passport: the formula leaves it to the registrar, who typed it.
    assert rows[3][gender] == "女" and rows[3][birth] == datetime.date(2008, 5, 6)
    # Rows nobody filled: the formulas give "", so the row stays blank.
    assert all(cell == "" for cell in rows[4])
    with filled["csv"].open(encoding="utf-8", newline="") as handle:
        csv_rows = list(csv.reader(handle))
    assert (csv_rows[1][gender], csv_rows[1][birth]) == ("男", "2008-03-02")


def test_a_filled_template_saved_by_libreoffice_passes_the_check(filled):
    report = check_file(filled["saved"], make_ctx())
    assert report.file_errors == []
    assert report.rows_checked == 3
    errors = [(r.row, e.message) for r in report.rows for e in r.errors if e.severity == "error"]
    # The legacy 15-digit number is upgraded and accepted: only warnings, no errors.
    assert errors == []


def test_template_written_to_a_buffer_is_the_same_workbook(school):
    buffer = io.BytesIO()
    write_template(buffer, school, rows=10)
    workbook = CalamineWorkbook.from_filelike(io.BytesIO(buffer.getvalue()))
    assert workbook.sheet_names[0] == "招生信息"


def test_template_without_a_school_offers_the_national_major_catalog(tmp_path):
    path = tmp_path / "national.xlsx"
    write_template(path, None, rows=10)
    lists = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("_lists").to_python()
    header = lists[0]
    majors = [row[header.index("专业")] for row in lists[1:] if row[header.index("专业")]]
    assert len(majors) > 300 and "专业方向" not in header


def test_an_empty_template_is_a_file_without_data_rows(full_template):
    assert check_file(full_template, make_ctx()).file_errors == ["文件中没有数据行"]


def test_resident_id_helper_is_consistent():
    assert resident_id("11010519491231002") == "11010519491231002X"


def test_full_template_survives_a_libreoffice_round_trip_with_its_drop_downs(full_template, tmp_path):
    (saved,) = soffice_convert([full_template], "xlsx:Calc MS Excel 2007 XML", tmp_path)
    with zipfile.ZipFile(saved) as archive:
        sheet = ElementTree.fromstring(archive.read("xl/worksheets/sheet1.xml"))
    lists = {
        v.find("m:formula1", NS).text: v.get("sqref")
        for v in sheet.findall(".//m:dataValidation", NS)
        if v.get("type") == "list"
    }
    for f in FIELDS:
        if f.kind in LIST_KINDS:
            assert lists[f"list_{f.key}"].startswith(f"{column(f.key)}2:"), f.label
    assert CalamineWorkbook.from_path(str(saved)).sheet_names[:3] == ["招生信息", "采集指标说明", "字典"]


ODS = {
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
}


def _ods_validations_by_row(content: ElementTree.Element, sheet: str, wanted: set[int]) -> dict[int, list[str]]:
    """Validation names of each column on the wanted rows of an ods sheet (repeated rows and cells expanded)."""
    t = f"{{{ODS['table']}}}"
    table = next(x for x in content.iter(f"{t}table") if x.get(f"{t}name") == sheet)
    found: dict[int, list[str]] = {}
    number = 0
    for row in table.iter(f"{t}table-row"):
        repeat = int(row.get(f"{t}number-rows-repeated", "1"))
        hits = [n for n in wanted if number < n <= number + repeat]
        number += repeat
        if not hits:
            continue
        names: list[str] = []
        for cell in row:
            names += [cell.get(f"{t}content-validation-name", "")] * int(cell.get(f"{t}number-columns-repeated", "1"))
        for n in hits:
            found[n] = names
    return found


def test_libreoffice_applies_the_drop_downs_and_hints_to_every_row(full_template, tmp_path):
    """Opened in LibreOffice (headless): the file loads whole, and LibreOffice itself holds a refusing
    drop-down on every row of every code column, down to the last row of the sheet."""
    (ods,) = soffice_convert([full_template], "ods", tmp_path)
    with zipfile.ZipFile(ods) as archive:
        content = ElementTree.fromstring(archive.read("content.xml"))
    t = f"{{{ODS['table']}}}"
    rules = {}
    for validation in content.iter(f"{t}content-validation"):
        error = validation.find(f"{t}error-message")
        hint = validation.find(f"{t}help-message")
        rules[validation.get(f"{t}name")] = (
            validation.get(f"{t}condition"),
            error.get(f"{t}message-type") if error is not None else None,
            hint.get(f"{t}title") if hint is not None else None,
        )
    sheets = [x.get(f"{t}name") for x in content.iter(f"{t}table")]
    assert sheets == ["招生信息", "采集指标说明", "字典", "_lists"]
    rows = (2, TEMPLATE_ROWS + 1, TEMPLATE_ROWS + 2, LAST_SHEET_ROW)
    by_row = _ods_validations_by_row(content, "招生信息", set(rows))
    assert set(by_row) == set(rows)
    for n in rows:
        for index, f in enumerate(FIELDS):
            condition, error_type, title = rules[by_row[n][index]]
            assert title == f.label, (n, f.label)
            if f.kind in LIST_KINDS:
                assert condition == f"of:cell-content-is-in-list(list_{f.key})", (n, f.label)
                assert error_type == "stop", (n, f.label)
    named = {x.get(f"{t}name") for x in content.iter(f"{t}named-range")}
    assert {f"list_{f.key}" for f in FIELDS if f.kind in LIST_KINDS} <= named
