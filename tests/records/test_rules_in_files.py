"""Every rule of the validator, end to end, through the files registrars really upload.

One table of cases (a row each) is written four ways: filled into our import template, written by xlsxwriter
directly, saved by LibreOffice (the template filled in and saved, so that its formulas were recalculated,
and the plain workbook converted to ods and xls), and a CSV saved as GBK. Each file goes through the
pre-check, and each row must report exactly the problems of its case: row number, field, severity and the
message the registrar reads. The clean values of the rows that pass are checked too (codes, derived fields).
"""

from __future__ import annotations

import csv
import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest

from tests.records.helpers import make_ctx, resident_id, soffice_convert, valid_row, write_xlsx
from xueji.records.catalog import FIELDS
from xueji.records.check import check_file, check_rows
from xueji.records.template import write_template
from xueji.records.workbook import open_table

KEYS = [f.key for f in FIELDS]
FORMATS = ("template", "xlsxwriter", "libreoffice-template", "libreoffice-ods", "libreoffice-xls", "gbk-csv")
XLSX_ONLY = frozenset(FORMATS) - {"gbk-csv"}

GOOD_ID = valid_row(1)["id_number"]  # 110105200803020013: 男, born 2008-03-02
X_ID = valid_row(27)["id_number"]  # 11010520080328027X
LEGACY_ID = "110105080302001"  # 15 digits: born 1908-03-02, 男
LEGACY_UPGRADED = resident_id("11010519080302001")
HONG_KONG_PERMIT = resident_id("81000020080301002")
WRONG_CHECK_DIGIT = GOOD_ID[:-1] + ("4" if GOOD_ID[-1] != "4" else "5")
EXPECTED_CHECK_DIGIT = GOOD_ID[-1]
ENROLMENT = datetime.date(2024, 9, 1)


@dataclass
class Case:
    what: str
    row: dict[str, object]
    problems: set[tuple[str, str, str]] = field(default_factory=set)  # (field, severity, message)
    clean: dict[str, object] = field(default_factory=dict)
    formats: frozenset[str] = frozenset(FORMATS)  # elsewhere the row is left blank (and so skipped)


def error(key: str, message: str) -> tuple[str, str, str]:
    return (key, "error", message)


def warning(key: str, message: str) -> tuple[str, str, str]:
    return (key, "warning", message)


CASES = [
    Case(
        "a valid row typed with names: codes come out, 性别, 出生日期 and 港澳台侨外 derive from the ID number",
        valid_row(1),
        clean={
            "id_number": GOOD_ID,
            "ethnicity": "01",
            "nationality": "CHN",
            "gender": "1",
            "birth_date": datetime.date(2008, 3, 2),
            "hmt_status": "00",
            "major": "710201",
            "direction": "网络技术",
            "schooling_length": "3",
            "grade": 2024,
            "exam_score": Decimal(520),
            "enrolment_month": ENROLMENT,
        },
    ),
    Case(
        "code tables accept the code instead of the name",
        valid_row(2, ethnicity="01", health_status="1", study_mode="1", household_type="2"),
        clean={"ethnicity": "01", "health_status": "1", "study_mode": "1", "household_type": "2"},
    ),
    Case(
        "full-width digits, spaces and a lower-case x in the ID number are normalised",
        valid_row(27, id_number="１１０１０５ ２００８０３２８ ０２７ｘ"),
        clean={"id_number": X_ID, "gender": "1", "birth_date": datetime.date(2008, 3, 28)},
    ),
    Case(
        "a wrong check digit names the right one",
        valid_row(3, id_number=WRONG_CHECK_DIGIT),
        {error("id_number", f"身份证件号校验位错误：应为{EXPECTED_CHECK_DIGIT}")},
    ),
    Case(
        "a 15-digit number is upgraded to 18 digits",
        valid_row(4, id_number=LEGACY_ID),
        {warning("id_number", f"15位身份证件号已升级为18位：{LEGACY_UPGRADED}")},
        clean={"id_number": LEGACY_UPGRADED, "gender": "1", "birth_date": datetime.date(1908, 3, 2)},
    ),
    Case(
        "a birth date in the future inside the ID number",
        valid_row(5, id_number=resident_id("11010520990101002"), gender="男", birth_date="2008-03-01"),
        {error("id_number", "身份证件号中的出生日期2099-01-01晚于今天")},
    ),
    Case(
        "an impossible birth date inside the ID number",
        valid_row(6, id_number=resident_id("11010520090230002"), gender="女", birth_date="2009-03-02"),
        {error("id_number", "身份证件号中的出生日期20090230不存在")},
    ),
    Case(
        "a region part that never existed is only a warning",
        valid_row(7, id_number=resident_id("99999920080301003")),
        {warning("id_number", "身份证件号前6位999999不是任何时期的行政区划代码，请核对")},
        clean={"gender": "1", "birth_date": datetime.date(2008, 3, 1)},
    ),
    Case(
        "性别 and 出生日期 that contradict the ID number",
        valid_row(8, gender="男", birth_date="2008-03-03"),  # 110105200803090088: 女, born 2008-03-09
        {
            error("gender", "性别与身份证件号不符：应为女"),
            error("birth_date", "出生日期与身份证件号不符：应为2008-03-09"),
        },
    ),
    Case(
        "blank 户口所在地 and 生源地 are suggested from the ID number",
        valid_row(10, household_region="", origin_region=""),
        {
            error("household_region", "户口所在地行政区划不能为空；按身份证件号可填110105 北京市朝阳区"),
            error("origin_region", "生源地行政区划不能为空；按身份证件号可填110105 北京市朝阳区"),
        },
    ),
    Case(
        "a Hong Kong residence permit number makes the student a 香港同胞",
        valid_row(11, id_number=HONG_KONG_PERMIT, household_region="810000", origin_region="810000"),
        clean={"hmt_status": "01", "id_number": HONG_KONG_PERMIT},
    ),
    Case(
        "港澳台侨外 that contradicts a Hong Kong permit",
        valid_row(12, id_number=resident_id("81000020080302004"), hmt_status="否", household_region="810000"),
        {error("hmt_status", "港澳台侨外与身份证件不符：应为香港同胞")},
    ),
    Case(
        "a passport gets no resident-ID checksum; 性别 and 出生日期 as typed",
        valid_row(
            13,
            id_type="护照",
            id_number="E12345678",
            gender="女",
            birth_date="2008-05-06",
            nationality="美国",
            hmt_status="外国人",
        ),
        clean={"id_number": "E12345678", "gender": "2", "birth_date": datetime.date(2008, 5, 6), "hmt_status": "51"},
    ),
    Case(
        "a passport without 性别, 出生日期 and 港澳台侨外: nothing to derive them from",
        valid_row(14, id_type="护照", id_number="E23456789"),
        {
            error("gender", "性别不能为空"),
            error("birth_date", "出生日期不能为空"),
            error("hmt_status", "港澳台侨外不能为空"),
        },
    ),
    Case(
        "a Taiwan travel permit makes the student a 台湾同胞",
        valid_row(15, id_type="台湾居民来往大陆通行证", id_number="12345678", gender="女", birth_date="2008-01-01"),
        clean={"hmt_status": "05", "id_number": "12345678"},
    ),
    Case(
        "a malformed Macao document number",
        valid_row(16, id_type="澳门特区护照/身份证明", id_number="ABC", gender="女", birth_date="2008-01-01"),
        {error("id_number", "澳门证件号格式不正确：应为澳门身份证号（如1234567(8)）、特区护照号或回乡证号")},
    ),
    Case(
        "an unknown 民族 lists the nearest names",
        valid_row(17, ethnicity="汉足"),
        {error("ethnicity", "“汉足”不是有效的民族，最接近的有：汉族")},
    ),
    Case(
        "a major the school does not offer lists the school's majors",
        valid_row(18, major="计算机", direction=""),
        {error("major", "“计算机”不是本校开设的专业，可选：计算机应用(710201)")},
    ),
    Case(
        "a major with spaces around it is the school's major",
        valid_row(19, major=" 计算机应用 "),
        clean={"major": "710201"},
    ),
    Case(
        "a direction of another major lists this major's directions",
        valid_row(20, direction="中式面点"),
        {error("direction", "“中式面点”不是本校该专业的专业方向，可选：网络技术、软件开发")},
    ),
    Case(
        "a direction is required when the school defines directions for the major",
        valid_row(21, direction=""),
        {error("direction", "专业方向不能为空：学校为该专业设置了专业方向时必填")},
    ),
    Case("入学年月 written 2024/9/1", valid_row(22, enrolment_month="2024/9/1"), clean={"enrolment_month": ENROLMENT}),
    Case("入学年月 written 202409", valid_row(23, enrolment_month="202409"), clean={"enrolment_month": ENROLMENT}),
    Case(
        "入学年月 written 2024年9月", valid_row(24, enrolment_month="2024年9月"), clean={"enrolment_month": ENROLMENT}
    ),
    Case(
        "入学年月 as an Excel date serial (a number cell)",
        valid_row(25, enrolment_month=45536),
        clean={"enrolment_month": ENROLMENT},
    ),
    Case(
        "入学年月 as a real date cell",
        valid_row(26, enrolment_month=datetime.date(2024, 9, 1)),
        clean={"enrolment_month": ENROLMENT},
        formats=XLSX_ONLY,
    ),
    Case(
        "an unreadable 入学年月",
        valid_row(28, enrolment_month="九月"),
        {error("enrolment_month", "入学年月“九月”无法识别，请写成2014-09 或 2014年9月")},
    ),
    Case(
        "a score written in full-width digits with 分",
        valid_row(29, exam_score="５２０分"),
        clean={"exam_score": Decimal(520)},
    ),
    Case(
        "a score as a number cell",
        valid_row(31, exam_score=487.5),
        clean={"exam_score": Decimal("487.5")},
    ),
    Case(
        "a minority name with the middle dot, and one typed with a full-width full stop",
        valid_row(32, name="阿依古丽·买买提", guardian_name="买买提．吐尔逊"),
        clean={"name": "阿依古丽·买买提", "guardian_name": "买买提·吐尔逊"},
    ),
    Case(
        "a name with rare characters (CJK extension B, outside GBK)",
        valid_row(33, name="𠈌𠮷"),
        clean={"name": "𠈌𠮷"},
        formats=XLSX_ONLY,
    ),
    Case("a name with rare characters inside GBK", valid_row(34, name="龘犇"), clean={"name": "龘犇"}),
    Case("a foreign name in letters", valid_row(35, name="John  Smith"), clean={"name": "John Smith"}),
    Case(
        "names that start like a formula",
        valid_row(36, name="=1+1", guardian_name="@张三"),
        {
            error("name", "姓名不能以“=”“+”“-”“@”开头"),
            error("guardian_name", "监护人姓名不能以“=”“+”“-”“@”开头"),
        },
    ),
    Case(
        "a name over the length limit", valid_row(37, name="张" * 51), {error("name", "姓名不能超过50个字（现为51个）")}
    ),
    Case("a name with digits", valid_row(38, name="张三3"), {error("name", "姓名不能含数字")}),
    Case(
        "the same ID number as row 2",
        valid_row(1, name="李四"),
        {error("id_number", "与第2行身份证件号重复")},
    ),
    Case(
        "统一招生 requires 准考证号, 考生号 and 考试总分",
        valid_row(39, exam_ticket_no="", candidate_no="", exam_score=""),
        {
            error("exam_ticket_no", "准考证号不能为空：招生方式为统一招生时必填"),
            error("candidate_no", "考生号不能为空：招生方式为统一招生时必填"),
            error("exam_score", "考试总分不能为空：招生方式为统一招生时必填"),
        },
    ),
    Case(
        "自主招生 does not",
        valid_row(40, admission_method="自主招生", exam_ticket_no="", candidate_no="", exam_score=""),
        clean={"admission_method": "2"},
    ),
    Case(
        "a joint programme requires the partner school and the form",
        valid_row(41, joint_type="城乡联合办学"),
        {
            error("joint_school_code", "联招合作学校代码不能为空：联招合作类型不是非联合办学时必填"),
            error("joint_form", "联招合作办学形式不能为空：联招合作类型不是非联合办学时必填"),
        },
    ),
    Case("a blank always-required cell", valid_row(42, ethnicity=""), {error("ethnicity", "民族不能为空")}),
    Case("a blank row in the middle is skipped", {}),
    Case(
        "an 18-digit ID number stored as an Excel number has lost its last digits",
        valid_row(43, id_number=110105200803120430),
        {error("id_number", "身份证件号被存成了数字，末几位已丢失：请把该列设为文本格式后重新输入")},
        formats=XLSX_ONLY,
    ),
    Case(
        "phone numbers: a bad one, and a local number without its area code",
        valid_row(44, phone="1380013800", guardian_phone="87654321"),
        {
            error("phone", "联系电话“1380013800”格式不正确：手机号为11位，固定电话为区号-号码"),
            warning("guardian_phone", "监护人联系电话是固定电话时请加区号，如010-87654321"),
        },
    ),
]


def rows_for(fmt: str) -> list[dict[str, object]]:
    return [case.row if fmt in case.formats else {} for case in CASES]


def write_gbk_csv(path: Path, rows: list[dict[str, object]]) -> Path:
    with path.open("w", encoding="gbk", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([f.label for f in FIELDS])
        for row in rows:
            writer.writerow(["" if row.get(k) is None else str(row.get(k, "")) for k in KEYS])
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory, school) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("rules")
    template = directory / "template.xlsx"
    write_template(template, school, rows=len(CASES) + 10, data=rows_for("template"))
    plain = write_xlsx(
        directory / "plain.xlsx",
        [f.header for f in FIELDS],
        [[row.get(k) for k in KEYS] for row in rows_for("xlsxwriter")],
    )
    (saved_template,) = soffice_convert([template], "xlsx:Calc MS Excel 2007 XML", directory / "lo-template")
    (ods,) = soffice_convert([plain], "ods", directory / "lo")
    (xls,) = soffice_convert([plain], "xls", directory / "lo")
    return {
        "template": template,
        "xlsxwriter": plain,
        "libreoffice-template": saved_template,
        "libreoffice-ods": ods,
        "libreoffice-xls": xls,
        "gbk-csv": write_gbk_csv(directory / "gbk.csv", rows_for("gbk-csv")),
    }


def expected_problems(fmt: str) -> dict[int, set[tuple[str, str, str]]]:
    return {
        number: case.problems
        for number, case in enumerate(CASES, start=2)
        if case.problems and fmt in case.formats and case.row
    }


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_rule_reports_row_field_severity_and_message(files, fmt):
    report = check_file(files[fmt], make_ctx())
    assert report.file_errors == []
    found = {r.row: {(e.key, e.severity, e.message) for e in r.errors} for r in report.rows}
    expected = expected_problems(fmt)
    for number in sorted(set(found) | set(expected)):
        case = CASES[number - 2]
        assert found.get(number, set()) == expected.get(number, set()), f"第{number}行 {case.what}"
    assert report.rows_checked == sum(1 for case in CASES if case.row and fmt in case.formats)


@pytest.mark.parametrize("fmt", FORMATS)
def test_errors_name_the_value_as_typed(files, fmt):
    by_row = check_file(files[fmt], make_ctx()).errors_by_row()
    (ethnicity,) = by_row[row_of("an unknown 民族")].errors
    assert (ethnicity.label, ethnicity.value) == ("民族", "汉足")
    (id_error,) = by_row[row_of("a wrong check digit")].errors
    assert (id_error.label, id_error.value) == ("身份证件号", WRONG_CHECK_DIGIT)
    (name,) = by_row[row_of("a name with digits")].errors
    assert (name.label, name.value) == ("姓名", "张三3")


def row_of(what: str) -> int:
    """The sheet row of the case whose description starts so."""
    return next(number for number, case in enumerate(CASES, start=2) if case.what.startswith(what))


@pytest.mark.parametrize("fmt", FORMATS)
def test_clean_values_of_each_case(files, fmt):
    clean_by_row = {number: clean for number, clean, _ in check_rows(open_table(files[fmt]), make_ctx())}
    for number, case in enumerate(CASES, start=2):
        if not case.clean or fmt not in case.formats:
            continue
        clean = clean_by_row[number]
        got = {key: clean.get(key) for key in case.clean}
        assert got == case.clean, f"第{number}行 {case.what}"
