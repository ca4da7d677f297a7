"""Which campaigns, attachments, receipts and read receipts a user may see: a campaign is its city's, seen by
every account of the city, its districts and their schools (several cities share one install)."""

from __future__ import annotations

from django.db.models import QuerySet

from xueji.campaigns.models import Campaign, CampaignRead
from xueji.orgs.models import Region, Role, School, User
from xueji.orgs.selectors import accounts_visible_to, districts_visible_to, schools_visible_to

CAMPAIGN_ROLES = (Role.CITY_ADMIN, Role.DISTRICT_REVIEWER, Role.SCHOOL_LEADER, Role.REGISTRAR)


def city_id_of(user: User) -> int | None:
    if not user.is_authenticated or not user.is_active or user.role not in CAMPAIGN_ROLES:
        return None
    if user.role == Role.CITY_ADMIN:
        return user.region_id
    if user.role == Role.DISTRICT_REVIEWER and user.region_id is not None:
        return Region.objects.filter(pk=user.region_id).values_list("parent_id", flat=True).first()
    if user.school_id is None:
        return None
    return School.objects.filter(pk=user.school_id).values_list("district__parent_id", flat=True).first()


def campaigns_visible_to(user: User) -> QuerySet[Campaign]:
    city_id = city_id_of(user)
    if city_id is None:
        return Campaign.objects.none()
    return Campaign.objects.filter(city_id=city_id)


def campaigns_managed_by(user: User) -> QuerySet[Campaign]:
    """Only the city opens, edits and closes its campaigns."""
    if user.role != Role.CITY_ADMIN:
        return Campaign.objects.none()
    return campaigns_visible_to(user)


def open_campaigns_for(user: User) -> QuerySet[Campaign]:
    return campaigns_visible_to(user).filter(status=Campaign.Status.OPEN).order_by("-intake_year")


def has_read(user: User, campaign: Campaign) -> bool:
    return CampaignRead.objects.filter(campaign=campaign, user=user).exists()


def receivable_schools(user: User) -> QuerySet[School]:
    """The schools whose materials the user ticks: a district's own schools, nobody else's."""
    if user.role != Role.DISTRICT_REVIEWER:
        return School.objects.none()
    return schools_visible_to(user)


def receivable_districts(user: User) -> QuerySet[Region]:
    """The districts whose materials the user ticks: the city's own districts."""
    if user.role != Role.CITY_ADMIN:
        return Region.objects.none()
    return districts_visible_to(user)


def read_audience(user: User) -> QuerySet[User]:
    """The accounts whose reading the user follows: the city its districts' and schools', a district its
    schools' (the same accounts it manages)."""
    if user.role not in (Role.CITY_ADMIN, Role.DISTRICT_REVIEWER):
        return User.objects.none()
    return accounts_visible_to(user).filter(is_active=True)
