"""新生名单 PDF: every student, the totals, page N of M and the signature line, as pdftotext reads them."""

from __future__ import annotations

import re

from django.urls import reverse

from tests.conftest import World
from tests.roster.helpers import RARE_NAMES, add_students, pdf_text
from xueji.audit.models import AuditEvent
from xueji.students.models import Student


def _roster(world: World, user, **params):  # type: ignore[no-untyped-def]
    response = world.client_for(user).get(reverse("roster:pdf", kwargs={"pk": world.school_a.pk}), params)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    return response.content


def test_roster_lists_every_student_with_totals_pages_and_signature(world: World, tmp_path) -> None:  # type: ignore[no-untyped-def]
    students = add_students(world, 120)
    pdf = _roster(world, world.registrar_a, grade="2026")
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf, tmp_path)
    for student in [world.student_a, *students]:
        assert student.name in text, student.name
    assert "东城职业教育中心 2026级新生名单" in text
    assert "合计：121 人" in text
    assert "主管校长签字" in text
    assert "校章" in text
    pages = re.findall(r"第\s*(\d+)\s*页\s*共\s*(\d+)\s*页", text)
    total = int(pages[0][1])
    assert total >= 3
    assert [int(n) for n, _ in pages] == list(range(1, total + 1))
    assert {m for _, m in pages} == {str(total)}
    # The registrar's copy, the one that is signed and filed, has the full ID number.
    assert world.student_a.id_number in text


def test_rare_characters_are_drawn_from_an_embedded_font(world: World, tmp_path) -> None:  # type: ignore[no-untyped-def]
    add_students(world, 3)
    pdf = _roster(world, world.registrar_a, grade="2026")
    text = pdf_text(pdf, tmp_path)
    for name in RARE_NAMES:
        assert name in text
    # No font is referenced without being embedded (a FontFile2 per TrueType font).
    assert pdf.count(b"/FontFile2") >= 2


def test_leader_and_district_print_masked_id_numbers(world: World, tmp_path) -> None:  # type: ignore[no-untyped-def]
    for user in (world.leader_a, world.reviewer_a):
        text = pdf_text(_roster(world, user, grade="2026"), tmp_path)
        assert "李小红" in text
        assert world.student_a.id_number not in text
        assert "110101********0027" in text


def test_roster_of_one_class_with_chosen_columns(world: World, tmp_path) -> None:  # type: ignore[no-untyped-def]
    add_students(world, 2)
    pdf = _roster(
        world, world.registrar_a, grade="2026", **{"class": str(world.class_a.pk), "columns": ["seq", "name"]}
    )
    text = pdf_text(pdf, tmp_path)
    assert "班级：2026级1班" in text
    assert "身份证件号" not in text
    assert "合计：3 人" in text


def test_printing_is_audited(world: World) -> None:
    _roster(world, world.leader_a, grade="2026")
    event = AuditEvent.objects.get(action="roster.print")
    assert event.actor == world.leader_a
    assert event.after["rows"] == 1


def test_a_class_of_another_school_is_not_found(world: World) -> None:
    client = world.client_for(world.registrar_a)
    url = reverse("roster:pdf", kwargs={"pk": world.school_a.pk})
    assert client.get(url, {"class": world.class_c.pk}).status_code == 404


def test_form_goes_on_to_the_schools_pdf(world: World) -> None:
    client = world.client_for(world.reviewer_a)
    response = client.get(reverse("roster:print"), {"school": world.school_a.pk, "grade": "2026"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("roster:pdf", kwargs={"pk": world.school_a.pk}))
    assert client.get(reverse("roster:print"), {"school": world.school_c.pk}).status_code == 404


def test_roster_of_new_or_of_migrated_students_only(world: World, tmp_path) -> None:  # type: ignore[no-untyped-def]
    new, migrated = add_students(world, 5)[3:]  # 学生103 checked in, 学生104 from the old system
    Student.objects.filter(pk=migrated.pk).update(source=Student.Source.LEGACY)
    legacy = pdf_text(_roster(world, world.registrar_a, grade="2026", source="legacy"), tmp_path)
    assert "迁入学生名单" in legacy and "来源：原系统迁入" in legacy
    assert migrated.name in legacy and new.name not in legacy and "李小红" not in legacy
    assert "合计：1 人" in legacy
    fresh = pdf_text(_roster(world, world.registrar_a, grade="2026", source="checkin"), tmp_path)
    assert "2026级新生名单" in fresh and "来源：新生报到" in fresh
    assert new.name in fresh and "李小红" in fresh and migrated.name not in fresh
    everyone = pdf_text(_roster(world, world.registrar_a, grade="2026"), tmp_path)
    assert migrated.name in everyone and new.name in everyone
    printed = {event.after["source"] for event in AuditEvent.objects.filter(action="roster.print")}
    assert printed == {"legacy", "checkin", None}
    form = world.client_for(world.registrar_a).get(reverse("roster:print")).content.decode()
    assert '<option value="legacy">原系统迁入</option>' in form
    archive = world.client_for(world.registrar_a).get(reverse("students:archive")).content.decode()
    assert f"{reverse('roster:print')}?source=legacy" in archive


def test_roster_of_one_major(world: World, tmp_path) -> None:  # type: ignore[no-untyped-def]
    add_students(world, 2)
    text = pdf_text(_roster(world, world.registrar_a, grade="2026", major=str(world.offering_a.pk)), tmp_path)
    assert f"专业：{world.offering_a.major.name}" in text and "合计：3 人" in text
    other = world.client_for(world.registrar_a).get(
        reverse("roster:pdf", kwargs={"pk": world.school_a.pk}), {"major": world.offering_c.pk}
    )
    assert other.status_code == 404
