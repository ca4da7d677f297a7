"""Scope: the one place that decides which organisations and accounts a user may see.

Every view, export, API endpoint and task asks these functions for its queryset, so a record outside a
user's scope is simply not found (404), whatever URL or filter is tried.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from xueji.orgs.models import (
    Direction,
    Grade,
    MajorOffering,
    Region,
    Role,
    School,
    SchoolClass,
    Term,
    User,
)
from xueji.records.context import ClassChoice, MajorChoice, SchoolCatalog


def regions_visible_to(user: User) -> QuerySet[Region]:
    if not user.is_authenticated or not user.is_active:
        return Region.objects.none()
    region_id = user.region_id
    if user.role == Role.CITY_ADMIN and region_id is not None:
        return Region.objects.filter(Q(pk=region_id) | Q(parent_id=region_id))
    if user.role == Role.DISTRICT_REVIEWER and region_id is not None:
        return Region.objects.filter(pk=region_id)
    if user.role in (Role.SCHOOL_LEADER, Role.REGISTRAR) and user.school_id:
        return Region.objects.filter(schools__pk=user.school_id)
    return Region.objects.none()


def districts_visible_to(user: User) -> QuerySet[Region]:
    return regions_visible_to(user).filter(kind=Region.Kind.DISTRICT)


def schools_visible_to(user: User) -> QuerySet[School]:
    if not user.is_authenticated or not user.is_active:
        return School.objects.none()
    if user.role == Role.CITY_ADMIN:
        return School.objects.filter(district__parent_id=user.region_id)
    if user.role == Role.DISTRICT_REVIEWER:
        return School.objects.filter(district_id=user.region_id)
    if user.role in (Role.SCHOOL_LEADER, Role.REGISTRAR) and user.school_id is not None:
        return School.objects.filter(pk=user.school_id)
    return School.objects.none()


def offerings_visible_to(user: User) -> QuerySet[MajorOffering]:
    return MajorOffering.objects.filter(school__in=schools_visible_to(user)).select_related("major", "school")


def directions_visible_to(user: User) -> QuerySet[Direction]:
    return Direction.objects.filter(offering__school__in=schools_visible_to(user))


def grades_visible_to(user: User) -> QuerySet[Grade]:
    return Grade.objects.filter(school__in=schools_visible_to(user))


def classes_visible_to(user: User) -> QuerySet[SchoolClass]:
    return SchoolClass.objects.filter(school__in=schools_visible_to(user)).select_related("grade", "offering__major")


def terms_visible_to(user: User) -> QuerySet[Term]:
    return Term.objects.filter(school__in=schools_visible_to(user))


def accounts_visible_to(user: User) -> QuerySet[User]:
    """Accounts a user manages: the city its districts' and schools' accounts, a district its schools'.

    School users manage no accounts. Nobody sees accounts of their own level's peers elsewhere.
    """
    if not user.is_authenticated or not user.is_active:
        return User.objects.none()
    if user.role == Role.CITY_ADMIN:
        return User.objects.filter(
            Q(region__parent_id=user.region_id) | Q(school__district__parent_id=user.region_id)
        ).select_related("region", "school")
    if user.role == Role.DISTRICT_REVIEWER:
        return User.objects.filter(school__district_id=user.region_id).select_related("school")
    return User.objects.none()


def school_catalog(school: School) -> SchoolCatalog:
    """The school's majors, directions, grades and classes as the plain data the validator and template use."""
    offerings = MajorOffering.objects.filter(school=school).select_related("major").prefetch_related("directions")
    return SchoolCatalog.build(
        code=school.code,
        name=school.name,
        majors=[MajorChoice(o.major.code, o.major.name, tuple(d.name for d in o.directions.all())) for o in offerings],
        grades=Grade.objects.filter(school=school).values_list("year", flat=True),
        classes=[
            ClassChoice(c.name, c.grade.year, c.offering.major.code)
            for c in SchoolClass.objects.filter(school=school).select_related("grade", "offering__major")
        ],
    )
