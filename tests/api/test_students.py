"""学籍 through the API: 学籍管理's filters, the same masking, and 提交 / 通过 / 退回 through the transition table."""

from __future__ import annotations

from tests.api.helpers import as_persona
from tests.conftest import World
from xueji.audit.models import AuditEvent
from xueji.students.models import ReviewAction, State, Student


def _state(world: World) -> str:
    return Student.objects.get(pk=world.student_a.pk).state


def test_the_list_takes_the_filters_of_student_management(world: World) -> None:
    client = as_persona(world, "city_admin")
    assert [s["name"] for s in client.get("/students", {"state": "in_review"}).json()["items"]] == ["李小红"]
    assert client.get("/students", {"state": "approved"}).json()["items"] == []
    assert [s["id"] for s in client.get("/students", {"class": world.class_a.pk}).json()["items"]] == [
        world.student_a.pk
    ]
    assert client.get("/students", {"q": "李小"}).json()["items"][0]["state_label"] == "审核中（学校）"
    assert client.get("/students", {"state": "nonsense"}).status_code == 422
    assert as_persona(world, "reviewer_b").get("/students").json()["items"] == []


def test_detail_is_masked_for_all_but_the_registrar(world: World) -> None:
    leader = as_persona(world, "leader_a").get(f"/students/{world.student_a.pk}").json()
    assert leader["id_number"] == "110101********0027"
    assert leader["data"]["phone"] == "（仅学籍管理员可见）"
    registrar = as_persona(world, "registrar_a").get(f"/students/{world.student_a.pk}").json()
    assert registrar["id_number"] == "110101201005120027" and registrar["data"]["phone"] == "13900139001"


def test_review_goes_level_by_level_and_a_return_needs_its_reason(world: World) -> None:
    approved = as_persona(world, "leader_a").post_json(
        "/students/review", {"action": "approve", "ids": [world.student_a.pk]}
    )
    assert approved.json()["done"] == [world.student_a.pk]
    assert _state(world) == State.REVIEW_DISTRICT
    # The school leader's turn is over: a second approval reports the student as handled, and nothing moves.
    again = as_persona(world, "leader_a").post_json(
        "/students/review", {"action": "approve", "ids": [world.student_a.pk]}
    )
    assert again.json()["already_handled"] == [
        {"id": world.student_a.pk, "name": "李小红", "state_label": "审核中（区县）"}
    ]
    reviewer = as_persona(world, "reviewer_a")
    no_reason = reviewer.post_json("/students/review", {"action": "return", "ids": [world.student_a.pk]})
    assert no_reason.status_code == 422
    assert no_reason.json()["errors"][0]["field"] == "reason"
    assert no_reason.json()["detail"] == "退回必须填写原因"
    returned = reviewer.post_json(
        "/students/review", {"action": "return", "ids": [world.student_a.pk], "reason": "户口所在地与证件不符"}
    )
    assert returned.json()["done"] == [world.student_a.pk]
    student = Student.objects.get(pk=world.student_a.pk)
    assert (student.state, student.return_reason) == (State.UNSUBMITTED, "户口所在地与证件不符")
    assert ReviewAction.objects.filter(student=student, action="return", actor=world.reviewer_a).exists()
    assert AuditEvent.objects.filter(action="student.return").exists()


def test_an_incomplete_student_is_not_submitted_and_says_why(world: World) -> None:
    Student.objects.filter(pk=world.student_a.pk).update(state=State.UNSUBMITTED)
    response = as_persona(world, "registrar_a").post_json("/students/submit", {"ids": [world.student_a.pk]})
    assert response.status_code == 200
    [refused] = response.json()["refused"]
    assert refused["id"] == world.student_a.pk and "不能为空" in refused["reasons"][0]
    assert _state(world) == State.UNSUBMITTED


def test_one_student_outside_the_scope_stops_the_whole_request(world: World) -> None:
    from tests.reconcile.conftest import enrol

    other = enrol(world, "赵六", "110101201001010016", school=world.school_c)
    response = as_persona(world, "reviewer_a").post_json(
        "/students/review", {"action": "return", "ids": [world.student_a.pk, other.pk], "reason": "核对"}
    )
    assert response.status_code == 404
    assert str(other.pk) in response.json()["detail"]
    assert _state(world) == State.REVIEW_SCHOOL and Student.objects.get(pk=other.pk).state == State.REVIEW_DISTRICT


def test_a_registrar_cannot_review_and_a_reviewer_cannot_submit(world: World) -> None:
    body = {"action": "approve", "ids": [world.student_a.pk]}
    assert as_persona(world, "registrar_a").post_json("/students/review", body).status_code == 403
    denied = as_persona(world, "reviewer_a").post_json("/students/submit", {"ids": [world.student_a.pk]})
    assert denied.status_code == 403 and denied.json()["detail"] == "区县审核人不能使用此接口"
