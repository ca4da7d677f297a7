"""The reconciliation world: school A's 统一招生 students and a roster with every category."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.conftest import World
from tests.reconcile.helpers import roster_xlsx
from xueji.admissions.models import AdmissionRecord
from xueji.orgs.models import School
from xueji.reconcile.services import roster_load
from xueji.students.models import State, Student

A, B, C = "3111010001", "3111010002", "3111050001"


def enrol(world: World, name: str, id_number: str, candidate: str = "", school: School | None = None) -> Student:
    school = school or world.school_a
    offering = world.offering_a if school == world.school_a else world.offering_c
    data = {"name": name, "id_number": id_number, "candidate_no": candidate}
    record = AdmissionRecord.objects.create(
        school=school, grade=2026, name=name, id_type="1", id_number=id_number, birth_date=date(2010, 1, 1),
        offering=offering, admission_method="1", state=AdmissionRecord.State.CHECKED_IN, data=data,
    )  # fmt: skip
    return Student.objects.create(
        school=school, admission=record, grade=2026, name=name, id_type="1", id_number=id_number,
        offering=offering, admission_method="1", data=data, state=State.REVIEW_DISTRICT,
    )  # fmt: skip


@pytest.fixture
def roster_world(world: World, tmp_path: Path) -> World:
    """School A: 李小红 (student_a, on the roster as 李晓红), 王小明 (admitted, not checked in), 赵六 (not on the
    roster), 孙七 (on the roster for school B), 周八 (agrees after normalising); the roster also lists 郑十 for A,
    never registered, and 钱一 for school C."""
    enrol(world, "赵六", "110101201001010016")
    enrol(world, "孙七", "110101201001020011", "C4")
    enrol(world, "周八", "110101201001030017", "C5")
    rows = [
        ["", "", "王小明", "110101201003070011", A, "计算机应用", "统一招生"],
        ["", "", "李晓红", "110101201005120027", A, "计算机应用", "统一招生"],
        ["C4", "", "孙七", "110101201001020011", B, "会计", "统一招生"],
        ["C5", "", "周　八", "", A, "计算机应用", "统一招生"],
        ["C7", "", "郑十", "", A, "计算机应用", "统一招生"],
        ["C8", "", "钱一", "", C, "汽车", "统一招生"],
    ]
    path = roster_xlsx(tmp_path / "名册.xlsx", rows)
    roster_load(city=world.city, actor=world.city_admin, path=path, file_name="名册.xlsx", intake_year=2026)
    return world
