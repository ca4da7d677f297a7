"""Reading the roster and reconciling it within a user's scope. The rules are in ``matching``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Q, QuerySet

from xueji.admissions.models import AdmissionRecord
from xueji.orgs.models import Region, Role, User
from xueji.orgs.selectors import schools_visible_to
from xueji.reconcile.matching import BLOCKING, CATEGORY_LABELS, Category, Finding, Registered, RosterRow, reconcile
from xueji.reconcile.models import RosterCorrection, RosterEntry, RosterLoad
from xueji.records.catalog import UNIFIED_ADMISSION
from xueji.students.models import Student
from xueji.students.workflow import SQL_PARAMS, chunked


def city_of(user: User) -> Region | None:
    """The city whose roster concerns the user: the city itself, a district's city, a school's district's city."""
    if user.role == Role.CITY_ADMIN:
        return user.region
    if user.role == Role.DISTRICT_REVIEWER and user.region is not None:
        return user.region.parent
    if user.school is not None:
        return user.school.district.parent
    return None


def roster_loads_visible_to(user: User) -> QuerySet[RosterLoad]:
    """The roster files themselves are the city's: only its administrator sees the loads and their rows."""
    if user.role != Role.CITY_ADMIN or user.region_id is None:
        return RosterLoad.objects.none()
    return RosterLoad.objects.filter(city_id=user.region_id)


def roster_entries_visible_to(user: User) -> QuerySet[RosterEntry]:
    return RosterEntry.objects.filter(load__in=roster_loads_visible_to(user))


def current_load(city: Region | None, intake_year: int | None = None) -> RosterLoad | None:
    """The city's current roster of ``intake_year`` (None: of its latest intake)."""
    if city is None:
        return None
    loads = RosterLoad.objects.filter(city=city, is_current=True)
    if intake_year is not None:
        loads = loads.filter(intake_year=intake_year)
    return loads.order_by("-intake_year").first()


def intake_years(city: Region | None) -> list[int]:
    if city is None:
        return []
    return list(
        RosterLoad.objects.filter(city=city, is_current=True)
        .order_by("-intake_year")
        .values_list("intake_year", flat=True)
    )


def _corrections(entry_ids: Iterable[int] | None, load: RosterLoad) -> dict[int, dict[str, str]]:
    corrections = RosterCorrection.objects.filter(entry__load=load)
    if entry_ids is not None:
        corrections = corrections.filter(entry_id__in=list(entry_ids))
    result: dict[int, dict[str, str]] = defaultdict(dict)
    for entry_id, field, value in corrections.order_by("corrected_at", "id").values_list(
        "entry_id", "field", "new_value"
    ):
        result[entry_id][field] = value
    return result


def roster_rows(load: RosterLoad, entries: QuerySet[RosterEntry] | None = None) -> list[RosterRow]:
    """The load's rows as reconciliation sees them: with the admissions office's corrections applied."""
    entries = entries if entries is not None else load.entries.all()
    values = list(
        entries.values_list(
            "pk", "school_code", "name", "id_number", "candidate_no", "exam_ticket_no", "major", "method"
        ).order_by("row_number")
    )
    corrections = _corrections([v[0] for v in values] if len(values) < SQL_PARAMS else None, load)
    rows = []
    for pk, school_code, name, id_number, candidate_no, exam_ticket_no, major, method in values:
        fixed = corrections.get(pk, {})
        rows.append(
            RosterRow(
                entry_id=pk,
                school_code=fixed.get("school_code", school_code),
                name=fixed.get("name", name),
                id_number=fixed.get("id_number", id_number),
                candidate_no=candidate_no,
                exam_ticket_no=exam_ticket_no,
                major=major,
                method=method,
            )
        )
    return rows


def _registered(records: QuerySet[AdmissionRecord]) -> list[Registered]:
    rows = records.filter(admission_method=UNIFIED_ADMISSION).values_list(
        "pk", "school__code", "name", "id_number", "data", "state", "student__pk", "student__name", "student__data"
    )
    result = []
    for pk, school_code, name, id_number, data, state, student_id, student_name, student_data in rows.order_by("pk"):
        data = data or {}
        current = student_data or data
        former = {str(d.get("former_name") or "") for d in (data, student_data or {})} - {""}
        result.append(
            Registered(
                admission_id=pk,
                student_id=student_id,
                school_code=school_code,
                name=student_name or name,
                id_number=id_number,
                candidate_no=str(current.get("candidate_no") or data.get("candidate_no") or ""),
                exam_ticket_no=str(current.get("exam_ticket_no") or data.get("exam_ticket_no") or ""),
                checked_in=state == AdmissionRecord.State.CHECKED_IN or student_id is not None,
                former_names=tuple(sorted(former)),
            )
        )
    return result


def findings_for(user: User, intake_year: int | None = None) -> tuple[RosterLoad | None, list[Finding]]:
    """The reconciliation of the user's scope against the city's current roster: every 统一招生 admission of
    the intake in the city, and every roster row, matched; then only the findings touching the user's schools."""
    load = current_load(city_of(user), intake_year)
    if load is None:
        return None, []
    registered = _registered(AdmissionRecord.objects.filter(school__district__parent=load.city, grade=load.intake_year))
    findings = reconcile(registered, roster_rows(load))
    if user.role == Role.CITY_ADMIN:
        return load, findings  # the whole city, roster rows of schools not (yet) in the system included
    codes = set(schools_visible_to(user).values_list("code", flat=True))
    return load, [f for f in findings if f.school_codes() & codes]


def reconcile_blockers(student_ids: Iterable[int]) -> dict[int, str]:
    """The students among ``student_ids`` (统一招生 only) with an unresolved 姓名不符 or 无录取记录 against their
    city's current roster, each with the reason in words. A city with no roster loaded blocks nobody."""
    if not RosterLoad.objects.filter(is_current=True).exists():
        return {}  # no roster anywhere yet: nothing to look up for 50,000 students
    students = list(
        Student.objects.filter(pk__in=list(student_ids), admission_method=UNIFIED_ADMISSION).values_list(
            "pk", "admission_id", "school__district__parent_id", "grade"
        )
    )
    groups: dict[tuple[int | None, int], list[int]] = defaultdict(list)
    for _student_id, admission_id, city_id, grade in students:
        groups[(city_id, grade)].append(admission_id)
    blockers: dict[int, str] = {}
    for (city_id, grade), admission_ids in groups.items():
        load = RosterLoad.objects.filter(city_id=city_id, intake_year=grade, is_current=True).first()
        if load is None:
            continue
        registered = _registered(AdmissionRecord.objects.filter(pk__in=admission_ids))
        keys = sorted({k for r in registered for k in (r.candidate_no.upper(), r.id_number.upper()) if k})
        entry_ids: set[int] = set()
        for chunk in chunked(keys):
            entry_ids.update(
                load.entries.filter(Q(candidate_no__in=chunk) | Q(id_number__in=chunk)).values_list("pk", flat=True)
            )
            entry_ids.update(
                RosterCorrection.objects.filter(
                    entry__load=load, field=RosterCorrection.Field.ID_NUMBER, new_value__in=chunk
                ).values_list("entry_id", flat=True)
            )
        rows = roster_rows(load, RosterEntry.objects.filter(pk__in=entry_ids)) if entry_ids else []
        for finding in reconcile(registered, rows):
            person = finding.registered
            if person is None or person.student_id is None or finding.category not in BLOCKING:
                continue
            if finding.category == Category.NAME_MISMATCH and finding.roster is not None:
                typo = "，疑似笔误" if finding.likely_typo else ""
                blockers[person.student_id] = f"姓名与录取名册不符（名册为“{finding.roster.name}”{typo}）"
            else:
                blockers[person.student_id] = CATEGORY_LABELS[finding.category] + "（录取名册中没有此考生）"
    return blockers
