"""A campaign for the world's city (北京市, 2026级), opened through the service as the city would."""

from __future__ import annotations

import datetime

from tests.conftest import World
from xueji.campaigns.files import attachments_dir
from xueji.campaigns.models import Campaign, CampaignAttachment
from xueji.campaigns.services import CampaignInput, campaign_open

DEADLINES = {
    "school_submit_by": datetime.date(2026, 11, 10),
    "school_materials_by": datetime.date(2026, 11, 15),
    "district_review_by": datetime.date(2026, 11, 20),
    "district_filing_from": datetime.date(2026, 11, 23),
    "district_filing_until": datetime.date(2026, 11, 25),
}


def campaign_input(**changes: object) -> CampaignInput:
    values: dict[str, object] = {
        "title": "2026年度新生学籍备案",
        "intake_year": 2026,
        "notice": "各区县教委、各中等职业学校：\n请按时完成2026级新生学籍备案。",
        "contacts": [{"name": "张老师", "phone": "010-66001234", "note": "数据采集"}],
        **DEADLINES,
    }
    values.update(changes)
    return CampaignInput(**values)  # type: ignore[arg-type]


def days_from_today(*offsets: int) -> dict[str, datetime.date]:
    """The five deadlines as today (in Asia/Shanghai) plus ``offsets`` days, for pages that count from today."""
    from django.utils import timezone

    today = timezone.localdate()
    return {name: today + datetime.timedelta(days=n) for name, n in zip(DEADLINES, offsets, strict=True)}


def open_campaign(world: World, **changes: object) -> Campaign:
    return campaign_open(actor=world.city_admin, data=campaign_input(**changes))


def with_attachment(campaign: Campaign) -> CampaignAttachment:
    (attachments_dir() / "world-notice.pdf").write_bytes(b"%PDF-1.4 world notice")
    return CampaignAttachment.objects.create(
        campaign=campaign,
        original_name="数据采集要求.pdf",
        stored_name="world-notice.pdf",
        content_type="application/pdf",
        size=21,
        sha256="0" * 64,
    )


def shanghai(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime.datetime:
    from zoneinfo import ZoneInfo

    return datetime.datetime(year, month, day, hour, minute, second, tzinfo=ZoneInfo("Asia/Shanghai"))
