"""Reconciliation against a loaded roster with every category, by scope, on the page and in the xlsx."""

from __future__ import annotations

import io

from django.urls import reverse

from tests.conftest import World
from xueji.audit.models import AuditEvent
from xueji.reconcile.matching import Category
from xueji.reconcile.models import RosterEntry
from xueji.reconcile.selectors import findings_for
from xueji.reconcile.services import roster_correct
from xueji.students.models import State, Student


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


def test_a_correction_keeps_its_scanned_document_for_the_city(roster_world: World) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from xueji.reconcile.models import RosterCorrection

    entry = RosterEntry.objects.get(name="李晓红")
    client = roster_world.client_for(roster_world.city_admin)
    url = reverse("reconcile:roster_correct", kwargs={"pk": entry.pk})
    data = {"field": "name", "new_value": "李小红", "document_ref": "京招〔2026〕12号"}
    bad = client.post(url, {**data, "evidence": SimpleUploadedFile("scan.pdf", b"GIF89a not a pdf")})
    assert "不是PDF、JPG或PNG文件" in bad.content.decode() and not RosterCorrection.objects.exists()
    scan = b"%PDF-1.4 scanned correction"
    assert client.post(url, {**data, "evidence": SimpleUploadedFile("scan.pdf", scan)}).status_code == 302
    correction = RosterCorrection.objects.get()
    assert correction.old_value == "李晓红" and correction.corrected_by == roster_world.city_admin
    download = reverse("reconcile:roster_correction_evidence", kwargs={"pk": correction.pk})
    assert b"".join(client.get(download).streaming_content) == scan  # type: ignore[attr-defined]
    assert roster_world.client_for(roster_world.other_city_admin).get(download).status_code == 404
