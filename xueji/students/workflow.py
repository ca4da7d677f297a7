"""The 学籍 workflow: one table of transitions (state, action, role → next state), and the one function that
applies it to any number of students.

    未提交 ──提交(学籍管理员)──▶ 审核中[学校] ──通过(校领导)──▶ 审核中[区县] ──通过(区县)──▶ 审核中[市级]
       ▲                              │ 退回                     │ 退回                    │ 通过(市级)
       └──────────────────────────────┴─────────────────────────┴── 退回 ◀────────────────┤
                                                                                          ▼
                                                                                 审核通过 (学籍号)

Views and bulk actions call ``transition_apply``; it refuses anything the table does not allow. A bulk action
is one transaction: lock the rows, one set-based UPDATE, one INSERT … SELECT of review actions, one audit
event. Rows another reviewer handled first are reported back, never acted on twice.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from xueji.audit.services import audit_record
from xueji.orgs.models import Role, User
from xueji.students.models import ReviewAction, State, Student

T = TypeVar("T")


class Action(StrEnum):
    SUBMIT = "submit"
    APPROVE = "approve"
    RETURN = "return"


ACTION_LABELS = {Action.SUBMIT: "提交", Action.APPROVE: "审核通过", Action.RETURN: "退回"}


@dataclass(frozen=True)
class Transition:
    source: State
    action: Action
    role: Role
    target: State
    needs_reason: bool = False
    assigns_student_no: bool = False


TRANSITIONS: tuple[Transition, ...] = (
    Transition(State.UNSUBMITTED, Action.SUBMIT, Role.REGISTRAR, State.REVIEW_SCHOOL),
    Transition(State.REVIEW_SCHOOL, Action.APPROVE, Role.SCHOOL_LEADER, State.REVIEW_DISTRICT),
    Transition(State.REVIEW_SCHOOL, Action.RETURN, Role.SCHOOL_LEADER, State.UNSUBMITTED, needs_reason=True),
    Transition(State.REVIEW_DISTRICT, Action.APPROVE, Role.DISTRICT_REVIEWER, State.REVIEW_CITY),
    Transition(State.REVIEW_DISTRICT, Action.RETURN, Role.DISTRICT_REVIEWER, State.UNSUBMITTED, needs_reason=True),
    Transition(State.REVIEW_CITY, Action.APPROVE, Role.CITY_ADMIN, State.APPROVED, assigns_student_no=True),
    Transition(State.REVIEW_CITY, Action.RETURN, Role.CITY_ADMIN, State.UNSUBMITTED, needs_reason=True),
)
TABLE: dict[tuple[State, Action, Role], Transition] = {(t.source, t.action, t.role): t for t in TRANSITIONS}
# The state a role works on (its 待审核 list): each role acts on exactly one state.
WORKS_ON: dict[Role, State] = {t.role: t.source for t in TRANSITIONS}


def transition_for(state: State, action: Action, role: Role) -> Transition | None:
    return TABLE.get((State(state), Action(action), Role(role)))


def transition_of(action: Action, role: Role) -> Transition:
    """The one transition a role may make with an action; ValidationError if it may make none."""
    found = [t for t in TRANSITIONS if t.action == action and t.role == role]
    if not found:
        raise ValidationError(f"{Role(role).label}不能执行“{ACTION_LABELS[Action(action)]}”")
    return found[0]


@dataclass
class TransitionResult:
    done: list[int] = field(default_factory=list)  # student ids moved
    # Students that were not in the state the action needs any more (another user handled them first).
    already_handled: list[tuple[int, str, str]] = field(default_factory=list)  # (id, name, state label)
    refused: list[tuple[int, str, list[str]]] = field(default_factory=list)  # (id, name, reasons): submit only

    @property
    def summary(self) -> str:
        parts = [f"已处理 {len(self.done)} 人"]
        if self.already_handled:
            parts.append(f"{len(self.already_handled)} 人已被他人处理、未重复操作")
        if self.refused:
            parts.append(f"{len(self.refused)} 人未通过检查、未提交")
        return "，".join(parts)


SQL_PARAMS = 900  # bound parameters per statement: under SQLite's limit everywhere


def chunked(items: Sequence[T], size: int = SQL_PARAMS) -> Iterator[Sequence[T]]:
    """``items`` in slices small enough for one IN list (the one chunking helper of students and reconcile)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _id_sets(ids: Sequence[int]) -> Iterator[tuple[str, list[Any]]]:
    """SQL conditions "id …" covering ``ids``: on PostgreSQL one ``IN (SELECT unnest(array))`` for any number
    of students (the planner joins it like a table; ``= ANY(array)`` scanned the array once per row), elsewhere
    IN lists of at most 900 (SQLite's limit on bound parameters)."""
    if not ids:
        return
    if connection.vendor == "postgresql":
        yield "IN (SELECT unnest(%s::bigint[]))", [list(ids)]
        return
    for chunk in chunked(ids):
        yield f"IN ({', '.join(['%s'] * len(chunk))})", list(chunk)


# Given the ids about to be submitted, the reasons that keep some of them back (by id).
Checker = Callable[[list[int]], dict[int, list[str]]]


def transition_apply(
    *,
    actor: User,
    action: Action,
    students: QuerySet[Student],
    reason: str = "",
    check: Checker | None = None,
    request: HttpRequest | None = None,
) -> TransitionResult:
    """Apply ``action`` as ``actor`` to every student of ``students`` (already limited to the actor's scope)
    that is in the state the table requires. ``check`` (submit only) returns reasons per student id that
    keep a student back."""
    transition = transition_of(action, Role(actor.role))
    reason = reason.strip()
    if transition.needs_reason and not reason:
        raise ValidationError({"reason": "退回必须填写原因"})
    if len(reason) > 500:
        raise ValidationError({"reason": "原因不能超过500字"})
    result = TransitionResult()
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            students.select_for_update().values_list("pk", "name", "state", "id_type", "student_no").order_by("pk")
        )
        eligible = [row[0] for row in rows if row[2] == transition.source]
        names = {row[0]: row[1] for row in rows}
        result.already_handled = [
            (pk, name, str(State(state).label)) for pk, name, state, *_ in rows if state != transition.source
        ]
        if check is not None and eligible:
            refusals = check(eligible)
            result.refused = [(pk, names[pk], refusals[pk]) for pk in eligible if pk in refusals]
            eligible = [pk for pk in eligible if pk not in refusals]
        if (
            transition.source == State.REVIEW_DISTRICT
            and transition.action == Action.APPROVE
            and not reason
            and eligible
        ):
            # 录取名册核对 (issue 6): a district approves a 统一招生 student with an unresolved 姓名不符 or 无录取记录
            # only with a written reason, which ReviewAction.reason keeps. Imported here: reconcile reads students.
            from xueji.reconcile.selectors import reconcile_blockers

            blocked = reconcile_blockers(eligible)
            result.refused += [
                (pk, names[pk], [f"{blocked[pk]}，审核通过须填写原因"]) for pk in eligible if pk in blocked
            ]
            eligible = [pk for pk in eligible if pk not in blocked]
        changes: dict[str, object] = {"state": transition.target, "updated_at": now}
        if transition.action == Action.RETURN:
            changes["return_reason"] = reason
        elif transition.action == Action.SUBMIT:
            changes["return_reason"] = ""
        try:
            _move(eligible, transition, changes, actor, reason, now)
        except IntegrityError as error:
            raise ValidationError("有学生的身份证件号已在其他学校注册学籍（一人一籍），请刷新后重试") from error
        if transition.assigns_student_no:
            # The UPDATE gave resident ID cards their "G" numbers; the rest (few) get "L" numbers here. Known
            # from the locked rows, so no second look at 50,000 students.
            moving = set(eligible)
            others = [row[0] for row in rows if row[0] in moving and row[3] != "1" and row[4] is None]
            assign_student_numbers(others, resident_ids_done=True)
        result.done = eligible
        if eligible:
            audit_record(
                actor=actor,
                action=f"student.{transition.action}",
                after={
                    "count": len(eligible),
                    "from": transition.source,
                    "to": transition.target,
                    "reason": reason,
                    "students": eligible[:2000],
                },
                request=request,
            )
    return result


def _move(
    ids: Sequence[int],
    t: Transition,
    changes: dict[str, object],
    actor: User,
    reason: str,
    now: datetime.datetime,
) -> None:
    """Move the students ``ids`` (locked, all in ``t.source``) to ``t.target`` and write their review history.

    One UPDATE per chunk (the city's step writes the "G" 学籍号 in it too: one write of each row, not two) and
    one INSERT of the history rows. On PostgreSQL the INSERT takes its ids straight from the array: the rows
    are locked and all in ``t.source``, so the UPDATE moved every one of them, and looking 50,000 students up
    again cost about a sixth of the step (bench/review.py)."""
    student_table = Student._meta.db_table
    history_table = ReviewAction._meta.db_table
    columns = ", ".join(f"{column} = %s" for column in changes)
    if t.assigns_student_no:
        columns += (
            ", student_no = CASE WHEN id_type = '1' AND student_no IS NULL THEN 'G' || id_number ELSE student_no END"
        )
    at = connection.ops.adapt_datetimefield_value(now)
    values: list[Any] = [at if v is now else str(v) for v in changes.values()]
    history: list[Any] = [str(t.action), str(t.source), str(t.target), actor.pk, reason, at]
    insert = f"INSERT INTO {history_table} (student_id, action, from_state, to_state, actor_id, reason, at) "
    with connection.cursor() as cursor:
        for condition, chunk in _id_sets(ids):
            cursor.execute(
                f"UPDATE {student_table} SET {columns} WHERE state = %s AND id {condition}",
                [*values, str(t.source), *chunk],
            )
            if connection.vendor == "postgresql":
                cursor.execute(f"{insert} SELECT unnest(%s::bigint[]), %s, %s, %s, %s, %s, %s", [*chunk, *history])
            else:
                cursor.execute(
                    f"{insert} SELECT id, %s, %s, %s, %s, %s, %s FROM {student_table} WHERE id {condition}",
                    [*history, *chunk],
                )


def temporary_student_no(region_code: str, birth: datetime.date | None, taken: set[str]) -> str:
    """ "L" + the school's region code + birth date + 4 digits, the first free one."""
    stem = f"L{region_code}{birth:%Y%m%d}" if birth else f"L{region_code}00000000"
    for serial in range(1, 10000):
        candidate = f"{stem}{serial:04d}"
        if candidate not in taken:
            return candidate
    raise ValidationError(f"临时学籍号 {stem}xxxx 已用尽")


def assign_student_numbers(ids: Iterable[int], *, resident_ids_done: bool = False) -> None:
    """学籍号: "G" + the 18-digit ID number for resident ID cards, a temporary "L" number for other documents."""
    ids = list(ids)
    table = Student._meta.db_table
    unnumbered: list[int] = []
    with connection.cursor() as cursor:
        for condition, chunk in _id_sets(ids):
            if not resident_ids_done:
                cursor.execute(
                    f"UPDATE {table} SET student_no = %s || id_number "
                    f"WHERE id_type = %s AND student_no IS NULL AND id {condition}",
                    ["G", "1", *chunk],
                )
            cursor.execute(f"SELECT id FROM {table} WHERE student_no IS NULL AND id {condition}", chunk)
            unnumbered += [row[0] for row in cursor.fetchall()]
    others = list(Student.objects.filter(pk__in=unnumbered).select_related("school__district").order_by("pk"))
    for student in others:
        stem = f"L{student.school.district.code}"
        taken = {
            no for no in Student.objects.filter(student_no__startswith=stem).values_list("student_no", flat=True) if no
        }
        student.student_no = temporary_student_no(student.school.district.code, student.birth_date, taken)
        student.save(update_fields=["student_no"])


def holding_elsewhere(students: Sequence[Student]) -> dict[int, Student]:
    """一人一籍: for each student, another student record of the same person already in review or approved."""
    from xueji.students.models import HOLDING

    if not students:
        return {}
    numbers = {s.id_number for s in students}
    ids = {s.pk for s in students}
    found: dict[tuple[str, str], Student] = {}
    for other in (
        Student.objects.filter(id_number__in=numbers, state__in=HOLDING)
        .exclude(pk__in=ids)
        .select_related("school__district")
    ):
        found[(other.id_type, other.id_number)] = other
    return {s.pk: found[(s.id_type, s.id_number)] for s in students if (s.id_type, s.id_number) in found}
