"""Who sees which students (the scope of 新生管理), and the lists' filters."""

from __future__ import annotations

from collections.abc import Mapping

from django.db.models import Count, Q, QuerySet

from xueji.admissions.models import AdmissionRecord
from xueji.admissions.selectors import admissions_visible_to
from xueji.orgs.models import Role, User
from xueji.orgs.selectors import schools_visible_to
from xueji.records.idnumber import normalise_id_number
from xueji.students.models import State, Student
from xueji.students.workflow import WORKS_ON


def students_visible_to(user: User) -> QuerySet[Student]:
    return Student.objects.filter(school__in=schools_visible_to(user))


def review_queue(user: User) -> QuerySet[Student]:
    """The user's 待审核: students in the one state the user's role acts on, within the user's scope."""
    state = WORKS_ON.get(Role(user.role)) if user.role else None
    if state is None or user.role == Role.REGISTRAR:
        return Student.objects.none()
    return students_visible_to(user).filter(state=state)


def _int(value: object) -> int | None:
    try:
        return int(str(value)) if value not in (None, "") else None
    except ValueError:
        return None


def _text_filter(records: QuerySet, text: str) -> QuerySet:  # type: ignore[type-arg]
    text = text.strip()[:40]
    if not text:
        return records
    number = normalise_id_number(text)
    if any(ch.isdigit() for ch in number) and len(number) >= 6:
        return records.filter(id_number=number)
    return records.filter(name__startswith=text)


def student_filter(records: QuerySet[Student], params: Mapping[str, str]) -> QuerySet[Student]:
    """The filters of 学籍管理 and 学籍审核: school, grade, class, major, state, source (新生报到 / 原系统迁入),
    name or ID number."""
    if school := _int(params.get("school")):
        records = records.filter(school_id=school)
    if grade := _int(params.get("grade")):
        records = records.filter(grade=grade)
    if school_class := _int(params.get("class")):
        records = records.filter(school_class_id=school_class)
    if major := _int(params.get("major")):
        records = records.filter(offering_id=major)
    if (source := params.get("source") or "") in Student.Source.values:
        records = records.filter(source=source)
    state = params.get("state") or ""
    if state in State.values:
        records = records.filter(state=state)
    elif state == "in_review":
        records = records.filter(state__in=[State.REVIEW_SCHOOL, State.REVIEW_DISTRICT, State.REVIEW_CITY])
    return _text_filter(records, params.get("q") or "")


def checkin_candidates(user: User, params: Mapping[str, str]) -> QuerySet[AdmissionRecord]:
    """新生报到: the school's 待报到 admission records, by grade (the intake year by default) and more."""
    records = admissions_visible_to(user).filter(state=AdmissionRecord.State.PENDING)
    if grade := _int(params.get("grade")):
        records = records.filter(grade=grade)
    if major := _int(params.get("major")):
        records = records.filter(offering_id=major)
    return _text_filter(records, params.get("q") or "")


def state_counts(students: QuerySet[Student], by: str | None = None) -> list[dict[str, object]]:
    """Counts per state, overall (``by`` None) or per school / district: the 学籍状态 tables."""
    columns = {state.value: Count("pk", filter=Q(state=state)) for state in State}
    if by is None:
        row = students.aggregate(total=Count("pk"), **columns)
        return [row]
    group = {
        "school": ("school_id", "school__name", "school__code"),
        "district": ("school__district_id", "school__district__name", "school__district__code"),
    }[by]
    return list(students.values(*group).annotate(total=Count("pk"), **columns).order_by(group[2]))
