"""新生报到 (check-in) and its undo, and the checks 按条件提交 runs before the workflow moves a student."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from xueji.admissions.models import AdmissionRecord
from xueji.audit.services import audit_record
from xueji.orgs.models import SchoolClass, User
from xueji.orgs.selectors import school_catalog
from xueji.records.check import RowReport
from xueji.records.context import RowContext
from xueji.records.validator import ERROR, RowValidator
from xueji.students.models import ReviewAction, State, Student
from xueji.students.workflow import chunked, holding_elsewhere


def checkin(*, actor: User, records: QuerySet[AdmissionRecord], request: HttpRequest | None = None) -> int:
    """报到注册: every 待报到 record of ``records`` becomes a student (未提交); the record becomes 已报到."""
    now = timezone.now()
    with transaction.atomic():
        pending = list(
            records.select_for_update()
            .filter(state=AdmissionRecord.State.PENDING)
            .order_by("pk")
            .select_related("school")
        )
        if not pending:
            return 0
        school_ids = {r.school_id for r in pending}
        classes = {
            (c.school_id, c.grade.year, c.name): c.pk
            for c in SchoolClass.objects.filter(school_id__in=school_ids).select_related("grade")
        }
        Student.objects.bulk_create(
            [
                Student(
                    school_id=r.school_id,
                    admission=r,
                    grade=r.grade,
                    school_class_id=classes.get((r.school_id, r.grade, str(r.data.get("class_name") or ""))),
                    name=r.name,
                    id_type=r.id_type,
                    id_number=r.id_number,
                    gender=r.gender,
                    birth_date=r.birth_date,
                    offering_id=r.offering_id,
                    direction_id=r.direction_id,
                    admission_method=r.admission_method,
                    data=r.data,
                    created_at=now,
                    updated_at=now,
                )
                for r in pending
            ],
            batch_size=500,
        )
        ids = [r.pk for r in pending]
        for chunk in chunked(ids):
            AdmissionRecord.objects.filter(pk__in=chunk).update(state=AdmissionRecord.State.CHECKED_IN, updated_at=now)
        audit_record(
            actor=actor, action="student.checkin", after={"count": len(ids), "admissions": ids[:2000]}, request=request
        )
    return len(pending)


@dataclass
class UndoResult:
    undone: int
    refused: list[str]  # names of students that were submitted before


def checkin_undo(*, actor: User, students: QuerySet[Student], request: HttpRequest | None = None) -> UndoResult:
    """撤销报到 for students never submitted: the student goes, the admission record is 待报到 again."""
    with transaction.atomic():
        rows = list(students.select_for_update().order_by("pk"))
        submitted = set(ReviewAction.objects.filter(student__in=rows).values_list("student_id", flat=True))
        undo = [s for s in rows if s.state == State.UNSUBMITTED and s.pk not in submitted]
        refused = [s.name for s in rows if s not in undo]
        admission_ids = [s.admission_id for s in undo]
        Student.objects.filter(pk__in=[s.pk for s in undo]).delete()
        AdmissionRecord.objects.filter(pk__in=admission_ids).update(
            state=AdmissionRecord.State.PENDING, updated_at=timezone.now()
        )
        if undo:
            audit_record(
                actor=actor,
                action="student.checkin_undo",
                before={"students": [s.pk for s in undo][:2000], "admissions": admission_ids[:2000]},
                request=request,
            )
    return UndoResult(len(undo), refused)


def submit_check(ids: list[int]) -> dict[int, list[str]]:
    """Why each of these students may not be submitted yet: incomplete or invalid fields (the same validator
    as the import), or the person already holds a student status elsewhere (一人一籍)."""
    students = list(Student.objects.filter(pk__in=ids).select_related("school", "school_class"))
    reasons: dict[int, list[str]] = {}
    validators: dict[int, RowValidator] = {}
    for student in students:
        validator = validators.get(student.school_id)
        if validator is None:
            validator = validators[student.school_id] = RowValidator(RowContext(school=school_catalog(student.school)))
        raw = dict(student.data)
        raw["class_name"] = student.school_class.name if student.school_class else raw.get("class_name")
        _clean, errors = validator.validate(raw)
        problems = [e for e in errors if e.severity == ERROR]
        if problems:
            reasons[student.pk] = [RowReport(0, problems).reason()]
    for pk in holding_elsewhere(students):
        reasons.setdefault(pk, []).append("该学生已在其他学校注册学籍（一人一籍），不能重复注册，请联系区县核实")
    return reasons
