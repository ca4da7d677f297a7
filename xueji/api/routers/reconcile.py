"""录取名册 (the city loads the exam authority's roster) and 名册核对 (the reconciliation of each user's scope), through
the same services and selectors as the web pages."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.http import HttpRequest
from ninja import File, Form, Query, Router, Status, UploadedFile
from pydantic import Field

from xueji.api.auth import ALL_ROLES, api_user
from xueji.api.errors import ApiError
from xueji.api.pagination import slice_page
from xueji.api.routers.orgs import PageQuery, school_in_scope
from xueji.api.schemas import ERRORS, MAX_ID, FindingOut, ReconcileOut, RosterLoadOut, shown_id
from xueji.orgs.models import Role, User
from xueji.orgs.selectors import schools_visible_to
from xueji.reconcile import services
from xueji.reconcile.matching import Category, Finding, counts
from xueji.reconcile.models import RosterLoad
from xueji.reconcile.rosterfile import RosterFileError
from xueji.reconcile.selectors import city_of, findings_for
from xueji.records.workbook import WorkbookError, save_upload

router = Router()
CATEGORIES = "^(|" + "|".join(c.value for c in Category) + ")$"
ROSTER_ERRORS_SHOWN = 200


class ReconcileQuery(PageQuery):
    year: int | None = Field(None, ge=1900, le=2999, description="年级（招生年份）；默认为最近一次导入的名册")
    school: int | None = Field(None, ge=1, le=MAX_ID, description="学校 id（区县、市级用户按学校过滤）")
    category: str = Field("", pattern=CATEGORIES, description="只列出此类别")


def load_out(load: RosterLoad) -> RosterLoadOut:
    return RosterLoadOut(
        id=load.pk,
        intake_year=load.intake_year,
        file_name=load.file_name,
        row_count=load.row_count,
        is_current=load.is_current,
        loaded_at=load.loaded_at,
    )


def finding_out(user: User, f: Finding) -> FindingOut:
    person, row = f.registered, f.roster
    return FindingOut(
        category=f.category.value,
        label=f.label,
        likely_typo=f.likely_typo,
        resolved_by_former_name=f.resolved_by_former_name,
        school_code=person.school_code if person else None,
        name=person.name if person else None,
        id_number=shown_id(user, person.id_number if person else (row.id_number if row else "")),
        candidate_no=(person.candidate_no if person else "") or (row.candidate_no if row else ""),
        exam_ticket_no=(person.exam_ticket_no if person else "") or (row.exam_ticket_no if row else ""),
        admission_id=person.admission_id if person else None,
        student_id=person.student_id if person else None,
        checked_in=bool(person and person.checked_in),
        roster_name=row.name if row else None,
        roster_school_code=row.school_code if row else None,
        roster_major=row.major if row else None,
        roster_method=row.method if row else None,
    )


@router.post("/roster", response={201: RosterLoadOut, **ERRORS}, summary="导入录取名册（市级）")
def roster_upload(
    request: HttpRequest,
    file: File[UploadedFile],
    intake_year: int = Form(..., ge=1900, le=2999, description="年级（招生年份），如2026"),
) -> Status[RosterLoadOut]:
    """文件成为本市该年级的当前录取名册，全部导入或全不导入：
    任何一行有误则整份文件不导入（422，errors 列出每行的问题）。"""
    user = api_user(request, Role.CITY_ADMIN)
    city = city_of(user)
    name = file.name or "录取名册"
    with tempfile.TemporaryDirectory() as folder:
        try:
            path = save_upload(file, Path(folder) / "roster")  # type: ignore[arg-type]
            assert city is not None  # a city administrator is bound to a city
            load = services.roster_load(
                city=city, actor=user, path=path, file_name=name, intake_year=intake_year, request=request
            )
        except WorkbookError as error:
            raise ApiError(422, f"无法导入“{name}”：{error.message}") from error
        except RosterFileError as error:
            errors: list[dict[str, object]] = [
                {"field": "file", "label": "录取名册", "value": name, "message": message}
                for message in error.messages[:ROSTER_ERRORS_SHOWN]
            ]
            raise ApiError(
                422, f"“{name}”未导入，请改正后重新上传（共 {len(error.messages)} 处问题）", errors
            ) from error
    return Status(201, load_out(load))


@router.get("/reconciliation", response={200: ReconcileOut, **ERRORS}, summary="录取名册核对结果")
def reconciliation(request: HttpRequest, query: Query[ReconcileQuery]) -> ReconcileOut:
    """该年级全部统一招生的招生信息与本市当前录取名册逐一核对，只列出与用户管理范围内学校有关的结果。"""
    user = api_user(request, *ALL_ROLES)
    school_id = school_in_scope(user, query.school)
    load, findings = findings_for(user, query.year)
    if school_id is not None:
        codes = set(schools_visible_to(user).filter(pk=school_id).values_list("code", flat=True))
        findings = [f for f in findings if f.school_codes() & codes]
    totals = {category.value: count for category, count in counts(findings).items()}
    if query.category:
        findings = [f for f in findings if f.category == query.category]
    page, next_cursor = slice_page(findings, cursor=query.cursor, limit=query.limit)
    return ReconcileOut(
        load=load_out(load) if load else None,
        counts=totals,
        items=[finding_out(user, f) for f in page],
        next_cursor=next_cursor,
    )
