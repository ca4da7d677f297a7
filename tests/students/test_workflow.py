"""The 学籍 workflow: the transition table exhaustively, the whole path, returns, submission checks,
一人一籍 and 学籍号."""

from __future__ import annotations

import itertools

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from tests.admissions.helpers import person_id, school_a_row
from tests.conftest import World
from xueji.admissions.models import AdmissionRecord
from xueji.admissions.services import admission_save
from xueji.audit.models import AuditEvent
from xueji.audit.services import audit_verify_chain
from xueji.orgs.models import Role
from xueji.students.models import ReviewAction, State, Student
from xueji.students.services import checkin, submit_check
from xueji.students.workflow import TABLE, Action, transition_apply

ACTORS = {
    Role.REGISTRAR: "registrar_a",
    Role.SCHOOL_LEADER: "leader_a",
    Role.DISTRICT_REVIEWER: "reviewer_a",
    Role.CITY_ADMIN: "city_admin",
}


@pytest.mark.parametrize(
    ("state", "action", "role"), list(itertools.product(State, Action, Role)), ids=lambda v: str(v)
)
def test_every_state_action_role_does_exactly_what_the_table_says(
    world: World, state: State, action: Action, role: Role
) -> None:
    Student.objects.filter(pk=world.student_a.pk).update(state=state)
    actor = getattr(world, ACTORS[role])
    allowed = TABLE.get((state, action, role))
    may_act_at_all = any(a == action and r == role for (_s, a, r) in TABLE)
    students = Student.objects.filter(pk=world.student_a.pk)
    if not may_act_at_all:
        with pytest.raises(ValidationError):
            transition_apply(actor=actor, action=action, students=students, reason="原因")
        assert Student.objects.get(pk=world.student_a.pk).state == state
        return
    result = transition_apply(actor=actor, action=action, students=students, reason="原因")
    student = Student.objects.get(pk=world.student_a.pk)
    if allowed is None:
        assert result.done == [] and [pk for pk, _n, _s in result.already_handled] == [student.pk]
        assert student.state == state
        assert not ReviewAction.objects.filter(student=student).exists()
    else:
        assert result.done == [student.pk]
        assert student.state == allowed.target
        step = ReviewAction.objects.get(student=student)
        assert (step.action, step.from_state, step.to_state, step.actor_id) == (action, state, allowed.target, actor.pk)


def _admit_and_check_in(world: World, count: int) -> list[Student]:
    for serial in range(1, count + 1):
        assert admission_save(actor=world.registrar_a, school=world.school_a, raw=school_a_row(serial)).ok
    records = AdmissionRecord.objects.filter(id_number__in=[person_id(n) for n in range(1, count + 1)])
    assert checkin(actor=world.registrar_a, records=records) == count
    return list(Student.objects.filter(id_number__in=[person_id(n) for n in range(1, count + 1)]).order_by("pk"))


def test_the_whole_path_ends_approved_with_a_student_number(world: World) -> None:
    students = _admit_and_check_in(world, 5)
    assert {s.state for s in students} == {State.UNSUBMITTED}
    assert AdmissionRecord.objects.filter(admission_method="1", state="checked_in").count() >= 5
    ids = Student.objects.filter(pk__in=[s.pk for s in students])
    steps = [
        (world.registrar_a, Action.SUBMIT, State.REVIEW_SCHOOL),
        (world.leader_a, Action.APPROVE, State.REVIEW_DISTRICT),
        (world.reviewer_a, Action.APPROVE, State.REVIEW_CITY),
        (world.city_admin, Action.APPROVE, State.APPROVED),
    ]
    for actor, action, target in steps:
        check = submit_check if action == Action.SUBMIT else None
        result = transition_apply(actor=actor, action=action, students=ids, check=check)
        assert len(result.done) == 5, result
        assert set(ids.values_list("state", flat=True)) == {target}
    assert sorted(ids.values_list("student_no", flat=True)) == sorted(f"G{s.id_number}" for s in students)
    assert audit_verify_chain().ok


def test_a_return_needs_a_reason_and_the_student_can_be_fixed_and_resubmitted(world: World) -> None:
    students = Student.objects.filter(pk=world.student_a.pk)
    Student.objects.filter(pk=world.student_a.pk).update(state=State.REVIEW_DISTRICT)
    with pytest.raises(ValidationError) as refused:
        transition_apply(actor=world.reviewer_a, action=Action.RETURN, students=students, reason="  ")
    assert "退回必须填写原因" in str(refused.value)
    transition_apply(actor=world.reviewer_a, action=Action.RETURN, students=students, reason="户口所在地与户口簿不符")
    student = students.get()
    assert (student.state, student.return_reason) == (State.UNSUBMITTED, "户口所在地与户口簿不符")
    page = world.client_for(world.registrar_a).get(reverse("students:list")).content.decode()
    assert "户口所在地与户口簿不符" in page
    transition_apply(actor=world.registrar_a, action=Action.SUBMIT, students=students)
    student = students.get()
    assert (student.state, student.return_reason) == (State.REVIEW_SCHOOL, "")
    history = list(ReviewAction.objects.filter(student=student).values_list("action", "reason"))
    assert history == [("return", "户口所在地与户口簿不符"), ("submit", "")]


def test_incomplete_students_stay_unsubmitted_with_reasons(world: World) -> None:
    students = _admit_and_check_in(world, 3)
    broken = students[1]
    broken.data = {**broken.data, "guardian_phone": None, "exam_score": None}
    broken.save()
    client = world.client_for(world.registrar_a)
    response = client.post(
        reverse("students:action"),
        {"action": "submit", "scope": "all", "grade": "2026", "state": "unsubmitted"},
        follow=True,
    )
    page = response.content.decode()
    assert "已提交审核：2 人" in page
    assert f"{broken.name}：" in page and "监护人联系电话不能为空" in page and "考试总分不能为空" in page
    assert Student.objects.get(pk=broken.pk).state == State.UNSUBMITTED


def test_one_person_holds_one_student_status(world: World) -> None:
    twin = Student.objects.get(pk=world.student_a.pk)
    twin.pk = None
    twin.admission = AdmissionRecord.objects.create(
        school=world.school_b, grade=2026, name="李小红", id_type="9", id_number="X" + twin.id_number,
        offering=world.offering_a, admission_method="1",
    )  # fmt: skip
    twin.school = world.school_b
    twin.state = State.UNSUBMITTED
    twin.save()
    with pytest.raises(IntegrityError), transaction.atomic():
        Student.objects.filter(pk=twin.pk).update(state=State.REVIEW_SCHOOL)
    result = transition_apply(
        actor=world.registrar_b,
        action=Action.SUBMIT,
        students=Student.objects.filter(pk=twin.pk),
        check=submit_check,
    )
    assert result.done == []
    reasons = "；".join(result.refused[0][2])
    assert "该学生已在其他学校注册学籍（一人一籍），不能重复注册，请联系区县核实" in reasons
    assert "东城职业教育中心" not in reasons  # the school is not told where


def test_a_second_reviewer_sees_what_was_already_handled(world: World) -> None:
    students = Student.objects.filter(pk=world.student_a.pk)
    first = transition_apply(actor=world.leader_a, action=Action.APPROVE, students=students)
    second = transition_apply(actor=world.leader_a, action=Action.APPROVE, students=students)
    assert first.done == [world.student_a.pk]
    assert second.done == [] and second.already_handled == [(world.student_a.pk, "李小红", "审核中（区县）")]
    assert ReviewAction.objects.filter(student=world.student_a).count() == 1


def test_other_documents_get_a_temporary_L_number(world: World) -> None:
    Student.objects.filter(pk=world.student_a.pk).update(state=State.REVIEW_CITY, id_type="6", id_number="E12345678")
    transition_apply(
        actor=world.city_admin, action=Action.APPROVE, students=Student.objects.filter(pk=world.student_a.pk)
    )
    assert Student.objects.get(pk=world.student_a.pk).student_no == "L110101201005120001"


def test_undo_checkin_only_before_the_first_submission(world: World) -> None:
    students = _admit_and_check_in(world, 2)
    client = world.client_for(world.registrar_a)
    response = client.post(reverse("students:action"), {"action": "undo", "ids": [students[0].pk]}, follow=True)
    assert "已撤销报到 1 人" in response.content.decode()
    assert AdmissionRecord.objects.get(id_number=students[0].id_number).state == AdmissionRecord.State.PENDING
    response = client.post(reverse("students:action"), {"action": "undo", "ids": [world.student_a.pk]}, follow=True)
    assert "不能撤销报到：李小红" in response.content.decode()
    assert AuditEvent.objects.filter(action="student.checkin_undo").count() == 1
