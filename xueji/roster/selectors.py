"""Queries the 上报盘 screens share, scope applied."""

from __future__ import annotations

from django.db.models import QuerySet

from xueji.orgs.models import Role, User
from xueji.roster.models import FilingPackage


def packages_visible_to(user: User) -> QuerySet[FilingPackage]:
    """The packages uploaded to the user's city: only its administrator receives them."""
    if user.role != Role.CITY_ADMIN or user.region_id is None:
        return FilingPackage.objects.none()
    return FilingPackage.objects.filter(city_id=user.region_id)
