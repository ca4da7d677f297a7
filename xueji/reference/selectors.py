from __future__ import annotations

from django.db.models import QuerySet

from xueji.reference.models import AreaCode, CodeItem


def current_area(code: str) -> AreaCode | None:
    """The division a code names today, or in its last period if it has been abolished."""
    return AreaCode.objects.filter(code=code).order_by("-valid_from").first()


def districts_of(city_code: str) -> QuerySet[AreaCode]:
    """County-level divisions in use whose code falls under a city (or a municipality like 北京市)."""
    prefix = city_code[:2] if city_code.endswith("0000") else city_code[:4]
    return AreaCode.objects.filter(
        code__startswith=prefix, level=AreaCode.Level.COUNTY, in_use=True, valid_until__isnull=True
    ).order_by("code")


def code_items(table: str) -> QuerySet[CodeItem]:
    return CodeItem.objects.filter(table=table)
