"""Opening and editing a campaign: only the city, one open campaign per intake grade, attachments by content."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from tests.campaigns.helpers import DEADLINES, campaign_input, open_campaign
from tests.conftest import World
from xueji.audit.models import AuditEvent
from xueji.campaigns.closing import campaign_close
from xueji.campaigns.files import attachments_dir
from xueji.campaigns.models import Campaign
from xueji.campaigns.services import attachments_add, campaign_edit, campaign_open


def _form(**changes: str) -> dict[str, str]:
    data = {
        "title": "2026年度新生学籍备案",
        "intake_year": "2026",
        "notice": "请各校按时完成新生学籍备案。",
        "contacts": "张老师 010-66001234 数据采集\n李老师 13800138000",
        **{k: v.isoformat() for k, v in DEADLINES.items()},
    }
    data.update(changes)
    return data


def test_city_opens_a_campaign_from_the_form_and_it_is_audited(world: World) -> None:
    client = world.client_for(world.city_admin)
    response = client.post(reverse("campaigns:create"), _form())
    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("campaigns:detail", args=[campaign.pk])
    assert campaign.city == world.city and campaign.is_open
    assert campaign.contacts == [
        {"name": "张老师", "phone": "010-66001234", "note": "数据采集"},
        {"name": "李老师", "phone": "13800138000", "note": ""},
    ]
    assert AuditEvent.objects.filter(action="campaign.open", object_id=str(campaign.pk)).exists()


def test_a_bad_contact_line_and_a_reversed_window_are_named(world: World) -> None:
    client = world.client_for(world.city_admin)
    response = client.post(
        reverse("campaigns:create"),
        _form(contacts="张老师 010-66001234\n王老师 找我", district_filing_from="2026-11-26"),
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "第2行：“找我”不是电话号码" in page
    assert "报送截止（2026-11-25）早于报送开始（2026-11-26）" in page
    assert not Campaign.objects.exists()


def test_one_open_campaign_per_intake_grade(world: World) -> None:
    first = open_campaign(world)
    with pytest.raises(ValidationError) as refused:
        open_campaign(world, title="重复的备案")
    assert "2026级已有进行中的备案工作“2026年度新生学籍备案”" in str(refused.value)
    # The database refuses it too, whatever code path tries.
    with pytest.raises(IntegrityError), transaction.atomic():
        Campaign.objects.create(city=world.city, intake_year=2026, title="x", notice="x", **DEADLINES)
    # Another grade, another city, or after the first is closed: allowed.
    open_campaign(world, intake_year=2027, title="2027年度新生学籍备案")
    campaign_open(actor=world.other_city_admin, data=campaign_input(title="天津2026"))
    campaign_close(actor=world.city_admin, campaign_id=first.pk)
    assert open_campaign(world, title="2026年度补充备案").is_open


def test_only_the_city_opens_and_a_city_sees_only_its_own(world: World) -> None:
    with pytest.raises(PermissionDenied):
        campaign_open(actor=world.reviewer_a, data=campaign_input())
    campaign = open_campaign(world)
    tianjin = world.client_for(world.other_city_admin)
    assert tianjin.get(reverse("campaigns:detail", args=[campaign.pk])).status_code == 404
    assert "2026年度新生学籍备案" not in tianjin.get(reverse("campaigns:list")).content.decode()


def test_edit_changes_the_deadlines_and_records_before_and_after(world: World) -> None:
    campaign = open_campaign(world)
    import datetime

    campaign_edit(
        actor=world.city_admin,
        campaign_id=campaign.pk,
        data=campaign_input(school_submit_by=datetime.date(2026, 11, 12)),
    )
    campaign.refresh_from_db()
    assert campaign.school_submit_by == datetime.date(2026, 11, 12)
    event = AuditEvent.objects.get(action="campaign.edit")
    assert event.before["school_submit_by"] == "2026-11-10" and event.after["school_submit_by"] == "2026-11-12"


def test_a_closed_campaign_cannot_be_edited(world: World) -> None:
    campaign = open_campaign(world)
    campaign_close(actor=world.city_admin, campaign_id=campaign.pk)
    with pytest.raises(ValidationError, match="已结束"):
        campaign_edit(actor=world.city_admin, campaign_id=campaign.pk, data=campaign_input(title="改"))
    response = world.client_for(world.city_admin).get(reverse("campaigns:edit", args=[campaign.pk]))
    assert response.status_code == 302


def test_attachments_are_checked_by_content_and_one_bad_file_adds_none(world: World) -> None:
    campaign = open_campaign(world)
    before = set(attachments_dir().iterdir())
    with pytest.raises(ValidationError, match=r"“要求\.pdf”不是可接受的附件格式"):
        attachments_add(
            actor=world.city_admin,
            campaign_id=campaign.pk,
            uploads=[(io.BytesIO(b"%PDF-1.4 ok"), "通知.pdf"), (io.BytesIO(b"MZ\x90\x00 program"), "要求.pdf")],
        )
    assert not campaign.attachments.exists()
    assert set(attachments_dir().iterdir()) == before


def test_an_xlsx_attachment_is_downloaded_by_a_school_in_the_city(world: World, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import xlsxwriter

    path = tmp_path / "采集要求.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    workbook.add_worksheet("要求").write_string(0, 0, "姓名必填")
    workbook.close()
    campaign = open_campaign(world)
    client = world.client_for(world.city_admin)
    with path.open("rb") as handle:
        client.post(reverse("campaigns:attachment_add", args=[campaign.pk]), {"files": handle})
    attachment = campaign.attachments.get()
    assert attachment.content_type.endswith("spreadsheetml.sheet") and attachment.stored_name.endswith(".xlsx")
    response = world.client_for(world.registrar_b).get(
        reverse("campaigns:attachment", args=[campaign.pk, attachment.pk])
    )
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == path.read_bytes()  # type: ignore[attr-defined]
    assert "attachment" in response["Content-Disposition"]


def test_removing_an_attachment_deletes_its_file_once_committed(
    world: World, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    campaign = open_campaign(world)
    (added,) = attachments_add(
        actor=world.city_admin, campaign_id=campaign.pk, uploads=[(io.BytesIO(b"%PDF-1.4 notice"), "通知.pdf")]
    )
    stored = attachments_dir() / added.stored_name
    assert stored.is_file()
    client = world.client_for(world.city_admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("campaigns:attachment_remove", args=[campaign.pk, added.pk]))
    assert not campaign.attachments.exists() and not stored.exists()
    actions = set(AuditEvent.objects.filter(object_id=str(campaign.pk)).values_list("action", flat=True))
    assert {"campaign.open", "campaign.attachment_add", "campaign.attachment_remove"} <= actions
