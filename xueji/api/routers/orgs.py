"""Schools, their majors (offerings with directions) and classes, within the token user's scope."""

from __future__ import annotations

from django.http import Http404, HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from xueji.api.auth import ALL_ROLES, api_user
from xueji.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, keyset
from xueji.api.schemas import (
    ERRORS,
    MAX_ID,
    ClassOut,
    ClassPage,
    DirectionOut,
    MajorOut,
    MajorPage,
    ObjectId,
    SchoolOut,
    SchoolPage,
)
from xueji.orgs.models import MajorOffering, School, SchoolClass, User
from xueji.orgs.selectors import classes_visible_to, offerings_visible_to, schools_visible_to

router = Router()


class PageQuery(Schema):
    cursor: str | None = Field(None, description="上一页返回的 next_cursor")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class SchoolQuery(PageQuery):
    school: int | None = Field(None, ge=1, le=MAX_ID, description="学校 id（区县、市级用户按学校过滤）")


class ClassQuery(SchoolQuery):
    grade: int | None = Field(None, ge=1900, le=2999, description="年级（入学年份）")


def school_in_scope(user: User, school_id: int | None) -> int | None:
    """A school filter must name a school of the user's scope: otherwise 404, as for any object outside it."""
    if school_id is not None and not schools_visible_to(user).filter(pk=school_id).exists():
        raise Http404
    return school_id


def school_out(school: School) -> SchoolOut:
    return SchoolOut(
        id=school.pk,
        code=school.code,
        name=school.name,
        district_code=school.district.code,
        district_name=school.district.name,
        ownership=school.ownership,
        is_active=school.is_active,
    )


def major_out(offering: MajorOffering) -> MajorOut:
    return MajorOut(
        id=offering.pk,
        school_id=offering.school_id,
        code=offering.major.code,
        name=offering.major.name,
        directions=[DirectionOut(id=d.pk, name=d.name) for d in offering.directions.all()],
    )


def class_out(school_class: SchoolClass) -> ClassOut:
    return ClassOut(
        id=school_class.pk,
        school_id=school_class.school_id,
        grade=school_class.grade.year,
        major_id=school_class.offering_id,
        major_code=school_class.offering.major.code,
        name=school_class.name,
        head_teacher=school_class.head_teacher,
    )


@router.get("/schools", response={200: SchoolPage, **ERRORS}, summary="学校列表")
def schools_list(request: HttpRequest, query: Query[PageQuery]) -> SchoolPage:
    user = api_user(request, *ALL_ROLES)
    rows, next_cursor = keyset(
        schools_visible_to(user).select_related("district"), cursor=query.cursor, limit=query.limit
    )
    return SchoolPage(items=[school_out(s) for s in rows], next_cursor=next_cursor)


@router.get("/schools/{school_id}", response={200: SchoolOut, **ERRORS}, summary="学校")
def school_detail(request: HttpRequest, school_id: ObjectId) -> SchoolOut:
    user = api_user(request, *ALL_ROLES)
    school = schools_visible_to(user).select_related("district").filter(pk=school_id).first()
    if school is None:
        raise Http404
    return school_out(school)


@router.get("/majors", response={200: MajorPage, **ERRORS}, summary="开设专业及专业方向")
def majors_list(request: HttpRequest, query: Query[SchoolQuery]) -> MajorPage:
    user = api_user(request, *ALL_ROLES)
    offerings = offerings_visible_to(user).prefetch_related("directions")
    if (school_id := school_in_scope(user, query.school)) is not None:
        offerings = offerings.filter(school_id=school_id)
    rows, next_cursor = keyset(offerings, cursor=query.cursor, limit=query.limit)
    return MajorPage(items=[major_out(o) for o in rows], next_cursor=next_cursor)


@router.get("/classes", response={200: ClassPage, **ERRORS}, summary="班级")
def classes_list(request: HttpRequest, query: Query[ClassQuery]) -> ClassPage:
    user = api_user(request, *ALL_ROLES)
    classes = classes_visible_to(user)
    if (school_id := school_in_scope(user, query.school)) is not None:
        classes = classes.filter(school_id=school_id)
    if query.grade:
        classes = classes.filter(grade__year=query.grade)
    rows, next_cursor = keyset(classes, cursor=query.cursor, limit=query.limit)
    return ClassPage(items=[class_out(c) for c in rows], next_cursor=next_cursor)
