"""Two reviewers acting on the same students at the same moment, on two real PostgreSQL connections: nobody
approves twice, nobody approves a record the other just returned, and the second is told what was handled. A
registrar editing at the same moment: an edit that comes after the submission is refused, and an edit of a
returned student is approved only after it is submitted and reviewed again.

PostgreSQL only: SQLite's test database is an in-memory database shared between threads, where a second
writer fails at once instead of waiting; on a real SQLite file, IMMEDIATE transactions serialise writers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date

import pytest
from django.db import connection, connections, transaction

from tests.conftest import make_school, make_setup, make_user
from xueji.admissions.models import AdmissionRecord
from xueji.orgs.models import Region, Role, User
from xueji.reference.services import reference_load
from xueji.students.models import ReviewAction, State, Student
from xueji.students.workflow import Action, TransitionResult, transition_apply

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks between two connections: PostgreSQL"),
]


def _setup(count: int) -> tuple[User, User, list[int]]:
    reference_load()
    city = Region.objects.create(code="110000", name="北京市", kind=Region.Kind.CITY)
    district = Region.objects.create(code="110101", name="东城区", kind=Region.Kind.DISTRICT, parent=city)
    school = make_school("3111010001", "东城职业教育中心", district)
    offering, *_ = make_setup(school, "710201")
    leader = make_user("xl", Role.SCHOOL_LEADER, school=school)
    other_leader = make_user("xl2", Role.SCHOOL_LEADER, school=school)
    ids = []
    for n in range(count):
        number = f"1101012010010{n:04d}X"
        record = AdmissionRecord.objects.create(
            school=school, grade=2026, name=f"学生{n}", id_type="1", id_number=number, offering=offering,
            admission_method="1", state=AdmissionRecord.State.CHECKED_IN,
        )  # fmt: skip
        student = Student.objects.create(
            school=school, admission=record, grade=2026, name=record.name, id_type="1", id_number=number,
            birth_date=date(2010, 1, 1), offering=offering, admission_method="1", state=State.REVIEW_SCHOOL,
        )  # fmt: skip
        ids.append(student.pk)
    return leader, other_leader, ids


def _race(first: Callable[[], TransitionResult], second: Callable[[], TransitionResult]) -> list[TransitionResult]:
    """Run ``first`` in a transaction that stays open until ``second`` (another connection) has started and is
    waiting; then commit ``first`` and let ``second`` finish."""
    results: dict[str, TransitionResult] = {}
    first_done = threading.Event()
    release = threading.Event()
    errors: list[BaseException] = []

    def run_first() -> None:
        try:
            with transaction.atomic():
                results["first"] = first()
                first_done.set()
                release.wait(timeout=30)
        except BaseException as error:  # surfaced below
            errors.append(error)
            first_done.set()
        finally:
            connections.close_all()

    def run_second() -> None:
        try:
            results["second"] = second()
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    a = threading.Thread(target=run_first)
    a.start()
    assert first_done.wait(timeout=30)
    b = threading.Thread(target=run_second)
    b.start()
    b.join(timeout=1.0)
    assert b.is_alive(), "the second reviewer did not wait for the first one's row locks"
    release.set()
    a.join(timeout=30)
    b.join(timeout=30)
    assert not errors, errors
    return [results["first"], results["second"]]


def test_two_reviewers_approving_the_same_students_approve_each_once() -> None:
    leader, other_leader, ids = _setup(30)
    students = Student.objects.filter(pk__in=ids)
    first, second = _race(
        lambda: transition_apply(actor=leader, action=Action.APPROVE, students=students),
        lambda: transition_apply(actor=other_leader, action=Action.APPROVE, students=students),
    )
    assert sorted(first.done) == sorted(ids)
    assert second.done == []
    assert sorted(pk for pk, _name, _state in second.already_handled) == sorted(ids)
    assert {state for _pk, _name, state in second.already_handled} == {"审核中（区县）"}
    assert ReviewAction.objects.filter(student_id__in=ids, action="approve").count() == 30
    assert set(students.values_list("state", flat=True)) == {State.REVIEW_DISTRICT}


def test_a_record_returned_by_one_reviewer_is_not_approved_by_the_other() -> None:
    leader, other_leader, ids = _setup(10)
    returned = Student.objects.filter(pk__in=ids[:3])
    first, second = _race(
        lambda: transition_apply(actor=leader, action=Action.RETURN, students=returned, reason="照片不清晰"),
        lambda: transition_apply(
            actor=other_leader, action=Action.APPROVE, students=Student.objects.filter(pk__in=ids)
        ),
    )
    assert sorted(first.done) == sorted(ids[:3])
    assert sorted(second.done) == sorted(ids[3:])
    assert sorted(pk for pk, _n, _s in second.already_handled) == sorted(ids[:3])
    assert set(Student.objects.filter(pk__in=ids[:3]).values_list("state", flat=True)) == {State.UNSUBMITTED}
    assert not ReviewAction.objects.filter(student_id__in=ids[:3], action="approve").exists()


# --- a registrar editing while the school's leaders act on the same students -----------------------------------


def _valid_students(count: int, state: State) -> tuple[User, User, User, list[int]]:
    """School A with ``count`` students whose data passes the validator (so that 编辑 can save them):
    (registrar, leader, other leader, ids)."""
    from tests.admissions.helpers import school_a_row
    from tests.conftest import school_a_from_scratch
    from xueji.admissions.services import SchoolChoices, record_fields
    from xueji.orgs.selectors import school_catalog
    from xueji.records.context import RowContext
    from xueji.records.validator import RowValidator

    _city, _district, school = school_a_from_scratch()
    registrar = make_user("zc", Role.REGISTRAR, school=school)
    leader = make_user("xl", Role.SCHOOL_LEADER, school=school)
    other_leader = make_user("xl2", Role.SCHOOL_LEADER, school=school)
    validator = RowValidator(RowContext(school=school_catalog(school)))
    choices = SchoolChoices.load(school)
    ids = []
    for n in range(1, count + 1):
        clean, errors = validator.validate(school_a_row(n))
        assert not errors, errors
        values = record_fields(clean, choices)
        record = AdmissionRecord.objects.create(school=school, state=AdmissionRecord.State.CHECKED_IN, **values)
        student = Student.objects.create(school=school, admission=record, state=state, **values)
        ids.append(student.pk)
    return registrar, leader, other_leader, ids


def _edit(registrar: User, pk: int, phone: str):  # type: ignore[no-untyped-def]
    from tests.admissions.helpers import school_a_row
    from xueji.students.edits import student_update

    student = Student.objects.select_related("school").get(pk=pk)
    raw = {**school_a_row(_serial_of(student)), "phone": phone}
    return student_update(actor=registrar, student=student, raw=raw)


def _serial_of(student: Student) -> int:
    from tests.admissions.helpers import person_id

    return next(n for n in range(1, 1000) if person_id(n) == student.id_number)


def test_an_edit_that_loses_the_race_to_a_submission_is_refused_and_the_submitted_data_is_what_is_reviewed() -> None:
    registrar, leader, _other, ids = _valid_students(3, State.UNSUBMITTED)
    students = Student.objects.filter(pk__in=ids)
    before = Student.objects.get(pk=ids[0]).data
    first, second = _race(
        lambda: transition_apply(actor=registrar, action=Action.SUBMIT, students=students),
        lambda: _edit(registrar, ids[0], "13811112222"),
    )
    assert sorted(first.done) == sorted(ids)
    assert not second.ok and "审核中（学校），学校不能修改" in second.errors[0].message
    assert Student.objects.get(pk=ids[0]).data == before  # nothing changed behind the reviewers' backs
    approved = transition_apply(actor=leader, action=Action.APPROVE, students=students)
    assert sorted(approved.done) == sorted(ids)


def test_a_record_edited_after_its_return_is_not_approved_until_it_is_submitted_again() -> None:
    """A leader returns a student while another approves the school's list; the registrar corrects the returned
    student meanwhile. The correction is saved, and nobody approves it without seeing it: it must be submitted
    and reviewed again."""
    registrar, leader, other_leader, ids = _valid_students(4, State.REVIEW_SCHOOL)
    returned = Student.objects.filter(pk=ids[0])
    first, second = _race(
        lambda: transition_apply(actor=leader, action=Action.RETURN, students=returned, reason="电话号码有误"),
        lambda: _edit(registrar, ids[0], "13811112222"),
    )
    assert first.done == [ids[0]]
    assert second.ok and second.changed and "phone" in second.changed  # the edit waited for the return
    approval = transition_apply(actor=other_leader, action=Action.APPROVE, students=Student.objects.filter(pk__in=ids))
    assert sorted(approval.done) == sorted(ids[1:])
    assert [(pk, state) for pk, _name, state in approval.already_handled] == [(ids[0], "未提交")]
    edited = Student.objects.get(pk=ids[0])
    assert (edited.state, edited.data["phone"]) == (State.UNSUBMITTED, "13811112222")
    assert not ReviewAction.objects.filter(student_id=ids[0], action="approve").exists()
    # Submitted again, it is reviewed again: the history shows the return, the new submission, the approval.
    transition_apply(actor=registrar, action=Action.SUBMIT, students=returned)
    transition_apply(actor=leader, action=Action.APPROVE, students=returned)
    history = list(ReviewAction.objects.filter(student_id=ids[0]).order_by("pk").values_list("action", flat=True))
    assert history == ["return", "submit", "approve"]
