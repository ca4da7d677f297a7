"""材料清单: a district ticks its own schools' materials, the city its districts'; nobody else's."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from tests.campaigns.helpers import days_from_today, open_campaign
from tests.conftest import World
from xueji.audit.models import AuditEvent
from xueji.campaigns.closing import campaign_close
from xueji.campaigns.models import MaterialReceipt
from xueji.campaigns.progress import schools_progress
from xueji.campaigns.services import material_receive
from xueji.orgs.models import School
from xueji.reconcile.models import NameChange

YESTERDAY = timezone.localdate() - datetime.timedelta(days=1)


def _tick(client, campaign_pk: int, school_pk: int, **data: str):  # type: ignore[no-untyped-def]
    url = reverse("campaigns:school_receive", args=[campaign_pk, school_pk])
    return client.post(url, {"kind": "printed_roster", "received_on": YESTERDAY.isoformat(), **data})


def test_district_ticks_its_school_with_date_and_note(world: World) -> None:
    campaign = open_campaign(world)
    client = world.client_for(world.reviewer_a)
    response = _tick(client, campaign.pk, world.school_a.pk, note="三份，已盖章")
    assert response.status_code == 302
    receipt = MaterialReceipt.objects.get()
    assert (receipt.school, receipt.kind, receipt.received_on, receipt.note) == (
        world.school_a,
        "printed_roster",
        YESTERDAY,
        "三份，已盖章",
    )
    assert AuditEvent.objects.filter(action="campaign.material_receive").count() == 1
    page = client.get(reverse("campaigns:checklist", args=[campaign.pk])).content.decode()
    assert f"✓ {YESTERDAY.isoformat()}" in page and "三份，已盖章" in page


def test_a_district_cannot_tick_another_districts_school(world: World) -> None:
    campaign = open_campaign(world)
    assert _tick(world.client_for(world.reviewer_a), campaign.pk, world.school_c.pk).status_code == 404
    assert _tick(world.client_for(world.reviewer_b), campaign.pk, world.school_a.pk).status_code == 404
    assert _tick(world.client_for(world.city_admin), campaign.pk, world.school_a.pk).status_code == 403
    assert not MaterialReceipt.objects.exists()
    # The service refuses it too, whichever caller forgets the scope.
    with pytest.raises(PermissionDenied):
        material_receive(
            actor=world.reviewer_b,
            campaign=campaign,
            kind="package",
            received_on=datetime.date(2026, 11, 1),
            school=world.school_a,
        )


def test_a_date_in_the_future_is_refused_and_a_late_one_is_marked(world: World) -> None:
    campaign = open_campaign(world, **days_from_today(-10, -5, 15, 18, 20))
    client = world.client_for(world.reviewer_a)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = _tick(client, campaign.pk, world.school_a.pk, received_on=tomorrow.isoformat())
    messages = [str(m) for m in response.wsgi_request._messages]  # type: ignore[attr-defined]
    assert any("不能晚于今天" in m for m in messages)
    assert not MaterialReceipt.objects.exists()
    _tick(client, campaign.pk, world.school_a.pk, received_on=timezone.localdate().isoformat())
    section = client.get(reverse("campaigns:checklist", args=[campaign.pk])).content.decode()
    anchor = f'id="school-{world.school_a.pk}"'
    assert "逾期</span>" in section.split(anchor)[1].split("</section>")[0]


def test_clearing_a_tick_made_by_mistake(world: World) -> None:
    campaign = open_campaign(world)
    client = world.client_for(world.reviewer_a)
    _tick(client, campaign.pk, world.school_a.pk)
    _tick(client, campaign.pk, world.school_a.pk, action="clear")
    assert not MaterialReceipt.objects.exists()
    assert AuditEvent.objects.get(action="campaign.material_clear").before["kind"] == "printed_roster"


def test_city_ticks_a_district_and_the_district_sees_it_but_cannot_change_it(world: World) -> None:
    campaign = open_campaign(world)
    city = world.client_for(world.city_admin)
    url = reverse("campaigns:district_receive", args=[campaign.pk, world.district_a.pk])
    response = city.post(url, {"kind": "package", "received_on": YESTERDAY.isoformat(), "note": "上报盘已验"})
    assert response.status_code == 302
    assert MaterialReceipt.objects.get().district == world.district_a
    tianjin = world.client_for(world.other_city_admin)
    assert tianjin.post(url, {"kind": "package", "received_on": YESTERDAY.isoformat()}).status_code == 404
    page = world.client_for(world.reviewer_a).get(reverse("campaigns:checklist", args=[campaign.pk])).content.decode()
    own = page.split("本区县报送市级的材料")[1].split("</section>")[0]
    assert "上报盘已验" in own and "<form" not in own


def test_a_school_sees_its_own_checklist_read_only(world: World) -> None:
    campaign = open_campaign(world)
    _tick(world.client_for(world.reviewer_a), campaign.pk, world.school_a.pk)
    page = world.client_for(world.registrar_a).get(reverse("campaigns:checklist", args=[campaign.pk])).content.decode()
    main = page.split("<main>")[1].split("</main>")[0]
    assert f"✓ {YESTERDAY.isoformat()}" in main and "<form" not in main
    assert "东城商务职高" not in page


def test_name_change_evidence_is_owed_only_where_there_is_a_name_change(world: World) -> None:
    campaign = open_campaign(world)
    before = {p.code: p.required for p in schools_progress(campaign, School.objects.all(), timezone.now())}
    assert "name_change_evidence" not in before["3111010001"]
    NameChange.objects.create(student=world.student_a, old_name="李小红", new_name="李晓红", evidence_kind="police")
    after = {p.code: p.required for p in schools_progress(campaign, School.objects.all(), timezone.now())}
    assert "name_change_evidence" in after["3111010001"]
    assert "name_change_evidence" not in after["3111010002"]


def test_a_closed_campaign_takes_no_more_ticks(world: World) -> None:
    campaign = open_campaign(world)
    campaign_close(actor=world.city_admin, campaign_id=campaign.pk)
    with pytest.raises(ValidationError, match="已结束"):
        material_receive(
            actor=world.reviewer_a,
            campaign=campaign,
            kind="package",
            received_on=datetime.date(2026, 11, 1),
            school=world.school_a,
        )
