"""Progress of a campaign: each school's and each district's stages against their deadlines. The rules are in
``deadlines.py``; this module gathers the facts in a handful of grouped queries (no query per school)."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db.models import Max, Q, QuerySet

from xueji.campaigns.deadlines import STATUS_ORDER, Stage, Status, combine, local_day, stage
from xueji.campaigns.models import Campaign, Material, MaterialReceipt
from xueji.orgs.models import Region, School
from xueji.reconcile.models import NameChange
from xueji.students.models import ReviewAction, State, Student
from xueji.students.selectors import state_counts

SUBMIT, MATERIALS, REVIEW, FILING = "submit", "materials", "review", "filing"
STAGE_LABELS = {
    SUBMIT: "学校完成提交",
    MATERIALS: "学校材料报送区县",
    REVIEW: "区县完成审核",
    FILING: "区县向市级报送",
}
PAST_DISTRICT = (State.REVIEW_CITY, State.APPROVED)


def required_materials(has_name_changes: bool) -> list[str]:
    """改名证明材料 is owed only where a student of the grade has an approved or pending 改名."""
    kinds = [Material.PRINTED_ROSTER, Material.PACKAGE, Material.ADMISSION_PAGES]
    if has_name_changes:
        kinds.append(Material.NAME_CHANGE_EVIDENCE)
    return [str(k) for k in kinds]


class _MaterialsAndStages:
    """What a school's and a district's progress row share: the materials owed and received, and the stages."""

    required: list[str]
    received: dict[str, datetime.date]
    stages: list[Stage]

    @property
    def missing(self) -> list[str]:
        return [k for k in self.required if k not in self.received]

    @property
    def missing_labels(self) -> list[str]:
        return [str(Material(k).label) for k in self.missing]

    def stage(self, key: str) -> Stage:
        return next(s for s in self.stages if s.key == key)


@dataclass
class SchoolProgress(_MaterialsAndStages):
    school_id: int
    code: str
    name: str
    district_id: int
    district_name: str
    students: int = 0
    unsubmitted: int = 0
    in_review: int = 0
    past_district: int = 0
    approved: int = 0
    required: list[str] = field(default_factory=list)
    received: dict[str, datetime.date] = field(default_factory=dict)
    stages: list[Stage] = field(default_factory=list)


@dataclass
class DistrictProgress(_MaterialsAndStages):
    district_id: int
    code: str
    name: str
    schools: list[SchoolProgress] = field(default_factory=list)
    required: list[str] = field(default_factory=list)
    received: dict[str, datetime.date] = field(default_factory=dict)
    stages: list[Stage] = field(default_factory=list)

    @property
    def students(self) -> int:
        return sum(s.students for s in self.schools)

    @property
    def approved(self) -> int:
        return sum(s.approved for s in self.schools)


def _day(moment: datetime.datetime | None) -> datetime.date | None:
    return local_day(moment) if moment is not None else None


def _finished_days(
    students: QuerySet[Student],
) -> tuple[dict[int, datetime.date | None], dict[int, datetime.date | None]]:
    """Per school: the day of the last 提交 and of the last district approval of ``students``, in one pass
    over their review history."""
    rows = (
        ReviewAction.objects.filter(student__in=students, action__in=["submit", "approve"])
        .values("student__school_id")
        .annotate(
            submitted=Max("at", filter=Q(action="submit")),
            reviewed=Max("at", filter=Q(action="approve", from_state=State.REVIEW_DISTRICT)),
        )
        .values_list("student__school_id", "submitted", "reviewed")
    )
    submitted: dict[int, datetime.date | None] = {}
    reviewed: dict[int, datetime.date | None] = {}
    for school_id, last_submit, last_review in rows:
        submitted[school_id], reviewed[school_id] = _day(last_submit), _day(last_review)
    return submitted, reviewed


def schools_progress(
    campaign: Campaign, schools: QuerySet[School], now: datetime.datetime, *, history: bool = True
) -> list[SchoolProgress]:
    """Every active school of ``schools`` (the caller's scope) with its three stages. Without ``history`` the
    days finished stages were finished on are not looked up (the review history is the costly part), for
    callers that only want what is still open."""
    school_list = list(schools.filter(is_active=True).select_related("district").order_by("district__code", "code"))
    ids = [s.pk for s in school_list]
    students = Student.objects.filter(school_id__in=ids, grade=campaign.intake_year)
    counts = {row["school_id"]: row for row in state_counts(students, by="school")}
    submitted_on, reviewed_on = _finished_days(students) if history else ({}, {})
    with_name_changes = set(
        NameChange.objects.filter(
            student__in=students, status__in=[NameChange.Status.PENDING, NameChange.Status.APPROVED]
        ).values_list("student__school_id", flat=True)
    )
    received: dict[int, dict[str, datetime.date]] = defaultdict(dict)
    for school_id, kind, day in MaterialReceipt.objects.filter(campaign=campaign, school_id__in=ids).values_list(
        "school_id", "kind", "received_on"
    ):
        received[school_id][kind] = day
    result = []
    for school in school_list:
        row = counts.get(school.pk, {})
        progress = SchoolProgress(
            school_id=school.pk,
            code=school.code,
            name=school.name,
            district_id=school.district_id,
            district_name=school.district.name,
            students=int(row.get("total", 0) or 0),  # type: ignore[call-overload]
            unsubmitted=int(row.get(State.UNSUBMITTED.value, 0) or 0),  # type: ignore[call-overload]
            in_review=sum(int(row.get(s.value, 0) or 0) for s in (State.REVIEW_SCHOOL, State.REVIEW_DISTRICT)),  # type: ignore[call-overload]
            past_district=sum(int(row.get(s.value, 0) or 0) for s in PAST_DISTRICT),  # type: ignore[call-overload]
            approved=int(row.get(State.APPROVED.value, 0) or 0),  # type: ignore[call-overload]
            required=required_materials(school.pk in with_name_changes),
            received=received.get(school.pk, {}),
        )
        progress.stages = _school_stages(
            campaign, progress, submitted_on.get(school.pk), reviewed_on.get(school.pk), now
        )
        result.append(progress)
    return result


def _school_stages(
    campaign: Campaign,
    p: SchoolProgress,
    submitted_on: datetime.date | None,
    reviewed_on: datetime.date | None,
    now: datetime.datetime,
) -> list[Stage]:
    got = [k for k in p.required if k in p.received]
    return [
        stage(
            key=SUBMIT,
            label=STAGE_LABELS[SUBMIT],
            deadline=campaign.school_submit_by,
            started=p.students > p.unsubmitted,
            done=p.students > 0 and p.unsubmitted == 0,
            finished_on=submitted_on,
            now=now,
            detail=f"未提交 {p.unsubmitted} / 共 {p.students}",
        ),
        stage(
            key=MATERIALS,
            label=STAGE_LABELS[MATERIALS],
            deadline=campaign.school_materials_by,
            started=bool(got),
            done=len(got) == len(p.required),
            finished_on=max((p.received[k] for k in got), default=None),
            now=now,
            detail=f"已收 {len(got)} / 应交 {len(p.required)}",
        ),
        stage(
            key=REVIEW,
            label=STAGE_LABELS[REVIEW],
            deadline=campaign.district_review_by,
            started=p.past_district > 0,
            done=p.students > 0 and p.past_district == p.students,
            finished_on=reviewed_on,
            now=now,
            detail=f"已过区县 {p.past_district} / 共 {p.students}",
        ),
    ]


def districts_progress(
    campaign: Campaign,
    districts: QuerySet[Region],
    schools: QuerySet[School],
    now: datetime.datetime,
    *,
    history: bool = True,
) -> list[DistrictProgress]:
    """Every district of ``districts`` with its schools (from ``schools``) and four stages."""
    district_list = list(districts.order_by("code"))
    by_district: dict[int, list[SchoolProgress]] = defaultdict(list)
    for school in schools_progress(campaign, schools.filter(district__in=district_list), now, history=history):
        by_district[school.district_id].append(school)
    received: dict[int, dict[str, datetime.date]] = defaultdict(dict)
    for district_id, kind, day in MaterialReceipt.objects.filter(
        campaign=campaign, district_id__in=[d.pk for d in district_list]
    ).values_list("district_id", "kind", "received_on"):
        received[district_id][kind] = day
    result = []
    for district in district_list:
        parts = by_district.get(district.pk, [])
        p = DistrictProgress(
            district_id=district.pk,
            code=district.code,
            name=district.name,
            schools=parts,
            required=required_materials(any(Material.NAME_CHANGE_EVIDENCE in s.required for s in parts)),
            received=received.get(district.pk, {}),
        )
        got = [k for k in p.required if k in p.received]
        p.stages = [
            *(
                combine(
                    key=key,
                    label=STAGE_LABELS[key],
                    deadline=deadline,
                    parts=[s.stage(key) for s in parts],
                    now=now,
                    detail=f"已完成 {sum(s.stage(key).status == Status.DONE for s in parts)} / 共 {len(parts)} 所学校",
                )
                for key, deadline in (
                    (SUBMIT, campaign.school_submit_by),
                    (MATERIALS, campaign.school_materials_by),
                    (REVIEW, campaign.district_review_by),
                )
            ),
            stage(
                key=FILING,
                label=STAGE_LABELS[FILING],
                deadline=campaign.district_filing_until,
                started=bool(got),
                done=len(got) == len(p.required),
                finished_on=max((p.received[k] for k in got), default=None),
                now=now,
                detail=f"已收 {len(got)} / 应交 {len(p.required)}",
            ),
        ]
        result.append(p)
    return result


SORT_KEYS = ("", "code", "name", SUBMIT, MATERIALS, REVIEW, FILING)


def sort_rows(rows: Sequence[SchoolProgress | DistrictProgress], key: str) -> list:  # type: ignore[type-arg]
    """Overdue first by default (the most overdue stages first, then by code); by one stage (its status,
    overdue first, then its detail); or by code or name."""
    if key == "code":
        return sorted(rows, key=lambda r: r.code)
    if key == "name":
        return sorted(rows, key=lambda r: r.name)
    if key in STAGE_LABELS:
        keyed = [r for r in rows if any(s.key == key for s in r.stages)]
        return sorted(keyed, key=lambda r: (STATUS_ORDER[r.stage(key).status], r.code)) + [
            r for r in rows if r not in keyed
        ]
    return sorted(rows, key=lambda r: (-sum(s.status == Status.OVERDUE for s in r.stages), _best(r.stages), r.code))


def _best(stages: Iterable[Stage]) -> int:
    return min((STATUS_ORDER[s.status] for s in stages), default=9)
