"""批量处理: one or more fields set on the selected students or on all that match, each student validated with
the new values, a summary of changed and refused with reasons, one audit event with every before/after."""

from __future__ import annotations

from django.urls import reverse

from tests.conftest import World
from tests.students.helpers import checked_in_students
from xueji.audit.models import AuditEvent
from xueji.orgs.models import Grade, SchoolClass
from xueji.students.models import State, Student


def _apply(world: World, data: dict[str, object]) -> str:
    client = world.client_for(world.registrar_a)
    response = client.post(reverse("students:batch"), {"apply": "1", **data})
    assert response.status_code == 200
    return response.content.decode()


def test_selected_students_get_the_new_class_and_attendance_mode(world: World) -> None:
    students = checked_in_students(world, 3)
    second = SchoolClass.objects.create(
        school=world.school_a, grade=world.grade_a, offering=world.offering_a, name="2026级2班"
    )
    chosen = students[:2]
    page = _apply(
        world,
        {
            "scope": "selected",
            "ids": [str(s.pk) for s in chosen],
            "set": ["class_name", "attendance_mode"],
            "class_name": "2026级2班",
            "attendance_mode": "3",
        },
    )
    assert "已修改 2 人" in page and "就读方式、班级" in page
    for student in chosen:
        student.refresh_from_db()
        assert student.school_class_id == second.pk
        assert (student.data["class_name"], student.data["attendance_mode"]) == ("2026级2班", "3")
        assert student.data["guardian_phone"]  # the other fields are kept
    untouched = Student.objects.get(pk=students[2].pk)
    assert untouched.school_class_id == world.class_a.pk and untouched.data["class_name"] == "2026级1班"
    event = AuditEvent.objects.get(action="student.batch_update")
    assert event.actor_id == world.registrar_a.pk and event.after["changed"] == 2
    by_id = {row["id"]: row for row in event.after["students"]}
    assert set(by_id) == {s.pk for s in chosen}
    assert by_id[chosen[0].pk]["before"] == {"attendance_mode": "2", "class_name": "2026级1班"}
    assert by_id[chosen[0].pk]["after"] == {"attendance_mode": "3", "class_name": "2026级2班"}


def test_all_that_match_refuses_students_in_review_with_the_reason(world: World) -> None:
    students = checked_in_students(world, 2)
    page = _apply(world, {"scope": "all", "grade": "2026", "set": ["residence_type"], "residence_type": "4"})
    assert "已修改 2 人" in page and "1 人未修改" in page
    assert "李小红" in page and "审核中（学校），学校不能修改；如需修改请校领导先退回" in page
    assert {Student.objects.get(pk=s.pk).data["residence_type"] for s in students} == {"4"}
    assert "residence_type" not in Student.objects.get(pk=world.student_a.pk).data
    Student.objects.filter(pk=world.student_a.pk).update(state=State.APPROVED)
    page = _apply(world, {"scope": "all", "set": ["residence_type"], "residence_type": "1"})
    assert "已审核通过，只能通过学籍变更申请（经审核）修改" in page


def test_a_value_the_validator_refuses_for_a_student_leaves_that_student_unchanged(world: World) -> None:
    students = checked_in_students(world, 2)
    grade_2025 = Grade.objects.create(school=world.school_a, year=2025)
    SchoolClass.objects.create(school=world.school_a, grade=grade_2025, offering=world.offering_a, name="2025级1班")
    page = _apply(
        world,
        {"scope": "selected", "ids": [str(s.pk) for s in students], "set": ["class_name"], "class_name": "2025级1班"},
    )
    assert "已修改 0 人" in page and "2 人未修改" in page
    assert "班级“2025级1班”不属于2026级" in page
    page = _apply(
        world,
        {"scope": "selected", "ids": [str(students[0].pk)], "set": ["enrolment_month"], "enrolment_month": "2026-13"},
    )
    assert "入学年月" in page and "1 人未修改" in page
    assert Student.objects.get(pk=students[0].pk).data["enrolment_month"] == "2026-09-01"
    # Clearing a required field is a new problem too.
    page = _apply(
        world, {"scope": "selected", "ids": [str(students[0].pk)], "set": ["attendance_mode"], "attendance_mode": ""}
    )
    assert "就读方式不能为空" in page
    assert not AuditEvent.objects.filter(action="student.batch_update", after__changed__gt=0).exists()


def test_problems_a_student_already_had_do_not_stop_the_change(world: World) -> None:
    [student] = checked_in_students(world, 1)
    student.data = {**student.data, "guardian_phone": None}
    student.save()
    page = _apply(world, {"scope": "selected", "ids": [str(student.pk)], "set": ["study_mode"], "study_mode": "2"})
    assert "已修改 1 人" in page
    assert Student.objects.get(pk=student.pk).data["study_mode"] == "2"


def test_an_optional_field_left_blank_is_cleared(world: World) -> None:
    [student] = checked_in_students(world, 1)
    _apply(world, {"scope": "selected", "ids": [str(student.pk)], "set": ["residence_type"], "residence_type": "2"})
    assert Student.objects.get(pk=student.pk).data["residence_type"] == "2"
    page = _apply(
        world, {"scope": "selected", "ids": [str(student.pk)], "set": ["residence_type"], "residence_type": ""}
    )
    assert "已修改 1 人" in page
    assert "residence_type" not in Student.objects.get(pk=student.pk).data
    page = _apply(
        world, {"scope": "selected", "ids": [str(student.pk)], "set": ["residence_type"], "residence_type": ""}
    )
    assert "已修改 0 人" in page and "1 人原本就是这些值" in page


def test_identity_fields_and_an_empty_choice_are_refused_with_a_message(world: World) -> None:
    [student] = checked_in_students(world, 1)
    page = _apply(world, {"scope": "selected", "ids": [str(student.pk)], "set": ["id_number"], "id_number": "1"})
    assert "请至少选择一个要修改的项目" in page  # id_number is not offered: the tick is ignored
    page = _apply(world, {"scope": "selected", "ids": [str(student.pk)]})
    assert "请至少选择一个要修改的项目" in page
    assert not AuditEvent.objects.filter(action="student.batch_update").exists()


def test_the_form_offers_enrolment_fields_not_identity_fields(world: World) -> None:
    students = checked_in_students(world, 2)
    client = world.client_for(world.registrar_a)
    response = client.post(reverse("students:batch"), {"scope": "selected", "ids": [str(s.pk) for s in students]})
    page = response.content.decode()
    assert "已选 2 名学生" in page
    for key in ("class_name", "enrolment_month", "attendance_mode", "residence_type", "direction"):
        assert f'name="set" value="{key}"' in page, key
    for key in ("name", "id_number", "phone", "guardian_name", "exam_score"):
        assert f'name="set" value="{key}"' not in page, key
    assert 'value="网络应用"' in page  # every selected student has the same major: its directions are offered


def test_nothing_selected_goes_back_to_the_list_with_a_message(world: World) -> None:
    client = world.client_for(world.registrar_a)
    response = client.post(reverse("students:batch"), {"scope": "selected", "grade": "2026"}, follow=True)
    assert "没有选中学生" in response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("students:list") + "?grade=2026"


def test_another_schools_students_are_never_changed(world: World) -> None:
    students = checked_in_students(world, 1)
    client = world.client_for(world.registrar_b)
    response = client.post(
        reverse("students:batch"),
        {"apply": "1", "scope": "selected", "ids": [str(students[0].pk)], "set": ["study_mode"], "study_mode": "2"},
        follow=True,
    )
    assert "没有选中学生" in response.content.decode()
    assert Student.objects.get(pk=students[0].pk).data["study_mode"] == "1"


def test_the_list_offers_batch_buttons_to_the_registrar_only(world: World) -> None:
    registrar_page = world.client_for(world.registrar_a).get(reverse("students:list")).content.decode()
    assert "按条件批量处理" in registrar_page and reverse("students:batch") in registrar_page
    leader_page = world.client_for(world.leader_a).get(reverse("students:list")).content.decode()
    assert "批量处理" not in leader_page
