"""统计查询: counts of the user's students by one dimension, computed in the database (GROUP BY)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Count, F, QuerySet
from django.db.models.fields.json import KeyTextTransform

from xueji.orgs.models import User
from xueji.records.codes import code_table
from xueji.records.refdata import area_label
from xueji.students.models import State, Student
from xueji.students.selectors import students_visible_to


def _codes(table: str) -> Callable[[str], str]:
    names = dict(code_table(table).items)
    return lambda code: names.get(code, code)


@dataclass(frozen=True)
class Dimension:
    label: str
    column: str  # a column path, or "data:<catalog key>" for a collected field
    name_of: Callable[[str], str] = str


GENDERS = {"1": "男", "2": "女"}
STATES = dict(State.choices)

DIMENSIONS: dict[str, Dimension] = {
    "district": Dimension("区县", "school__district__name"),
    "school": Dimension("学校", "school__name"),
    "major": Dimension("专业", "offering__major__name"),
    "class": Dimension("班级", "school_class__name"),
    "gender": Dimension("性别", "gender", lambda c: GENDERS.get(c, c)),
    "ethnicity": Dimension("民族", "data:ethnicity", _codes("民族")),
    "admission_method": Dimension("招生方式", "admission_method", _codes("招生方式")),
    "admission_target": Dimension("招生对象", "data:admission_target", _codes("招生对象")),
    "origin_region": Dimension("生源地", "data:origin_region", lambda c: area_label(c).split(" ", 1)[-1]),
    "household_type": Dimension("户口性质", "data:household_type", _codes("户口性质")),
    "study_mode": Dimension("学习形式", "data:study_mode", _codes("学习形式")),
    "attendance_mode": Dimension("就读方式", "data:attendance_mode", _codes("就读方式")),
    "state": Dimension("学籍状态", "state", lambda c: str(STATES.get(c, c))),
}


@dataclass(frozen=True)
class Row:
    value: str
    label: str
    count: int
    previous: int | None  # the same value in the previous grade, when that grade has students


def counts(students: QuerySet[Student], dimension: Dimension) -> dict[str, int]:
    """{value: count} in one GROUP BY query."""
    if dimension.column.startswith("data:"):
        grouped = students.annotate(v=KeyTextTransform(dimension.column[5:], "data"))
    else:
        grouped = students.annotate(v=F(dimension.column))
    return {
        ("" if v is None else str(v)): n for v, n in grouped.values("v").annotate(n=Count("pk")).values_list("v", "n")
    }


def stats_table(user: User, key: str, grade: int | None, district_id: int | None = None) -> list[Row]:
    dimension = DIMENSIONS[key]
    students = students_visible_to(user)
    if district_id:
        students = students.filter(school__district_id=district_id)
    current = counts(students.filter(grade=grade) if grade else students, dimension)
    previous = counts(students.filter(grade=grade - 1), dimension) if grade else {}
    rows = [
        Row(value, dimension.name_of(value) if value else "（未填）", n, previous.get(value) if previous else None)
        for value, n in current.items()
    ]
    return sorted(rows, key=lambda r: (-r.count, r.label))
