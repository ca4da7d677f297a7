"""The open campaign on every home page in scope, with the account's own deadline and to-do; read receipts."""

from __future__ import annotations

from django.urls import reverse

from tests.campaigns.helpers import days_from_today, open_campaign, with_attachment
from tests.conftest import World
from tests.students.helpers import checked_in_students
from xueji.audit.models import AuditEvent
from xueji.campaigns.closing import campaign_close
from xueji.campaigns.models import CampaignRead


def test_registrar_sees_notice_attachment_next_deadline_and_what_is_left(world: World) -> None:
    campaign = open_campaign(world, **days_from_today(3, 10, 15, 18, 20))
    with_attachment(campaign)
    checked_in_students(world, 2)  # two 未提交 students of 2026级 at school A
    page = world.client_for(world.registrar_a).get(reverse("home")).content.decode()
    assert "2026年度新生学籍备案" in page
    assert "请按时完成2026级新生学籍备案" in page
    assert "数据采集要求.pdf" in page
    assert "学校完成提交" in page and "还剩 3 天" in page
    assert '未提交的学籍</a>：<strong class="error">2</strong>' in page
    # The 签字名册, 上报盘 and 录取名册页 are still owed to the district (no 改名 at school A).
    assert '未交区县的材料</a>：<strong class="error">3</strong>' in page
    assert "通知未读" in page


def test_leader_sees_the_waiting_reviews_of_the_grade(world: World) -> None:
    open_campaign(world, **days_from_today(3, 10, 15, 18, 20))
    page = world.client_for(world.leader_a).get(reverse("home")).content.decode()
    assert '待审核</a>：<strong class="error">1</strong>' in page  # student_a


def test_overdue_deadline_is_shown_as_days_late(world: World) -> None:
    open_campaign(world, **days_from_today(-2, 10, 15, 18, 20))
    page = world.client_for(world.registrar_b).get(reverse("home")).content.decode()
    assert "逾期 2 天" in page


def test_another_city_and_a_closed_campaign_are_not_on_the_home_page(world: World) -> None:
    campaign = open_campaign(world, **days_from_today(3, 10, 15, 18, 20))
    assert "2026年度新生学籍备案" not in world.client_for(world.other_city_admin).get(reverse("home")).content.decode()
    campaign_close(actor=world.city_admin, campaign_id=campaign.pk)
    assert "2026年度新生学籍备案" not in world.client_for(world.registrar_a).get(reverse("home")).content.decode()


def test_marking_read_once_is_recorded_once_and_the_city_sees_who_read(world: World) -> None:
    campaign = open_campaign(world, **days_from_today(3, 10, 15, 18, 20))
    client = world.client_for(world.registrar_a)
    url = reverse("campaigns:read", args=[campaign.pk])
    assert client.post(url, {"next": "home"})["Location"] == reverse("home")
    client.post(url)
    assert CampaignRead.objects.filter(campaign=campaign, user=world.registrar_a).count() == 1
    assert AuditEvent.objects.filter(action="campaign.read").count() == 1
    assert "通知未读" not in client.get(reverse("home")).content.decode()

    page = world.client_for(world.city_admin).get(reverse("campaigns:reads", args=[campaign.pk])).content.decode()
    assert "已读 1 / 共 6 个账号" in page  # registrar_a, leader_a, registrar_b, registrar_c, two reviewers
    school_a = page.split("东城区 · 东城职业教育中心")[1].split("</tr>")[0]
    assert "1 / 2" in school_a
    assert "registrar_a" in school_a and "已读" in school_a
    assert "leader_a" in school_a and "未读" in school_a


def test_a_district_follows_only_its_own_schools_reading(world: World) -> None:
    campaign = open_campaign(world, **days_from_today(3, 10, 15, 18, 20))
    page = world.client_for(world.reviewer_b).get(reverse("campaigns:reads", args=[campaign.pk])).content.decode()
    assert "朝阳汽车职高" in page
    assert "东城职业教育中心" not in page
