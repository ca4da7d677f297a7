from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from xueji.campaigns.overview import open_overviews
from xueji.orgs.models import User

register = template.Library()


@register.inclusion_tag("campaigns/home_panel.html", takes_context=True)
def campaign_panels(context: dict[str, Any], user: User) -> dict[str, Any]:
    """The open campaigns of the user's city on the home page, each with the user's own deadline and to-do."""
    return {
        "overviews": open_overviews(user, timezone.now()),
        "csrf_token": context.get("csrf_token"),
    }


@register.simple_tag
def timing(stage: Any, now: Any) -> str:
    """还剩 3 天 / 逾期 2 天 / 按时完成 for a stage, as of ``now``."""
    return str(stage.timing_text(now))
