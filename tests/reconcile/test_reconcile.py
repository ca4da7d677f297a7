"""Reconciliation against a loaded roster with every category, by scope, on the page and in the xlsx."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from django.urls import reverse

from tests.conftest import World
from tests.reconcile.helpers import roster_xlsx
from xueji.admissions.models import AdmissionRecord
from xueji.audit.models import AuditEvent
from xueji.orgs.models import School
from xueji.reconcile.matching import Category
from xueji.reconcile.models import RosterEntry
from xueji.reconcile.selectors import findings_for
from xueji.reconcile.services import roster_correct, roster_load
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


def by_category(world: World, persona: str) -> dict[Category, list[str]]:
    _load, findings = findings_for(getattr(world, persona))
    result: dict[Category, list[str]] = {c: [] for c in Category}
    for f in findings:
        result[f.category].append(f.registered.name if f.registered else f.roster.name)  # type: ignore[union-attr]
    return {c: sorted(names) for c, names in result.items()}


def test_every_category_for_the_school(roster_world: World) -> None:
    found = by_category(roster_world, "registrar_a")
    assert found == {
        Category.MATCH: ["周八"],
        Category.NAME_MISMATCH: ["李小红"],
        Category.NO_ROSTER: ["赵六"],
        Category.WRONG_SCHOOL: ["孙七"],
        Category.NOT_CHECKED_IN: ["王小明", "郑十"],
    }


def test_scope_of_each_persona(roster_world: World) -> None:
    assert by_category(roster_world, "registrar_b")[Category.WRONG_SCHOOL] == ["孙七"]  # the roster's school
    assert sum(map(len, by_category(roster_world, "registrar_b").values())) == 1
    assert by_category(roster_world, "reviewer_b") == {**{c: [] for c in Category}, Category.NOT_CHECKED_IN: ["钱一"]}
    assert by_category(roster_world, "reviewer_a") == by_category(roster_world, "registrar_a")
    assert by_category(roster_world, "city_admin")[Category.NOT_CHECKED_IN] == ["王小明", "郑十", "钱一"]
    assert findings_for(roster_world.other_city_admin) == (None, [])


def test_a_correction_resolves_the_mismatch(roster_world: World) -> None:
    entry = RosterEntry.objects.get(name="李晓红")
    roster_correct(
        entry=entry, actor=roster_world.city_admin, field="name", new_value="李小红", document_ref="京招〔2026〕12号"
    )
    assert by_category(roster_world, "registrar_a")[Category.NAME_MISMATCH] == []
    assert AuditEvent.objects.filter(action="roster.correct").exists()


def test_page_shows_counts_and_the_typo_flag(roster_world: World) -> None:
    client = roster_world.client_for(roster_world.reviewer_a)
    page = client.get(reverse("reconcile:index"), {"category": "name_mismatch"}).content.decode()
    assert 'id="count-name_mismatch">1<' in page and 'id="count-not_checked_in">2<' in page
    assert "李晓红" in page and "<td>是</td>" in page  # 疑似笔误
    assert "110101201005120027" not in page  # masked for reviewers


def test_a_reviewer_cannot_pick_a_school_outside_the_district(roster_world: World) -> None:
    client = roster_world.client_for(roster_world.reviewer_b)
    assert client.get(reverse("reconcile:index"), {"school": roster_world.school_a.pk}).status_code == 404


def test_download_has_a_sheet_per_category(roster_world: World) -> None:
    import python_calamine

    client = roster_world.client_for(roster_world.registrar_a)
    response = client.get(reverse("reconcile:export"))
    assert response.status_code == 200
    workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(response.content))
    assert workbook.sheet_names == ["汇总", "一致", "姓名不符", "无录取记录", "录取学校不符", "录取未报到"]
    rows = workbook.get_sheet_by_name("无录取记录").to_python()
    assert rows[1][3] == "赵六" and rows[1][4] == "110101201001010016"  # the registrar sees full numbers
    assert AuditEvent.objects.filter(action="reconcile.export").exists()


def test_blockers_name_the_unresolved_students(roster_world: World) -> None:
    from xueji.reconcile.selectors import reconcile_blockers

    students = {s.name: s.pk for s in Student.objects.all()}
    blockers = reconcile_blockers(students.values())
    assert set(blockers) == {students["李小红"], students["赵六"]}
    assert "李晓红" in blockers[students["李小红"]] and "疑似笔误" in blockers[students["李小红"]]
    assert "无录取记录" in blockers[students["赵六"]]


def test_district_approval_needs_a_reason_for_blocked_students(roster_world: World) -> None:
    from xueji.students.models import ReviewAction
    from xueji.students.workflow import Action, transition_apply

    Student.objects.filter(pk=roster_world.student_a.pk).update(state=State.REVIEW_DISTRICT)
    queue = Student.objects.filter(state=State.REVIEW_DISTRICT)
    result = transition_apply(actor=roster_world.reviewer_a, action=Action.APPROVE, students=queue)
    assert sorted(name for _pk, name, _reasons in result.refused) == ["李小红", "赵六"]
    assert sorted(Student.objects.filter(state=State.REVIEW_CITY).values_list("name", flat=True)) == ["周八", "孙七"]
    reason = "名册姓名为招生办录入错误，已核对户口本"
    result = transition_apply(actor=roster_world.reviewer_a, action=Action.APPROVE, students=queue, reason=reason)
    assert len(result.done) == 2 and not result.refused
    assert ReviewAction.objects.filter(student__name="李小红", action="approve", reason=reason).exists()


def test_no_roster_blocks_nobody(world: World) -> None:
    from xueji.reconcile.selectors import reconcile_blockers

    assert reconcile_blockers([world.student_a.pk]) == {}
