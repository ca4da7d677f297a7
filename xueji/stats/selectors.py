"""统计查询: counts of the user's students by one dimension, computed in the database (GROUP BY)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db.models import Count, Expression, F, Q, QuerySet
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Substr

from xueji.orgs.models import User
from xueji.records.codes import code_table
from xueji.records.refdata import area_label
from xueji.reference.models import AreaCode
from xueji.students.models import State, Student
from xueji.students.selectors import students_visible_to


def _codes(table: str) -> Callable[[str], str]:
    names = dict(code_table(table).items)
    return lambda code: names.get(code, code)


def province_names(codes: Iterable[str]) -> dict[str, str]:
    """Province codes ("110000") → names from the reference table (AreaCode), in one query; a code the table
    does not hold keeps its label from the packaged file it is loaded from."""
    wanted = set(codes)
    names = {
        code: name
        for code, name in AreaCode.objects.filter(code__in=wanted, level=AreaCode.Level.PROVINCE)
        .order_by("code", "valid_from")
        .values_list("code", "name")
    }  # the latest period of a code comes last and wins
    return {code: names.get(code) or area_label(code).split(" ", 1)[-1] for code in wanted}


@dataclass(frozen=True)
class Dimension:
    label: str
    column: str  # a column path, or "data:<catalog key>" for a collected field
    name_of: Callable[[str], str] = str
    chart: str = "bar"  # "pie" for a handful of values that make up a whole, "bar" for long lists
    # Group by the first two digits of a region code, the province (GB/T 2260: "11" + "0000" is 北京市).
    by_province: bool = False
    names_of: Callable[[Iterable[str]], dict[str, str]] | None = None  # names of all values in one go


GENDERS = {"1": "男", "2": "女"}
STATES = dict(State.choices)

DIMENSIONS: dict[str, Dimension] = {
    "district": Dimension("区县", "school__district__name"),
    "school": Dimension("学校", "school__name"),
    "major": Dimension("专业", "offering__major__name"),
    "class": Dimension("班级", "school_class__name"),
    "gender": Dimension("性别", "gender", lambda c: GENDERS.get(c, c), chart="pie"),
    "ethnicity": Dimension("民族", "data:ethnicity", _codes("民族")),
    "admission_method": Dimension("招生方式", "admission_method", _codes("招生方式"), chart="pie"),
    "admission_target": Dimension("招生对象", "data:admission_target", _codes("招生对象"), chart="pie"),
    "origin_province": Dimension(
        "生源地（省）", "data:origin_region", by_province=True, names_of=province_names, chart="pie"
    ),
    "origin_region": Dimension("生源地（区县）", "data:origin_region", lambda c: area_label(c).split(" ", 1)[-1]),
    "household_type": Dimension("户口性质", "data:household_type", _codes("户口性质"), chart="pie"),
    "study_mode": Dimension("学习形式", "data:study_mode", _codes("学习形式"), chart="pie"),
    "attendance_mode": Dimension("就读方式", "data:attendance_mode", _codes("就读方式"), chart="pie"),
    "state": Dimension("学籍状态", "state", lambda c: str(STATES.get(c, c)), chart="pie"),
}


@dataclass(frozen=True)
class Row:
    value: str
    label: str
    count: int
    previous: int | None  # the same value in the previous grade, when that grade has students

    @property
    def change(self) -> int | None:
        return None if self.previous is None else self.count - self.previous


def _value_expression(dimension: Dimension) -> Expression | F:
    value: Expression | F
    if dimension.column.startswith("data:"):
        value = KeyTextTransform(dimension.column[5:], "data")
    else:
        value = F(dimension.column)
    return Substr(value, 1, 2) if dimension.by_province else value


def _normalised(value: object, dimension: Dimension) -> str:
    text = "" if value is None else str(value)
    return f"{text}0000" if dimension.by_province and text else text


def counts(students: QuerySet[Student], dimension: Dimension) -> dict[str, int]:
    """{value: count} in one GROUP BY query."""
    grouped = students.annotate(v=_value_expression(dimension)).values("v").annotate(n=Count("pk"))
    return {_normalised(v, dimension): n for v, n in grouped.values_list("v", "n")}


def counts_by_grade(students: QuerySet[Student], dimension: Dimension) -> dict[int, dict[str, int]]:
    """{grade: {value: count}}: a grade and the one before it in one pass over the rows (GROUP BY grade, value)."""
    grouped = students.annotate(v=_value_expression(dimension)).values("grade", "v").annotate(n=Count("pk"))
    found: dict[int, dict[str, int]] = {}
    for grade, v, n in grouped.values_list("grade", "v", "n"):
        found.setdefault(grade, {})[_normalised(v, dimension)] = n
    return found


def _scoped(user: User, district_id: int | None, school_id: int | None = None) -> QuerySet[Student]:
    students = students_visible_to(user)
    if district_id:
        students = students.filter(school__district_id=district_id)
    if school_id:
        students = students.filter(school_id=school_id)
    return students


def stats_table(
    user: User, key: str, grade: int | None, district_id: int | None = None, school_id: int | None = None
) -> list[Row]:
    dimension = DIMENSIONS[key]
    students = _scoped(user, district_id, school_id)
    if grade:
        both = counts_by_grade(students.filter(grade__in=(grade, grade - 1)), dimension)
        current, previous = both.get(grade, {}), both.get(grade - 1, {})
    else:
        current, previous = counts(students, dimension), {}
    # A value the previous grade had and this one has not is listed with 0: a drop to nothing is news too.
    values = list(current) + [v for v in previous if v not in current] if current else []
    names = dimension.names_of([v for v in values if v]) if dimension.names_of else {}
    rows = [
        Row(
            value,
            (names.get(value) or dimension.name_of(value)) if value else "（未填）",
            current.get(value, 0),
            previous.get(value, 0) if previous else None,
        )
        for value in values
    ]
    return sorted(rows, key=lambda r: (-r.count, r.label))


@dataclass(frozen=True)
class CrossRow:
    """One school or district of the 学籍状态 × 审核级别 table."""

    label: str
    pk: int
    by_state: dict[str, int]
    total: int


def state_cross_table(
    user: User, grade: int | None, by: str, district_id: int | None = None, school_id: int | None = None
) -> tuple[list[CrossRow], dict[str, int]]:
    """Counts per 学籍状态 (the review level folded in: 审核中 at the school, the district or the city) for each
    school or district, and the column totals; one GROUP BY with a filtered COUNT per state."""
    students = _scoped(user, district_id, school_id)
    if grade:
        students = students.filter(grade=grade)
    group = {"school": ("school_id", "school__name"), "district": ("school__district_id", "school__district__name")}
    pk_column, name_column = group[by]
    columns = {state.value: Count("pk", filter=Q(state=state)) for state in State}
    rows = [
        CrossRow(
            label=row[name_column],
            pk=row[pk_column],
            by_state={state.value: row[state.value] for state in State},
            total=row["total"],
        )
        for row in students.values(pk_column, name_column).annotate(total=Count("pk"), **columns).order_by(name_column)
    ]
    totals = {state.value: sum(r.by_state[state.value] for r in rows) for state in State}
    totals["total"] = sum(r.total for r in rows)
    return rows, totals
