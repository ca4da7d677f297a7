"""The import template (招生导入模板), written from the field catalog with xlsxwriter.

Sheets: 招生信息 (the data sheet: ★ headers, frozen header, text-formatted ID/phone columns, a drop-down on
every code-table field and on the school's majors, directions, grades and classes, input hints, and
formulas that fill 性别 and 出生日期 from the ID number), 采集指标说明 (every field: required or when,
format, example), 字典 (every code table) and a hidden _lists sheet that the drop-downs read from (an
inline list is limited to 255 characters; 民族 alone is longer).
"""

from __future__ import annotations

import datetime
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO, Any

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

from xueji.records.catalog import FIELDS, TEXT_FORMAT_KINDS, Field, Kind, Required
from xueji.records.codes import code_table, code_table_names, country_table
from xueji.records.context import SchoolCatalog
from xueji.records.refdata import catalog_majors

DATA_SHEET = "招生信息"
HELP_SHEET = "采集指标说明"
CODES_SHEET = "字典"
LISTS_SHEET = "_lists"
# Data rows that get the 性别 / 出生日期 formulas: rows 2..10001 (20,000 formulas; more would make the file
# slow to open for little use: the validator derives both anyway). The drop-downs and input hints cover every
# row of the sheet (LAST_SHEET_ROW), so no row a registrar can type in accepts a value outside the lists.
TEMPLATE_ROWS = 10_000
LAST_SHEET_ROW = 1_048_576  # the last row of an xlsx sheet (1-based)

_FORMAT_TEXT = {
    Kind.DATE: "日期，如2008-03-01",
    Kind.MONTH: "年月，如2014-09",
    Kind.NUMBER: "数字",
    Kind.CODE: "字典值（名称或代码）",
    Kind.COUNTRY: "国家或地区名称",
    Kind.REGION: "6位行政区划代码",
    Kind.ID_NUMBER: "文本",
    Kind.PHONE: "文本",
    Kind.POSTCODE: "6位数字",
    Kind.SCHOOL_CODE: "10位数字",
    Kind.MAJOR: "本校专业名称或代码",
    Kind.DIRECTION: "本校专业方向名称",
    Kind.GRADE: "4位年份",
}


class _DataSheet(Worksheet):
    """A worksheet that skips xlsxwriter's future-function rewriting for the template's own formulas.

    That rewriting runs about 30 regular expressions per formula: 3 s for the 20,000 formulas of a template.
    Ours use only Excel 2007 functions, so it has nothing to do. If xlsxwriter renames this private hook the
    override is simply not called, and the template is still right, only slower."""

    def _prepare_formula(self, formula: str, expand_future_functions: bool = False) -> str:
        if formula.startswith("=IFERROR(IF(AND(OR(") or formula.startswith("=IFERROR(IF(OR("):
            return formula[1:]
        return super()._prepare_formula(formula, expand_future_functions)


def _column_letter(key: str) -> str:
    return xl_col_to_name(next(i for i, f in enumerate(FIELDS) if f.key == key))


def _gender_formula(row: int) -> str:
    """性别 from the 17th digit (15th of a legacy number): odd 男, even 女; blank unless a resident ID."""
    id_cell, type_cell = f"{_column_letter('id_number')}{row}", f"{_column_letter('id_type')}{row}"
    is_resident = f'OR({type_cell}="",{type_cell}="居民身份证")'
    digit = f"MID({id_cell},IF(LEN({id_cell})=18,17,15),1)"
    return (
        f"=IFERROR(IF(AND({is_resident},OR(LEN({id_cell})=18,LEN({id_cell})=15)),"
        f'IF(MOD(VALUE({digit}),2)=1,"男","女"),""),"")'
    )


def _birth_formula(row: int) -> str:
    """出生日期 from digits 7-14 (7-12 with an implied 19 for a legacy 15-digit number)."""
    id_cell, type_cell = f"{_column_letter('id_number')}{row}", f"{_column_letter('id_type')}{row}"
    is_resident = f'OR({type_cell}="",{type_cell}="居民身份证")'
    long_date = f"DATE(VALUE(MID({id_cell},7,4)),VALUE(MID({id_cell},11,2)),VALUE(MID({id_cell},13,2)))"
    short_date = f"DATE(1900+VALUE(MID({id_cell},7,2)),VALUE(MID({id_cell},9,2)),VALUE(MID({id_cell},11,2)))"
    return f'=IFERROR(IF({is_resident},IF(LEN({id_cell})=18,{long_date},IF(LEN({id_cell})=15,{short_date},"")),""),"")'


def display_width(text: str) -> int:
    """Width in Excel's character units: a CJK character takes two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def column_width(f: Field) -> int:
    """The catalog's width for the values, widened so that the bold header is never cut off."""
    return max(f.width, display_width(f.header) + 2)


def _choices(f: Field, school: SchoolCatalog | None) -> list[str] | None:
    """The drop-down values of a field, or None when the field has no fixed list."""
    if f.kind is Kind.CODE and f.code_table:
        return list(code_table(f.code_table).names)
    if f.kind is Kind.COUNTRY:
        return list(country_table().names)
    if f.kind is Kind.MAJOR:
        if school and school.majors:
            return [m.name for m in school.majors]
        return list(dict.fromkeys(m.name for m in catalog_majors().values()))
    if f.kind is Kind.DIRECTION and school and school.all_directions:
        # One list of all the school's directions rather than one per major: a dependent list needs
        # INDIRECT over defined names, which breaks on major names with brackets and in some WPS versions.
        # The validator still checks that the direction belongs to the row's major.
        return list(school.all_directions)
    if f.kind is Kind.GRADE and school and school.grades:
        return [str(year) for year in school.grades]
    if f.kind is Kind.CLASS and school and school.classes:
        return list(dict.fromkeys(c.name for c in school.classes))
    return None


def _hint(f: Field) -> str:
    text = f"{f.requirement_text}。{f.help}" if f.help else f.requirement_text
    if f.example:
        text += f"。例：{f.example}"
    return text[:250]


def write_template(
    path_or_buffer: str | Path | IO[bytes],
    school: SchoolCatalog | None = None,
    *,
    rows: int = TEMPLATE_ROWS,
    data: Iterable[Mapping[str, object]] = (),
) -> None:
    """Write the import template. With a school, its majors, directions, grades and classes become drop-downs.

    ``data`` pre-fills rows (values by field key): a correction sheet for rows that failed, or test data.
    性别 and 出生日期 left out of a row keep their formulas."""
    in_memory = not isinstance(path_or_buffer, str | Path)
    workbook = xlsxwriter.Workbook(
        path_or_buffer if in_memory else str(path_or_buffer),
        {"strings_to_formulas": False, "strings_to_numbers": False, "in_memory": in_memory},
    )
    workbook.set_properties({"title": "招生导入模板", "subject": "学籍管理系统", "author": "学籍管理系统"})
    header_required = workbook.add_format(
        {"bold": True, "font_color": "#C00000", "bg_color": "#FDE9D9", "border": 1, "align": "center"}
    )
    header_optional = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "align": "center"})
    text_format = workbook.add_format({"num_format": 49})  # built-in "@": every reader knows it
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    month_format = workbook.add_format({"num_format": "yyyy-mm"})
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    bold = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})

    sheet = workbook.add_worksheet(DATA_SHEET, worksheet_class=_DataSheet)
    help_sheet = workbook.add_worksheet(HELP_SHEET)
    prefilled = list(data)
    codes = workbook.add_worksheet(CODES_SHEET)
    lists = workbook.add_worksheet(LISTS_SHEET)
    lists.hide()
    sheet.activate()

    last_row = rows  # 0-based index of the last prepared data row
    list_column = 0
    for col, f in enumerate(FIELDS):
        sheet.write_string(0, col, f.header, header_required if f.required is Required.ALWAYS else header_optional)
        if f.kind is Kind.DATE:
            column_format = date_format
        elif f.kind is Kind.MONTH:
            column_format = month_format
        elif f.kind in TEXT_FORMAT_KINDS or f.kind in (Kind.DIRECTION, Kind.CLASS, Kind.NAME, Kind.PINYIN):
            column_format = text_format
        else:
            column_format = None
        sheet.set_column(col, col, column_width(f), column_format)

        options: dict[str, Any] = {
            "input_title": f.label[:32],
            "input_message": _hint(f),
            "ignore_blank": True,
        }
        choices = _choices(f, school)
        if choices:
            lists.write_string(0, list_column, f.label)
            for index, choice in enumerate(choices, start=1):
                lists.write_string(index, list_column, choice)
            letter = xl_col_to_name(list_column)
            name = f"list_{f.key}"
            workbook.define_name(name, f"={LISTS_SHEET}!${letter}$2:${letter}${len(choices) + 1}")
            list_column += 1
            options |= {
                "validate": "list",
                "source": f"={name}",
                "error_type": "stop",
                "error_title": f"{f.label}不在可选范围内"[:32],
                "error_message": "请从下拉列表中选择。",
            }
        elif f.max_length and f.kind not in (Kind.DATE, Kind.MONTH, Kind.NUMBER):
            options |= {
                "validate": "length",
                "criteria": "<=",
                "value": f.max_length,
                "error_type": "stop",
                "error_title": f"{f.label}太长"[:32],
                "error_message": f"{f.label}不能超过{f.max_length}个字符。",
            }
        else:
            options["validate"] = "any"
        sheet.data_validation(1, col, LAST_SHEET_ROW - 1, col, options)

    # 批量自动生成: 性别 and 出生日期 follow the ID number until the registrar types over them. The cached
    # result is "", so a row nobody filled in stays blank for every reader.
    gender_col = next(i for i, f in enumerate(FIELDS) if f.key == "gender")
    birth_col = next(i for i, f in enumerate(FIELDS) if f.key == "birth_date")
    for row in range(1, last_row + 1):
        values = prefilled[row - 1] if row <= len(prefilled) else {}
        if not values.get("gender"):
            sheet.write_formula(row, gender_col, _gender_formula(row + 1), None, "")
        if not values.get("birth_date"):
            sheet.write_formula(row, birth_col, _birth_formula(row + 1), date_format, "")
    _write_rows(sheet, prefilled, date_format)
    sheet.freeze_panes(1, 1)
    sheet.set_row(0, 22)

    _write_help(help_sheet, school, rows, bold, wrap)
    _write_codes(codes, school, bold)
    workbook.close()


def _write_rows(sheet: Any, rows: Iterable[Mapping[str, object]], date_format: Any) -> None:
    """Pre-fill data rows (a correction sheet, tests): values by field key, as text unless a date or number."""
    columns = {f.key: col for col, f in enumerate(FIELDS)}
    for row, values in enumerate(rows, start=1):
        for key, value in values.items():
            if value is None or value == "":
                continue
            col = columns[key]
            if isinstance(value, datetime.date):
                sheet.write_datetime(row, col, value, date_format)
            elif isinstance(value, int | float) and not isinstance(value, bool):
                sheet.write_number(row, col, value)
            else:
                sheet.write_string(row, col, str(value))


def _write_help(sheet: Any, school: SchoolCatalog | None, rows: int, bold: Any, wrap: Any) -> None:
    headers = ["序号", "采集指标", "是否必填", "格式", "长度上限", "说明", "示例", "字典"]
    for col, text in enumerate(headers):
        sheet.write_string(0, col, text, bold)
    for index, f in enumerate(FIELDS, start=1):
        sheet.write_number(index, 0, index)
        sheet.write_string(index, 1, f.label)
        sheet.write_string(index, 2, f.requirement_text, wrap)
        sheet.write_string(index, 3, _FORMAT_TEXT.get(f.kind, "文本"))
        if f.max_length:
            sheet.write_number(index, 4, f.max_length)
        sheet.write_string(index, 5, f.help, wrap)
        sheet.write_string(index, 6, f.example)
        table = f.code_table or ("国籍/地区" if f.kind is Kind.COUNTRY else "")
        sheet.write_string(index, 7, table)
    notes = [
        "填写说明",
        "1. 带★的列必须填写；“条件必填”的列在括号中的条件成立时必须填写。",
        "2. 请从第2行开始填写，每行一名学生；下拉列表和输入提示覆盖所有行，"
        f"第2至{rows + 1}行预置了生成性别和出生日期的公式。",
        "3. 性别和出生日期留空时，由居民身份证号自动生成（单元格中已有公式，直接填写即可覆盖）。",
        "4. 身份证件号、联系电话等列已设为文本格式，请勿改为数字，否则18位号码会变成科学计数。",
        "5. 字典项可填写名称或代码，可选值见“字典”工作表。",
        "6. 不要修改表头文字；列的顺序可以调整，系统按表头名称识别各列。",
    ]
    if school and school.name:
        notes.append(f"7. 本模板为{school.name}（{school.code}）生成，专业、专业方向、年级为本校设置。")
    start = len(FIELDS) + 2
    for offset, text in enumerate(notes):
        sheet.write_string(start + offset, 1, text, bold if offset == 0 else None)
    sheet.set_column(0, 0, 6)
    sheet.set_column(1, 1, 18)
    sheet.set_column(2, 2, 30)
    sheet.set_column(3, 4, 14)
    sheet.set_column(5, 5, 60)
    sheet.set_column(6, 7, 18)
    sheet.freeze_panes(1, 2)


def _write_codes(sheet: Any, school: SchoolCatalog | None, bold: Any) -> None:
    for col, text in enumerate(("字典", "代码", "名称")):
        sheet.write_string(0, col, text, bold)
    row = 1
    used = {f.code_table for f in FIELDS if f.code_table}
    for table_name in code_table_names():
        if table_name not in used:
            continue
        for code, label in code_table(table_name).items:
            sheet.write_string(row, 0, table_name)
            sheet.write_string(row, 1, code)
            sheet.write_string(row, 2, label)
            row += 1
    for code, label in country_table().items:
        sheet.write_string(row, 0, "国籍/地区")
        sheet.write_string(row, 1, code)
        sheet.write_string(row, 2, label)
        row += 1
    if school and school.majors:
        for major in school.majors:
            sheet.write_string(row, 0, "本校专业")
            sheet.write_string(row, 1, major.code)
            sheet.write_string(row, 2, major.name)
            row += 1
        for major in school.majors:
            for direction in major.directions:
                sheet.write_string(row, 0, f"专业方向（{major.name}）")
                sheet.write_string(row, 1, major.code)
                sheet.write_string(row, 2, direction)
                row += 1
    sheet.autofilter(0, 0, row - 1, 2)
    sheet.freeze_panes(1, 0)
    sheet.set_column(0, 0, 24)
    sheet.set_column(1, 1, 10)
    sheet.set_column(2, 2, 30)


def template_headers() -> list[str]:
    """The data sheet's header row, as written."""
    return [f.header for f in FIELDS]
