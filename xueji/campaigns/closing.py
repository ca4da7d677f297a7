"""Closing a campaign: the approved registrations of the grade are frozen as the filed record (one
INSERT … SELECT), and the summary report's figures are fixed as they stood at that moment."""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count
from django.http import HttpRequest
from django.utils import timezone

from xueji.audit.services import audit_record
from xueji.campaigns.deadlines import SHANGHAI, Stage
from xueji.campaigns.models import Campaign, FiledStudent
from xueji.campaigns.progress import STAGE_LABELS, DistrictProgress, districts_progress
from xueji.orgs.models import Region, Role, School, User
from xueji.reconcile.matching import CATEGORY_LABELS, Category
from xueji.reconcile.selectors import findings_for
from xueji.students.models import State, Student


def _stage_summary(stage: Stage, now: datetime.datetime) -> dict[str, Any]:
    return {
        "key": stage.key,
        "label": stage.label,
        "status": stage.status_label,
        "timing": stage.timing_text(now),
        "text": stage.summary_text(now),
        "late": stage.late,
        "detail": stage.detail,
    }


def _snapshot_filed(campaign: Campaign) -> int:
    """Every approved student of the grade in the city, as one INSERT … SELECT: 30,000 rows in one statement,
    no objects built, nothing for a later edit to touch."""
    filed = FiledStudent._meta.db_table
    student = Student._meta.db_table
    school = School._meta.db_table
    region = Region._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {filed} (campaign_id, student_id, school_id, district_id, student_no, name, id_type, "
            "id_number, gender, birth_date, offering_id_filed, direction_id_filed, class_id_filed, admission_method, "
            "data) "
            f"SELECT %s, s.id, s.school_id, sc.district_id, COALESCE(s.student_no, ''), s.name, s.id_type, "
            "s.id_number, s.gender, s.birth_date, s.offering_id, s.direction_id, s.school_class_id, "
            "s.admission_method, s.data "
            f"FROM {student} s JOIN {school} sc ON sc.id = s.school_id JOIN {region} d ON d.id = sc.district_id "
            "WHERE s.grade = %s AND s.state = %s AND d.parent_id = %s",
            [campaign.pk, campaign.intake_year, State.APPROVED.value, campaign.city_id],
        )
        return cursor.rowcount


def _reconcile_counts(actor: User, intake_year: int) -> tuple[bool, dict[str, Counter[str]]]:
    """Reconciliation outcome per school code, against the city's current roster (none loaded: not run)."""
    load, findings = findings_for(actor, intake_year)
    per_school: dict[str, Counter[str]] = defaultdict(Counter)
    for finding in findings:
        code = finding.registered.school_code if finding.registered else finding.roster.school_code  # type: ignore[union-attr]
        per_school[code][CATEGORY_LABELS[finding.category]] += 1
    return load is not None, per_school


def campaign_summary(
    campaign: Campaign, districts: list[DistrictProgress], filed: dict[int, int], actor: User, now: datetime.datetime
) -> dict[str, Any]:
    roster_loaded, reconciled = _reconcile_counts(actor, campaign.intake_year)
    categories = [CATEGORY_LABELS[c] for c in Category]

    def reconcile_of(codes: list[str]) -> dict[str, int]:
        return {label: sum(reconciled.get(code, Counter())[label] for code in codes) for label in categories}

    result = []
    for district in districts:
        schools = [
            {
                "code": s.code,
                "name": s.name,
                "students": s.students,
                "unsubmitted": s.unsubmitted,
                "in_review": s.in_review,
                "approved": s.approved,
                "filed": filed.get(s.school_id, 0),
                "materials_missing": s.missing_labels,
                "stages": [_stage_summary(st, now) for st in s.stages],
                "reconcile": reconcile_of([s.code]),
            }
            for s in district.schools
        ]
        result.append(
            {
                "code": district.code,
                "name": district.name,
                "schools_count": len(schools),
                "students": district.students,
                "filed": sum(s["filed"] for s in schools),  # type: ignore[misc]
                "materials_missing": district.missing_labels,
                "stages": [_stage_summary(st, now) for st in district.stages],
                "reconcile": reconcile_of([s.code for s in district.schools]),
                "schools": schools,
            }
        )
    return {
        "title": campaign.title,
        "intake_year": campaign.intake_year,
        "closed_at": now.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"),
        "deadlines": {
            STAGE_LABELS["submit"]: campaign.school_submit_by.isoformat(),
            STAGE_LABELS["materials"]: campaign.school_materials_by.isoformat(),
            STAGE_LABELS["review"]: campaign.district_review_by.isoformat(),
            STAGE_LABELS["filing"]: (
                f"{campaign.district_filing_from.isoformat()} 至 {campaign.district_filing_until.isoformat()}"
            ),
        },
        "roster_loaded": roster_loaded,
        "categories": categories,
        "districts": result,
        "totals": {
            "districts": len(result),
            "schools": sum(d["schools_count"] for d in result),  # type: ignore[misc]
            "students": sum(d["students"] for d in result),  # type: ignore[misc]
            "filed": sum(d["filed"] for d in result),  # type: ignore[misc]
            "reconcile": {label: sum(d["reconcile"][label] for d in result) for label in categories},  # type: ignore[index]
        },
    }


def campaign_close(
    *, actor: User, campaign_id: int, now: datetime.datetime | None = None, request: HttpRequest | None = None
) -> Campaign:
    """The city closes the campaign: freeze the filed record and the summary, in one transaction."""
    if actor.role != Role.CITY_ADMIN:
        raise PermissionDenied
    now = now or timezone.now()
    with transaction.atomic():
        # The lock makes a second close (another tab, another administrator) wait, then find it closed.
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id, city_id=actor.region_id)
        if not campaign.is_open:
            raise ValidationError("该备案工作已经结束")
        rows = _snapshot_filed(campaign)
        filed = dict(
            FiledStudent.objects.filter(campaign=campaign)
            .values("school_id")
            .annotate(n=Count("pk"))
            .values_list("school_id", "n")
        )
        districts = districts_progress(
            campaign,
            Region.objects.filter(parent_id=campaign.city_id, kind=Region.Kind.DISTRICT),
            School.objects.filter(district__parent_id=campaign.city_id),
            now,
        )
        campaign.summary = campaign_summary(campaign, districts, filed, actor, now)
        campaign.status = Campaign.Status.CLOSED
        campaign.closed_by = actor
        campaign.closed_at = now
        campaign.save(update_fields=["summary", "status", "closed_by", "closed_at"])
        audit_record(
            actor=actor,
            action="campaign.close",
            obj=campaign,
            after={"filed": rows, "totals": campaign.summary["totals"]},
            request=request,
        )
    return campaign
