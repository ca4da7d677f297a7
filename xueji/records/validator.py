"""The row validator: ``validate_row(raw, ctx) -> (clean, errors)``.

One code path for the single-add form, the pre-check (开始检查), the background import and the API. Rows are
dicts keyed by field key (``catalog.FIELDS``); values are whatever the source produced: text from a form or
a CSV, or calamine's str / float / bool / date / datetime cells.

Speed matters (100,000-row files, target ≤ 2x python-calamine's bare read), so the catalog is compiled once
per context into one checker per field (``checkers.py``), answers for values seen before are remembered, and
only the checks that need several fields of the row run here.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from xueji.records import idnumber
from xueji.records.catalog import FIELDS, FIELDS_BY_KEY, Kind, Required, RowRule
from xueji.records.checkers import (
    ALL_SPACES,
    ERROR,
    FORMULA_START,
    WARNING,
    Checker,
    Problem,
    Severity,
    checker_for,
    choices_text,
)
from xueji.records.codes import cell_text, code_table
from xueji.records.context import RowContext
from xueji.records.refdata import area_label

__all__ = [
    "ERROR",
    "WARNING",
    "DuplicateIdTracker",
    "FieldError",
    "Problem",
    "RowValidator",
    "Severity",
    "has_errors",
    "validate_row",
]


SHOWN_VALUE_LENGTH = 60


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one field of one row, in words a registrar understands."""

    key: str
    label: str
    value: str
    message: str
    severity: Severity = ERROR
    suggestion: str | None = None  # a value to offer, e.g. 户口所在地 from the ID number

    def __post_init__(self) -> None:
        # The value is echoed in reports, pages and the failure records: a 32,767-character cell is shown by
        # its start and length, not whole (100,000 such rows would otherwise store gigabytes of reasons).
        if len(self.value) > SHOWN_VALUE_LENGTH:
            shown = f"{self.value[:SHOWN_VALUE_LENGTH]}…（共{len(self.value)}个字符）"
            object.__setattr__(self, "value", shown)

    def to_dict(self) -> dict[str, str | None]:
        return {
            "field": self.key,
            "label": self.label,
            "value": self.value,
            "message": self.message,
            "severity": self.severity,
            "suggestion": self.suggestion,
        }


# --- the row validator ------------------------------------------------------------------------------------

# Fields checked after the per-field pass, because they depend on other fields of the row.
_DEFERRED = frozenset({"id_number", "direction", "class_name"})
_SUGGESTED_FROM_ID = ("household_region", "origin_region")


# Fields whose values repeat down a file (codes, places, dates, majors, short texts, names): the answer for a
# value seen before is one dict lookup. Only clean answers are remembered, so every bad cell is reported.
# Checkers depend on nothing but the value and the context the validator was built for (see checkers.py).
# Phones, e-mail addresses and exam numbers are nearly unique per student: remembering them only costs memory.
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
        Kind.NAME,
        Kind.PINYIN,
    }
)
_MEMO_LIMIT = 20_000  # per field: bounded memory on a file of unique addresses


class _Marker:
    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return self.name


_TEXT_OR_BLANK = (str, type(None))
_MISS = _Marker("MISS")  # not seen before (or blank where it must not be): run the checker
_BLANK = _Marker("BLANK")  # an empty cell (None, "", spaces) of an optional field


# One entry of a validation plan: (position of the cell in the row, the memo's get, key, and what only a value not
# seen before needs: label, checker, always required and not derivable, memo, remember clean answers). Most
# cells are answered by their memo, so the loop over a row's 40-odd cells unpacks only what a memo hit needs.
_PlanEntry = tuple[int, Callable[[object, object], object], str, tuple[str, Checker, bool, dict[object, object], bool]]


class RowValidator:
    """The catalog compiled for one context. Build once per file (or per request) and call ``validate``, or
    ``for_columns`` to check rows given as lists of cells (a file's rows, without building a dict per row)."""

    def __init__(self, ctx: RowContext):
        self.ctx = ctx
        # (key, label, checker, must, memo, remember) for the per-field pass, in catalog order. The memos of
        # optional fields know the blank cells, so a blank optional cell is one lookup too; a blank cell that
        # must not be blank is never remembered, so that it takes the checker's path and is reported there.
        self._fields: list[tuple[str, str, Checker, bool, dict[object, object], bool]] = []
        for f in FIELDS:
            if f.key in _DEFERRED:
                continue
            must = f.required is Required.ALWAYS and not f.derivable and f.key not in _SUGGESTED_FROM_ID
            memo: dict[object, object] = {} if must else {None: _BLANK, "": _BLANK}
            self._fields.append((f.key, f.label, checker_for(f, ctx), must, memo, f.kind in _MEMO_KINDS))
        self._keys = tuple(f.key for f in FIELDS)
        self._dict_validate = self.for_columns(self._keys)
        self._rule_groups = _rule_groups()
        school = ctx.school
        self._directions = {m.code: m.directions for m in school.majors} if school else {}
        self._classes: dict[tuple[int, str], str] = {}
        self._class_names: set[str] = set()
        if school:
            for c in school.classes:
                self._classes[(c.grade, c.name)] = c.major_code
                self._class_names.add(c.name)
        # (major code, direction and class as typed, grade) → their clean values, for combinations without errors
        self._choices_memo: dict[tuple[object, ...], dict[str, object]] = {}

    def validate(self, raw: Mapping[str, object]) -> tuple[dict[str, object], list[FieldError]]:
        """Check one row given as {field key: value}; keys that are missing count as blank cells."""
        return self._dict_validate(list(map(raw.get, self._keys)))

    def for_columns(
        self, keys: Sequence[str | None]
    ) -> Callable[[Sequence[object]], tuple[dict[str, object], list[FieldError]]]:
        """``validate`` for rows given as lists of cells, where cell i holds the field ``keys[i]`` (None: a
        column that is not a field). A row shorter than ``keys`` is read as if padded with blank cells."""
        position = {key: index for index, key in enumerate(keys) if key}
        width = max(position.values(), default=-1) + 1
        plan: list[_PlanEntry] = []
        absent_required: list[tuple[str, str]] = []
        for key, label, check, must, memo, remember in self._fields:
            if key in position:
                plan.append((position[key], memo.get, key, (label, check, must, memo, remember)))
            elif must:
                absent_required.append((key, label))
        id_at, direction_at, class_at = (position.get(key) for key in ("id_number", "direction", "class_name"))
        run = self._validate_cells
        check_identity, check_school_choices, check_rules = (
            self._check_identity,
            self._check_school_choices,
            self._check_rules,
        )

        def validate_cells(cells: Sequence[object]) -> tuple[dict[str, object], list[FieldError]]:
            if len(cells) < width:
                cells = [*cells, *[None] * (width - len(cells))]
            clean, errors, failed = run(cells, plan)
            for key, label in absent_required:
                errors.append(FieldError(key, label, "", f"{label}不能为空"))
                failed.add(key)
            check_identity(None if id_at is None else cells[id_at], clean, errors, failed)
            check_school_choices(
                None if direction_at is None else cells[direction_at],
                None if class_at is None else cells[class_at],
                clean,
                errors,
                failed,
            )
            check_rules(clean, errors, failed)
            return clean, errors

        return validate_cells

    @staticmethod
    def _validate_cells(
        cells: Sequence[object], plan: list[_PlanEntry]
    ) -> tuple[dict[str, object], list[FieldError], set[str]]:
        """The per-field pass: each field on its own, through its memo or its checker."""
        clean: dict[str, object] = {}
        errors: list[FieldError] = []
        failed: set[str] = set()
        for at, recall, key, field in plan:
            value = cells[at]
            try:
                hit = recall(value, _MISS)
            except TypeError:  # unhashable: never from a workbook; a form passing a list gets its text checked
                value = str(value)
                hit = recall(value, _MISS)
            if hit is _MISS:
                label, check, must, memo, remember = field
                text = value.strip() if value.__class__ is str else value  # type: ignore[union-attr]
                if text == "" or text is None:
                    if must:
                        errors.append(FieldError(key, label, "", f"{label}不能为空"))
                        failed.add(key)
                    elif len(memo) < _MEMO_LIMIT:
                        memo[value] = _BLANK
                    continue
                try:
                    hit = check(text)
                except Problem as problem:
                    errors.append(FieldError(key, label, cell_text(text), problem.message, problem.severity))
                    if problem.severity == ERROR:
                        failed.add(key)
                    else:
                        clean[key] = problem.clean
                    continue
                # True == 1 == 1.0 in a dict: a boolean cell must not pick up the answer for the number 1, so
                # numbers equal to 0 or 1 are never remembered.
                if remember and len(memo) < _MEMO_LIMIT and (value.__class__ is str or value not in (0, 1)):
                    memo[value] = hit
            elif hit is _BLANK:
                continue
            clean[key] = hit
        return clean, errors, failed

    # -- the ID number and what derives from it

    def _check_identity(
        self, number_raw: object, clean: dict[str, object], errors: list[FieldError], failed: set[str]
    ) -> None:
        if number_raw.__class__ is str and clean.get("id_type") == idnumber.RESIDENT_ID:
            # The common case, in short: a resident ID that is right, and 性别, 出生日期, 港澳台侨外 and the
            # places either blank or agreeing with it. Anything else takes the full path below.
            facts = idnumber.resident_id_facts(number_raw, today=self.ctx.today)
            if facts is not None:
                number, id_gender, id_birth, id_hmt = facts
                gender, birth, hmt = clean.get("gender"), clean.get("birth_date"), clean.get("hmt_status")
                if (
                    (gender is None or gender == id_gender)
                    and (birth is None or birth == id_birth)
                    and (hmt is None or hmt == id_hmt or id_hmt == idnumber.HMT_NONE)
                    and "household_region" in clean
                    and "origin_region" in clean
                    and not failed
                ):
                    clean["id_number"] = number
                    if gender is None:
                        clean["gender"] = id_gender
                    if birth is None:
                        clean["birth_date"] = id_birth
                    if hmt is None:
                        clean["hmt_status"] = id_hmt
                    return
        number_text = cell_text(number_raw)
        result: idnumber.IdResult | None = None
        resident = clean.get("id_type") == idnumber.RESIDENT_ID
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
                resident = id_type == idnumber.RESIDENT_ID
                result = idnumber.check_document(str(id_type), number_raw, today=self.ctx.today)
                for message in result.errors:
                    errors.append(FieldError("id_number", "身份证件号", number_text, message))
                for message in result.warnings:
                    errors.append(FieldError("id_number", "身份证件号", number_text, message, WARNING))
                if result.errors:
                    failed.add("id_number")
                else:
                    clean["id_number"] = result.number

        # A mistyped number says nothing reliable about the person: fill blanks from it, but do not also
        # report every field it happens to contradict. A resident ID that is missing or unreadable is what
        # would fill 性别, 出生日期 and 港澳台侨外: its own error says what to fix, so their blanks are not
        # reported again (the row cannot be saved either way).
        trusted = result is not None and result.ok
        excused = resident and not trusted
        derive = self._derive
        derive("gender", "性别", result.gender if result else None, clean, errors, failed, trusted, excused)
        derive("birth_date", "出生日期", result.birth_date if result else None, clean, errors, failed, trusted, excused)
        self._derive_hmt(result, clean, errors, failed, excused)
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
        trusted: bool,
        excused: bool,
    ) -> None:
        if key in failed:
            return
        given = clean.get(key)
        if given is None:
            if derived is None:
                if not excused:
                    errors.append(FieldError(key, label, "", f"{label}不能为空"))
                failed.add(key)
            else:
                clean[key] = derived
        elif trusted and derived is not None and given != derived:
            shown = code_table("性别").name_of(str(derived)) if key == "gender" else f"{derived}"
            errors.append(FieldError(key, label, _shown(key, given), f"{label}与身份证件号不符：应为{shown}"))
            failed.add(key)
            del clean[key]

    def _derive_hmt(
        self,
        result: idnumber.IdResult | None,
        clean: dict[str, object],
        errors: list[FieldError],
        failed: set[str],
        excused: bool,
    ) -> None:
        key, label = "hmt_status", "港澳台侨外"
        if key in failed:
            return
        derived = result.hmt if result else None
        given = clean.get(key)
        if given is None:
            if derived is None:
                if not excused:
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
        self,
        direction_raw: object,
        class_raw: object,
        clean: dict[str, object],
        errors: list[FieldError],
        failed: set[str],
    ) -> None:
        major = clean.get("major")
        memo_key = None
        if major is not None and direction_raw.__class__ in _TEXT_OR_BLANK and class_raw.__class__ in _TEXT_OR_BLANK:
            # A school has a few dozen (major, direction, class, grade) combinations; each is judged once.
            memo_key = (major, direction_raw, class_raw, clean.get("grade"))
            known = self._choices_memo.get(memo_key)
            if known is not None:
                clean.update(known)
                return
        errors_before = len(errors)
        self._judge_school_choices(major, direction_raw, class_raw, clean, errors, failed)
        if memo_key is not None and len(errors) == errors_before and len(self._choices_memo) < _MEMO_LIMIT:
            self._choices_memo[memo_key] = {k: clean[k] for k in ("direction", "class_name") if k in clean}

    def _judge_school_choices(
        self,
        major: object,
        direction_raw: object,
        class_raw: object,
        clean: dict[str, object],
        errors: list[FieldError],
        failed: set[str],
    ) -> None:
        direction = cell_text(direction_raw)
        if direction and "major" in failed:
            pass  # the major is wrong; its directions cannot be judged until it is fixed
        elif direction:
            text = direction.translate(ALL_SPACES)
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
                match = next((d for d in directions if d.translate(ALL_SPACES) == text), None)
                if match is None:
                    errors.append(
                        FieldError(
                            "direction",
                            "专业方向",
                            direction,
                            f"“{direction}”不是本校该专业的专业方向，可选：{choices_text(list(directions))}",
                        )
                    )
                    failed.add("direction")
                else:
                    clean["direction"] = match

        class_name = cell_text(class_raw)
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
        ctx, present = self.ctx, clean.keys()
        for required_when, rule, keys, fields in self._rule_groups:
            # present >= keys, not keys <= present: a frozenset does not compare itself with a dict's keys, so
            # the reflected comparison ran every time (half the cost of the test, on every row).
            if present >= keys or not required_when(clean, ctx):
                continue
            for key, label in fields:
                if key not in clean and key not in failed:
                    errors.append(FieldError(key, label, "", f"{label}不能为空：{rule}"))
                    failed.add(key)
        month = clean.get("enrolment_month")
        if month.__class__ is not datetime.date:
            return
        grade = clean.get("grade")
        if grade.__class__ is int and abs(month.year - grade) > 1:  # type: ignore[union-attr, operator]
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
        if birth.__class__ is datetime.date and month.year - birth.year <= 12:  # type: ignore[union-attr]
            age = month.year - birth.year - ((month.month, 1) < (birth.month, birth.day))  # type: ignore[union-attr]
            if age < 12:
                errors.append(
                    FieldError(
                        "birth_date", "出生日期", f"{birth:%Y-%m-%d}", f"入学时未满12周岁（{age}岁），请核对", WARNING
                    )
                )


def _rule_groups() -> list[tuple[RowRule, str, frozenset[str], tuple[tuple[str, str], ...]]]:
    """The Required.RULE fields grouped by rule (and its wording), in catalog order: each rule is asked once
    per row, and only when one of its fields is missing."""
    groups: dict[tuple[RowRule, str], list[tuple[str, str]]] = {}
    for f in FIELDS:
        if f.required_when:
            groups.setdefault((f.required_when, f.rule), []).append((f.key, f.label))
    return [
        (rule_function, text, frozenset(key for key, _ in fields), tuple(fields))
        for (rule_function, text), fields in groups.items()
    ]


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
