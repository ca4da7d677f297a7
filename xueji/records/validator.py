"""The row validator: ``validate_row(raw, ctx) -> (clean, errors)``.

One code path for the single-add form, the pre-check (开始检查), the background import and the API. Rows are
dicts keyed by field key (``catalog.FIELDS``); values are whatever the source produced: text from a form or
a CSV, or calamine's str / float / bool / date / datetime cells.

Speed matters (100,000-row files, target ≤ 2x python-calamine's bare read), so the catalog is compiled once
per context into one checker function per field. A checker returns the clean value or raises ``Problem``;
exceptions cost only on the rare bad cell, and code-table checks are a single dict lookup.
"""

from __future__ import annotations

import datetime
import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, Literal

from xueji.records import idnumber
from xueji.records.catalog import FIELDS, FIELDS_BY_KEY, Field, Kind, Required
from xueji.records.codes import CodeTable, cell_text, code_table, country_table
from xueji.records.context import RowContext, SchoolCatalog
from xueji.records.refdata import area_label, area_periods, catalog_majors, current_area_codes, current_successor

Severity = Literal["error", "warning"]
ERROR: Severity = "error"
WARNING: Severity = "warning"


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one field of one row, in words a registrar understands."""

    key: str
    label: str
    value: str
    message: str
    severity: Severity = ERROR
    suggestion: str | None = None  # a value to offer, e.g. 户口所在地 from the ID number

    def to_dict(self) -> dict[str, str | None]:
        return {
            "field": self.key,
            "label": self.label,
            "value": self.value,
            "message": self.message,
            "severity": self.severity,
            "suggestion": self.suggestion,
        }


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


def _pinyin_checker(f: Field) -> Checker:
    limit = f.max_length or 100

    def check(value: Any) -> str:
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
        if value.__class__ is str and len(value) <= limit and _SERIAL_FAST.fullmatch(value):
            return value
        text = (value if isinstance(value, str) else cell_text(value)).translate(_FULLWIDTH).replace(" ", "")
        if not _SERIAL.fullmatch(text) or text[0] == "-":
            raise Problem(f"{f.label}只能含字母和数字")
        if len(text) > limit:
            raise Problem(f"{f.label}不能超过{limit}位")
        return text

    return check


# --- the school's own choices -----------------------------------------------------------------------------

_ALL_SPACES = str.maketrans({" ": None, "\u3000": None, "\t": None, "\u00a0": None})


def _choices_text(items: list[str], limit: int = 10) -> str:
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
            lookup[spelling.translate(_ALL_SPACES)] = code

    def check(value: Any) -> str:
        text = value if isinstance(value, str) else cell_text(value)
        code = lookup.get(text) or lookup.get(text.translate(_ALL_SPACES))
        if code is not None:
            return code
        if not labels:
            raise Problem(f"“{text}”不是《职业教育专业目录》中的中职专业")
        nearest = difflib.get_close_matches(text, list(choices.values()), n=3, cutoff=0.3)
        named = [f"{name}({code})" for code, name in choices.items() if name in nearest] or labels
        raise Problem(f"“{text}”不是本校开设的专业，可选：{_choices_text(named)}")

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
            raise Problem(f"{f.label}{year}不是本校已建的年级，可选：{_choices_text([str(g) for g in sorted(grades)])}")
        return year

    return check


# --- compiling and running ----------------------------------------------------------------------------------

# Fields checked after the per-field pass, because they depend on other fields of the row.
_DEFERRED = frozenset({"id_number", "direction", "class_name"})
_SUGGESTED_FROM_ID = ("household_region", "origin_region")


def _checker_for(f: Field, ctx: RowContext) -> Checker:
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


# Fields whose values repeat down a file (codes, places, dates, majors, short texts): the answer for a value
# seen before is one dict lookup. Only clean answers are remembered, so every bad cell is reported. Checkers
# of these kinds depend on nothing but the value and the context the validator was built for.
_MEMO_KINDS = frozenset(
    {
        Kind.CODE,
        Kind.COUNTRY,
        Kind.REGION,
        Kind.MAJOR,
        Kind.GRADE,
        Kind.DATE,
        Kind.MONTH,
        Kind.NUMBER,
        Kind.POSTCODE,
        Kind.SCHOOL_CODE,
        Kind.TEXT,
    }
)
_MEMO_LIMIT = 20_000  # per field: bounded memory on a file of unique addresses


class RowValidator:
    """The catalog compiled for one context. Build once per file (or per request) and call ``validate``."""

    def __init__(self, ctx: RowContext):
        self.ctx = ctx
        # (key, label, checker, always required and not derivable, memo) for the per-field pass.
        self._plan: list[tuple[str, str, Checker, bool, dict[object, object] | None]] = []
        for f in FIELDS:
            if f.key in _DEFERRED:
                continue
            must = f.required is Required.ALWAYS and not f.derivable and f.key not in _SUGGESTED_FROM_ID
            memo: dict[object, object] | None = {} if f.kind in _MEMO_KINDS else None
            self._plan.append((f.key, f.label, _checker_for(f, ctx), must, memo))
        self._rules = [(f.key, f.label, f.rule, f.required_when) for f in FIELDS if f.required_when]
        school = ctx.school
        self._directions = {m.code: m.directions for m in school.majors} if school else {}
        self._classes: dict[tuple[int, str], str] = {}
        self._class_names: set[str] = set()
        if school:
            for c in school.classes:
                self._classes[(c.grade, c.name)] = c.major_code
                self._class_names.add(c.name)

    def validate(self, raw: Mapping[str, object]) -> tuple[dict[str, object], list[FieldError]]:
        clean: dict[str, object] = {}
        errors: list[FieldError] = []
        failed: set[str] = set()
        get = raw.get
        for key, label, check, must, memo in self._plan:
            original = value = get(key)
            if value is None:
                if must:
                    errors.append(FieldError(key, label, "", f"{label}不能为空"))
                    failed.add(key)
                continue
            if memo is not None:
                # True == 1 in a dict: a boolean cell must not pick up the answer for the number 1.
                hit = memo.get(value)
                if hit is not None and value is not True and value is not False:
                    clean[key] = hit
                    continue
            if value.__class__ is str:
                value = value.strip()  # type: ignore[union-attr]
                if not value:
                    if must:
                        errors.append(FieldError(key, label, "", f"{label}不能为空"))
                        failed.add(key)
                    continue
            try:
                result = check(value)
            except Problem as problem:
                errors.append(FieldError(key, label, cell_text(value), problem.message, problem.severity))
                if problem.severity == ERROR:
                    failed.add(key)
                else:
                    clean[key] = problem.clean
                continue
            clean[key] = result
            if memo is not None and len(memo) < _MEMO_LIMIT:
                memo[original] = result
        self._check_identity(raw, clean, errors, failed)
        self._check_school_choices(raw, clean, errors, failed)
        self._check_rules(clean, errors, failed)
        return clean, errors

    # -- the ID number and what derives from it

    def _check_identity(
        self, raw: Mapping[str, object], clean: dict[str, object], errors: list[FieldError], failed: set[str]
    ) -> None:
        number_raw = raw.get("id_number")
        number_text = cell_text(number_raw)
        result: idnumber.IdResult | None = None
        if not number_text:
            errors.append(FieldError("id_number", "身份证件号", "", "身份证件号不能为空"))
            failed.add("id_number")
        else:
            id_type = clean.get("id_type")
            if id_type is None:
                # Type blank or unknown (already reported): a number shaped like a resident ID is still checked
                # as one, so that the registrar sees every problem of the row at once.
                shaped = len(idnumber.normalise_id_number(number_raw)) in (15, 18)
                id_type = idnumber.RESIDENT_ID if shaped else None
            if id_type is None:
                clean["id_number"] = idnumber.normalise_id_number(number_raw)
            else:
                result = idnumber.check_document(str(id_type), number_raw, today=self.ctx.today)
                for message in result.errors:
                    errors.append(FieldError("id_number", "身份证件号", number_text, message))
                for message in result.warnings:
                    errors.append(FieldError("id_number", "身份证件号", number_text, message, WARNING))
                if result.errors:
                    failed.add("id_number")
                else:
                    clean["id_number"] = result.number

        self._derive("gender", "性别", result.gender if result else None, clean, errors, failed)
        self._derive("birth_date", "出生日期", result.birth_date if result else None, clean, errors, failed)
        self._derive_hmt(result, clean, errors, failed)
        suggestion = result.suggested_region if result else None
        for key in _SUGGESTED_FROM_ID:
            if key in clean or key in failed:
                continue
            label = FIELDS_BY_KEY[key].label
            if suggestion:
                message = f"{label}不能为空；按身份证件号可填{area_label(suggestion)}"
            else:
                message = f"{label}不能为空"
            errors.append(FieldError(key, label, "", message, suggestion=suggestion))
            failed.add(key)

    def _derive(
        self,
        key: str,
        label: str,
        derived: object,
        clean: dict[str, object],
        errors: list[FieldError],
        failed: set[str],
    ) -> None:
        if key in failed:
            return
        given = clean.get(key)
        if given is None:
            if derived is None:
                errors.append(FieldError(key, label, "", f"{label}不能为空"))
                failed.add(key)
            else:
                clean[key] = derived
        elif derived is not None and given != derived:
            shown = code_table("性别").name_of(str(derived)) if key == "gender" else f"{derived}"
            errors.append(FieldError(key, label, _shown(key, given), f"{label}与身份证件号不符：应为{shown}"))
            failed.add(key)
            del clean[key]

    def _derive_hmt(
        self, result: idnumber.IdResult | None, clean: dict[str, object], errors: list[FieldError], failed: set[str]
    ) -> None:
        key, label = "hmt_status", "港澳台侨外"
        if key in failed:
            return
        derived = result.hmt if result else None
        given = clean.get(key)
        if given is None:
            if derived is None:
                errors.append(FieldError(key, label, "", f"{label}不能为空"))
                failed.add(key)
            else:
                clean[key] = derived
            return
        if derived in (idnumber.HMT_HONG_KONG, idnumber.HMT_MACAO, idnumber.HMT_TAIWAN):
            # A Hong Kong document belongs to a 香港同胞; "同胞亲属" (the next code) hold their own documents,
            # but a registrar may still record a relative, so both are accepted.
            relative = f"{int(derived) + 1:02d}"
            if given not in (derived, relative):
                expected = code_table(label).name_of(derived)
                errors.append(FieldError(key, label, _shown(key, given), f"{label}与身份证件不符：应为{expected}"))
                failed.add(key)
                del clean[key]

    # -- majors, directions, grades, classes

    def _check_school_choices(
        self, raw: Mapping[str, object], clean: dict[str, object], errors: list[FieldError], failed: set[str]
    ) -> None:
        major = clean.get("major")
        direction = cell_text(raw.get("direction"))
        if direction and "major" in failed:
            pass  # the major is wrong; its directions cannot be judged until it is fixed
        elif direction:
            text = direction.translate(_ALL_SPACES)
            directions = self._directions.get(str(major), ()) if major else ()
            if text[0] in FORMULA_START:
                errors.append(FieldError("direction", "专业方向", direction, "专业方向不能以“=”“+”“-”“@”开头"))
                failed.add("direction")
            elif self.ctx.school is None or not self.ctx.school.majors or major is None:
                # Without the school's catalog (or a valid major) only the form can be checked.
                if len(direction) > 64:
                    errors.append(FieldError("direction", "专业方向", direction, "专业方向不能超过64个字"))
                    failed.add("direction")
                else:
                    clean["direction"] = direction
            elif not directions:
                errors.append(FieldError("direction", "专业方向", direction, "本校该专业未设置专业方向，此项应留空"))
                failed.add("direction")
            elif direction in directions:
                clean["direction"] = direction
            else:
                match = next((d for d in directions if d.translate(_ALL_SPACES) == text), None)
                if match is None:
                    errors.append(
                        FieldError(
                            "direction",
                            "专业方向",
                            direction,
                            f"“{direction}”不是本校该专业的专业方向，可选：{_choices_text(list(directions))}",
                        )
                    )
                    failed.add("direction")
                else:
                    clean["direction"] = match

        class_name = cell_text(raw.get("class_name"))
        if class_name:
            if class_name[0] in FORMULA_START:
                errors.append(FieldError("class_name", "班级", class_name, "班级不能以“=”“+”“-”“@”开头"))
            elif not self._class_names:
                clean["class_name"] = class_name
            elif class_name not in self._class_names:
                errors.append(FieldError("class_name", "班级", class_name, f"“{class_name}”不是本校已建的班级"))
            else:
                grade = clean.get("grade")
                class_major = self._classes.get((grade, class_name)) if isinstance(grade, int) else None
                if isinstance(grade, int) and (grade, class_name) not in self._classes:
                    errors.append(FieldError("class_name", "班级", class_name, f"班级“{class_name}”不属于{grade}级"))
                elif class_major and major and class_major != major:
                    errors.append(FieldError("class_name", "班级", class_name, f"班级“{class_name}”不是所填专业的班级"))
                else:
                    clean["class_name"] = class_name

    # -- required-by-rule fields and cross-field plausibility

    def _check_rules(self, clean: dict[str, object], errors: list[FieldError], failed: set[str]) -> None:
        for key, label, rule, required_when in self._rules:
            if key not in clean and key not in failed and required_when(clean, self.ctx):
                errors.append(FieldError(key, label, "", f"{label}不能为空：{rule}"))
                failed.add(key)
        month = clean.get("enrolment_month")
        grade = clean.get("grade")
        if isinstance(month, datetime.date) and isinstance(grade, int) and abs(month.year - grade) > 1:
            errors.append(
                FieldError(
                    "enrolment_month",
                    "入学年月",
                    f"{month:%Y-%m}",
                    f"入学年月{month:%Y-%m}与年级{grade}不一致",
                    WARNING,
                )
            )
        birth = clean.get("birth_date")
        if isinstance(birth, datetime.date) and isinstance(month, datetime.date):
            age = month.year - birth.year - ((month.month, 1) < (birth.month, birth.day))
            if age < 12:
                errors.append(
                    FieldError(
                        "birth_date", "出生日期", f"{birth:%Y-%m-%d}", f"入学时未满12周岁（{age}岁），请核对", WARNING
                    )
                )


def _shown(key: str, code: object) -> str:
    f = FIELDS_BY_KEY[key]
    if f.code_table and isinstance(code, str):
        return code_table(f.code_table).name_of(code)
    if isinstance(code, datetime.date):
        return f"{code:%Y-%m-%d}"
    return str(code)


@lru_cache(maxsize=32)
def _validator_for(ctx: RowContext) -> RowValidator:
    return RowValidator(ctx)


def validate_row(raw: Mapping[str, object], ctx: RowContext) -> tuple[dict[str, object], list[FieldError]]:
    """Check one row. ``clean`` holds codes (民族 "01"), dates, Decimals and trimmed text for the valid
    fields, including values derived from the ID number; ``errors`` lists every problem, errors and warnings.
    A row can be saved when no item of ``errors`` has severity "error"."""
    return _validator_for(ctx).validate(raw)


def has_errors(errors: list[FieldError]) -> bool:
    return any(e.severity == ERROR for e in errors)


class DuplicateIdTracker:
    """The same ID number twice in one file: every later row is an error naming the first one (一人一籍)."""

    def __init__(self) -> None:
        self._first_row: dict[str, int] = {}

    def check(self, row_number: int, id_number: object) -> FieldError | None:
        if not isinstance(id_number, str) or not id_number:
            return None
        first = self._first_row.setdefault(id_number, row_number)
        if first == row_number:
            return None
        return FieldError("id_number", "身份证件号", id_number, f"与第{first}行身份证件号重复")
