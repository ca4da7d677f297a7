"""Checkers for single fields, one factory per field kind (``catalog.Kind``).

A checker takes a non-blank cell value and returns the clean value (a code, a date, a Decimal, trimmed
text) or raises ``Problem`` with a message a registrar understands. Checkers depend only on the value and on
what they were built with, which is what lets the row validator remember answers for repeated values.
Checks that need several fields of the row live in ``validator.py``.
"""

from __future__ import annotations

import datetime
import difflib
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, Literal

from xueji.records.catalog import Field, Kind
from xueji.records.codes import CodeTable, cell_text, code_table, country_table
from xueji.records.context import RowContext, SchoolCatalog
from xueji.records.refdata import area_label, area_periods, catalog_majors, current_area_codes, current_successor

Severity = Literal["error", "warning"]
ERROR: Severity = "error"
WARNING: Severity = "warning"


class Problem(Exception):
    """Raised by a checker. A warning carries the clean value so that the row can still be used."""

    def __init__(self, message: str, severity: Severity = ERROR, clean: object = None):
        super().__init__(message)
        self.message = message
        self.severity = severity
        self.clean = clean


Checker = Callable[[Any], object]

FORMULA_START = frozenset("=+-@")
_FULLWIDTH = str.maketrans({code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20})


def _formula_guard(text: str, label: str) -> None:
    if text[0] in FORMULA_START:
        raise Problem(f"{label}不能以“=”“+”“-”“@”开头")


# --- text and names ---------------------------------------------------------------------------------------


def _text_checker(f: Field) -> Checker:
    limit = f.max_length

    def check(value: Any) -> str:
        text = value if isinstance(value, str) else cell_text(value)
        _formula_guard(text, f.label)
        if limit and len(text) > limit:
            raise Problem(f"{f.label}不能超过{limit}个字（现为{len(text)}个）")
        return text

    return check


_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3007\U00020000-\U0002ee5f\U0002f800-\U0002fa1f\U00030000-\U000323af"
_PRIVATE_USE = "\ue000-\uf8ff"  # rare characters some older systems encoded in the private-use area
_LATIN = "A-Za-z\u00c0-\u024f"
_COMMON_NAME = re.compile(r"[\u4e00-\u9fff]{2,10}")  # the fast path: most names
_NAME_CHARS = re.compile(rf"[{_CJK}{_PRIVATE_USE}{_LATIN}·.' \-]+")
_NAME_BAD_CHAR = re.compile(rf"[^{_CJK}{_PRIVATE_USE}{_LATIN}·.' \-]")
_HAS_CJK = re.compile(rf"[{_CJK}{_PRIVATE_USE}]")
_HAS_PRIVATE = re.compile(rf"[{_PRIVATE_USE}]")
_SPACES = re.compile(r"\s+")
# The many dots people type for the 间隔号 in names such as 阿依古丽·买买提.
_DOTS = str.maketrans(dict.fromkeys("•‧∙⋅・･﹒．‐", "·") | {"\u2027": "·", "\u30fb": "·"})


def _name_checker(f: Field) -> Checker:
    limit = f.max_length or 50

    def check(value: Any) -> str:
        text = value if isinstance(value, str) else cell_text(value)
        if _COMMON_NAME.fullmatch(text):
            return text
        _formula_guard(text, f.label)
        text = text.translate(_DOTS).translate(_FULLWIDTH)
        if "." in text and _HAS_CJK.search(text):
            text = text.replace(".", "·")  # a full stop between Chinese names is meant as the 间隔号
        # Spaces between Chinese characters are typing slips ("张 三"); between Latin words they separate names.
        text = _SPACES.sub("", text) if not re.search(f"[{_LATIN}]", text) else _SPACES.sub(" ", text).strip()
        if not _NAME_CHARS.fullmatch(text):
            bad = _NAME_BAD_CHAR.search(text)
            char = bad.group() if bad else text
            if char.isdigit():
                raise Problem(f"{f.label}不能含数字")
            raise Problem(f"{f.label}含有不允许的字符“{char}”")
        if text[0] == "·" or text[-1] == "·" or "··" in text:
            raise Problem(f"{f.label}中的间隔号“·”不能在开头、结尾或连续出现")
        if len(text) > limit:
            raise Problem(f"{f.label}不能超过{limit}个字（现为{len(text)}个）")
        if _HAS_PRIVATE.search(text):
            raise Problem(f"{f.label}含有私用区生僻字，其他系统可能无法显示，请核对", WARNING, text)
        if len(text) == 1 and _HAS_CJK.match(text):
            raise Problem(f"{f.label}只有一个字，请核对", WARNING, text)
        return text

    return check


_PINYIN = re.compile(r"[A-ZÜ]+(?:[ '\-·][A-ZÜ]+)*")
_PLAIN_PINYIN = re.compile(r"[A-Za-z]+(?: [A-Za-z]+)*")  # the common case: nothing to fold or collapse


def _pinyin_checker(f: Field) -> Checker:
    limit = f.max_length or 100

    def check(value: Any) -> str:
        if value.__class__ is str and len(value) <= limit and _PLAIN_PINYIN.fullmatch(value):
            return value.upper()  # type: ignore[no-any-return]
        text = _SPACES.sub(" ", cell_text(value).translate(_FULLWIDTH)).strip().upper()
        if not _PINYIN.fullmatch(text):
            raise Problem(f"{f.label}只能含字母（ü可写作v），音节间可用空格")
        if len(text) > limit:
            raise Problem(f"{f.label}不能超过{limit}个字符")
        return text

    return check


# --- dates and numbers ------------------------------------------------------------------------------------

EXCEL_EPOCH = datetime.date(1899, 12, 30)  # serial 1 = 1900-01-01, counting Excel's phantom 1900-02-29
_DATE_TEXT = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*(?:月\s*)?(?:[-/.]?\s*(\d{1,2})\s*日?)?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?"
)


def parse_date(value: object) -> tuple[int, int, int | None] | None:
    """(year, month, day or None) from any accepted spelling; None when it is not a date at all.

    Accepts 2014-09, 2014/9/1, 2014.09.01, 201409, 20140901, 2014年9月, 2014年9月1日, "2014-09-01 00:00:00",
    date and datetime cells, and Excel serial numbers (a date typed into a cell without a date format).
    The result may still be an impossible date (2014-02-30); the caller builds the date and says so.
    """
    if isinstance(value, datetime.datetime):
        return value.year, value.month, value.day
    if isinstance(value, datetime.date):
        return value.year, value.month, value.day
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        if isinstance(value, float) and not value.is_integer():
            value = int(value)  # a serial with a time part
        number = int(value)
        text = str(number)
        # 6 and 8 digits read as yyyymm / yyyymmdd: as serials they would be centuries away.
        if len(text) in (6, 8) and 1900 <= number // 10 ** (len(text) - 4) <= 2100:
            return _digits_date(text)
        if 1 <= number <= 2958465:
            serial_day = EXCEL_EPOCH + datetime.timedelta(days=number)
            return serial_day.year, serial_day.month, serial_day.day
        return None
    text = str(value).translate(_FULLWIDTH).strip()
    if text.isascii() and text.isdigit():
        if len(text) == 5:  # a serial that reached us as text, e.g. through a CSV export
            return parse_date(int(text))
        return _digits_date(text) if len(text) in (6, 8) else None
    match = _DATE_TEXT.fullmatch(text)
    if not match:
        return None
    year, month, day = match.groups()
    return int(year), int(month), int(day) if day else None


def _digits_date(text: str) -> tuple[int, int, int | None] | None:
    if len(text) == 6:
        return int(text[:4]), int(text[4:]), None
    if len(text) == 8:
        return int(text[:4]), int(text[4:6]), int(text[6:])
    return None


def _date_checker(f: Field, ctx: RowContext, *, month_only: bool) -> Checker:
    today = ctx.today
    cache: dict[object, object] = {}
    # Birth dates: none in the future; 入学年月: allow the coming intake, nothing further.
    latest = today if not month_only else datetime.date(today.year + 1, 12, 31)
    earliest_year = 1900 if not month_only else 1950

    def parse(value: Any) -> object:
        parts = parse_date(value)
        if parts is None:
            example = "2014-09 或 2014年9月" if month_only else "2008-03-01 或 2008/3/1"
            return Problem(f"{f.label}“{cell_text(value)}”无法识别，请写成{example}")
        year, month, day = parts
        if day is None and not month_only:
            return Problem(f"{f.label}需精确到日，如{year}-{month:02d}-01")
        try:
            result = datetime.date(year, month, 1 if month_only else day or 1)
        except ValueError:
            return Problem(f"{f.label}“{cell_text(value)}”不是存在的日期")
        if year < earliest_year:
            return Problem(f"{f.label}{result:%Y-%m-%d}不合理")
        if result > latest:
            return Problem(f"{f.label}{result:%Y-%m-%d}晚于今天" if not month_only else f"{f.label}晚于明年")
        return result

    def check(value: Any) -> object:
        key = value if not isinstance(value, datetime.datetime) else value.date()
        try:
            result = cache[key]
        except KeyError:
            result = parse(value)
            if len(cache) < 100_000:
                cache[key] = result
        except TypeError:  # unhashable: never from a workbook, but a form might pass anything
            result = parse(value)
        if isinstance(result, Problem):
            raise result
        return result

    return check


def _score_checker(f: Field) -> Checker:
    def check(value: Any) -> Decimal:
        if isinstance(value, bool):
            raise Problem(f"{f.label}应为数字")
        if isinstance(value, int | float):
            number = Decimal(str(value))
        else:
            text = cell_text(value).translate(_FULLWIDTH).replace(" ", "").removesuffix("分")
            try:
                number = Decimal(text)
            except InvalidOperation:
                raise Problem(f"{f.label}“{text}”不是数字") from None
        if not number.is_finite() or not 0 <= number <= 1000:
            raise Problem(f"{f.label}应在0至1000之间")
        if number != number.quantize(Decimal("0.1")):
            raise Problem(f"{f.label}最多一位小数")
        # Decimal("520.0").normalize() would give 5.2E+2; keep a plain integer form for whole scores.
        return Decimal(int(number)) if number == number.to_integral_value() else number

    return check


# --- codes, countries, regions ----------------------------------------------------------------------------


def _code_checker(f: Field, table: CodeTable) -> Checker:
    resolve = table.resolve

    def check(value: Any) -> str:
        code = resolve(value)
        if code is None:
            raise Problem(table.unknown_message(value, f.label))
        return code

    return check


_SIX_DIGITS = re.compile(r"(?<!\d)(\d{6})(?!\d)")
# Provinces and prefectures whose subdivisions the GB/T 2260 list does not carry: a province code is the
# finest answer there.
_NO_COUNTY_PROVINCES = frozenset({"710000", "810000", "820000"})


@lru_cache(maxsize=8192)
def _region_problem(code: str) -> tuple[str, Severity] | None:
    if code in current_area_codes():
        level = area_periods()[code][-1].level
        if level != "县级" and code not in _NO_COUNTY_PROVINCES:
            return f"{area_label(code)}是{level}代码，请填写到区县级", WARNING
        return None
    if code in area_periods():
        successor = current_successor(code)
        instead = f"，现为{area_label(successor)}" if successor else "，请填写现行代码"
        return f"行政区划代码{area_label(code)}已停用{instead}", ERROR
    return f"“{code}”不是有效的行政区划代码", ERROR


def _region_checker(f: Field) -> Checker:
    def check(value: Any) -> str:
        text = value if isinstance(value, str) else cell_text(value)
        if len(text) != 6 or not text.isdigit():
            # "110105 北京市朝阳区", "北京市朝阳区(110105)": take the code.
            match = _SIX_DIGITS.search(text.translate(_FULLWIDTH))
            if not match:
                raise Problem(f"{f.label}应为6位行政区划代码，如110105")
            text = match.group(1)
        problem = _region_problem(text)
        if problem:
            raise Problem(problem[0], problem[1], text)
        return text

    return check


# --- contact and serial numbers ---------------------------------------------------------------------------

_MOBILE = re.compile(r"1[3-9]\d{9}")
_LANDLINE = re.compile(r"0\d{2,3}-?\d{7,8}(?:-\d{1,6})?")
_INTERNATIONAL = re.compile(r"(?:\+|00)?(?:852|853|886)-?\d{6,10}|\+\d{6,15}")
_LOCAL_NUMBER = re.compile(r"\d{7,8}")
_PHONE_CLEAN = str.maketrans({" ": None, "(": None, ")": None, "（": None, "）": None, "—": "-", "－": "-"})


def _phone_checker(f: Field) -> Checker:
    def check(value: Any) -> str:
        if value.__class__ is str and _MOBILE.fullmatch(value):
            return value  # the common case, without the clean-up below
        text = (value if isinstance(value, str) else cell_text(value)).translate(_FULLWIDTH).translate(_PHONE_CLEAN)
        if _MOBILE.fullmatch(text) or _LANDLINE.fullmatch(text) or _INTERNATIONAL.fullmatch(text):
            return text
        if _LOCAL_NUMBER.fullmatch(text):
            raise Problem(f"{f.label}是固定电话时请加区号，如010-{text}", WARNING, text)
        raise Problem(f"{f.label}“{text}”格式不正确：手机号为11位，固定电话为区号-号码")

    return check


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")


def _email_checker(f: Field) -> Checker:
    limit = f.max_length or 60

    def check(value: Any) -> str:
        if value.__class__ is str and value.isascii() and _EMAIL.fullmatch(value):
            text = value.strip()  # nothing full-width to fold in ASCII
        else:
            text = cell_text(value).translate(_FULLWIDTH).replace("＠", "@")
        if not _EMAIL.fullmatch(text) or text[0] in FORMULA_START:
            raise Problem(f"{f.label}“{text}”格式不正确")
        if len(text) > limit:
            raise Problem(f"{f.label}不能超过{limit}个字符")
        return text

    return check


def _digits_checker(f: Field, length: int, what: str) -> Checker:
    def check(value: Any) -> str:
        text = (value if isinstance(value, str) else cell_text(value)).translate(_FULLWIDTH).replace(" ", "")
        if len(text) != length or not text.isdigit():
            raise Problem(f"{f.label}应为{length}位数字{what}")
        return text

    return check


_SERIAL = re.compile(r"[0-9A-Za-z\-]+")
_SERIAL_FAST = re.compile(r"[0-9A-Za-z][0-9A-Za-z\-]*")


def _serial_checker(f: Field) -> Checker:
    limit = f.max_length or 30

    def check(value: Any) -> str:
        if value.__class__ is str and len(value) <= limit:
            # Letters and digits only: two str methods answer as _SERIAL_FAST would, at half its cost (100 ns).
            if (value.isascii() and value.isalnum()) or _SERIAL_FAST.fullmatch(value):
                return value
        text = (value if isinstance(value, str) else cell_text(value)).translate(_FULLWIDTH).replace(" ", "")
        if not _SERIAL.fullmatch(text) or text[0] == "-":
            raise Problem(f"{f.label}只能含字母和数字")
        if len(text) > limit:
            raise Problem(f"{f.label}不能超过{limit}位")
        return text

    return check


# --- the school's own choices -----------------------------------------------------------------------------

ALL_SPACES = str.maketrans({" ": None, "\u3000": None, "\t": None, "\u00a0": None})


def choices_text(items: list[str], limit: int = 10) -> str:
    shown = "、".join(items[:limit])
    return shown + (f"等{len(items)}项" if len(items) > limit else "")


def _major_checker(f: Field, school: SchoolCatalog | None) -> Checker:
    catalog = catalog_majors()
    if school and school.majors:
        choices = {m.code: m.name for m in school.majors}
        labels = [m.label for m in school.majors]
    else:
        choices = {code: major.name for code, major in catalog.items()}
        labels = []
    lookup: dict[str, str] = {}
    for code, name in choices.items():
        for spelling in (code, name, f"{name}({code})", f"{code}{name}", f"{code} {name}", f"{name}（{code}）"):
            lookup[spelling] = code
            lookup[spelling.translate(ALL_SPACES)] = code

    unknown: dict[str, str] = {}  # wrong values repeat down a file, and difflib is slow

    def check(value: Any) -> str:
        text = value if isinstance(value, str) else cell_text(value)
        code = lookup.get(text) or lookup.get(text.translate(ALL_SPACES))
        if code is not None:
            return code
        if not labels:
            raise Problem(f"“{text}”不是《职业教育专业目录》中的中职专业")
        message = unknown.get(text)
        if message is None:
            nearest = difflib.get_close_matches(text, list(choices.values()), n=3, cutoff=0.3)
            named = [f"{name}({code})" for code, name in choices.items() if name in nearest] or labels
            message = f"“{text}”不是本校开设的专业，可选：{choices_text(named)}"
            if len(unknown) < 10_000:
                unknown[text] = message
        raise Problem(message)

    return check


def _grade_checker(f: Field, ctx: RowContext) -> Checker:
    grades = set(ctx.school.grades) if ctx.school else set()
    latest = ctx.today.year + 1

    def check(value: Any) -> int:
        text = cell_text(value).translate(_FULLWIDTH).removesuffix("级").removesuffix("年")
        if len(text) != 4 or not text.isdigit():
            raise Problem(f"{f.label}应为4位入学年份，如2014")
        year = int(text)
        if not 1950 <= year <= latest:
            raise Problem(f"{f.label}{year}不合理")
        if grades and year not in grades:
            raise Problem(f"{f.label}{year}不是本校已建的年级，可选：{choices_text([str(g) for g in sorted(grades)])}")
        return year

    return check


def checker_for(f: Field, ctx: RowContext) -> Checker:
    kind = f.kind
    if kind is Kind.TEXT:
        return _text_checker(f)
    if kind is Kind.NAME:
        return _name_checker(f)
    if kind is Kind.PINYIN:
        return _pinyin_checker(f)
    if kind is Kind.DATE:
        return _date_checker(f, ctx, month_only=False)
    if kind is Kind.MONTH:
        return _date_checker(f, ctx, month_only=True)
    if kind is Kind.NUMBER:
        return _score_checker(f)
    if kind is Kind.CODE:
        assert f.code_table, f.key
        return _code_checker(f, code_table(f.code_table))
    if kind is Kind.COUNTRY:
        return _code_checker(f, country_table())
    if kind is Kind.REGION:
        return _region_checker(f)
    if kind is Kind.PHONE:
        return _phone_checker(f)
    if kind is Kind.EMAIL:
        return _email_checker(f)
    if kind is Kind.POSTCODE:
        return _digits_checker(f, 6, "")
    if kind is Kind.SCHOOL_CODE:
        return _digits_checker(f, 10, "的学校标识码")
    if kind is Kind.SERIAL:
        return _serial_checker(f)
    if kind is Kind.MAJOR:
        return _major_checker(f, ctx.school)
    if kind is Kind.GRADE:
        return _grade_checker(f, ctx)
    if kind in (Kind.ID_NUMBER, Kind.DIRECTION, Kind.CLASS):
        return _text_checker(f)  # checked with the rest of the row, see RowValidator.validate
    raise ValueError(f"no checker for {kind}")
