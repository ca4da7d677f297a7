"""What is waiting for each user, as counts with links, for the home page."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count
from django.urls import reverse

from xueji.orgs.models import Role, User
from xueji.orgs.selectors import (
    accounts_visible_to,
    classes_visible_to,
    districts_visible_to,
    grades_visible_to,
    offerings_visible_to,
    schools_visible_to,
    terms_visible_to,
)


@dataclass(frozen=True)
class Card:
    label: str
    count: int | None
    url: str
    hint: str = ""
    attention: bool = False


def work_cards(user: User) -> list[Card]:
    """The registry work waiting for this user: admitted students to check in, students to submit or fix,
    the 待审核 of a reviewer."""
    from xueji.admissions.models import AdmissionRecord
    from xueji.admissions.selectors import admissions_visible_to
    from xueji.students.models import State
    from xueji.students.selectors import review_queue, students_visible_to

    if user.role == Role.REGISTRAR:
        pending = admissions_visible_to(user).filter(state=AdmissionRecord.State.PENDING).count()
        unsubmitted = students_visible_to(user).filter(state=State.UNSUBMITTED)
        returned = unsubmitted.exclude(return_reason="").count()
        return [
            Card("待报到新生", pending, reverse("students:checkin"), "报到注册后进入学籍管理", attention=pending > 0),
            Card(
                "未提交的学籍",
                unsubmitted.count(),
                reverse("students:list") + "?state=unsubmitted",
                "检查后按条件提交",
                attention=unsubmitted.exists(),
            ),
            Card(
                "被退回的学籍",
                returned,
                reverse("students:list") + "?state=unsubmitted",
                "按退回原因修改后重新提交",
                attention=returned > 0,
            ),
        ]
    waiting = review_queue(user).count()
    return [Card("待审核", waiting, reverse("students:review"), "学籍审核", attention=waiting > 0)]


def home_cards(user: User) -> list[Card]:
    return work_cards(user) + campaign_cards(user) + _setup_cards(user)


def _setup_cards(user: User) -> list[Card]:
    if user.role == Role.CITY_ADMIN:
        districts = districts_visible_to(user).annotate(accounts=Count("users"))
        without = districts.filter(accounts=0).count()
        return [
            Card("区县", districts.count(), reverse("orgs:district_list")),
            Card("学校", schools_visible_to(user).count(), reverse("orgs:school_list")),
            Card(
                "尚未开通账号的区县",
                without,
                reverse("orgs:account_issue"),
                "为区县开通审核人账号",
                attention=without > 0,
            ),
            Card(
                "已停用账号",
                accounts_visible_to(user).filter(is_active=False).count(),
                reverse("orgs:account_list") + "?active=0",
            ),
        ]
    if user.role == Role.DISTRICT_REVIEWER:
        schools = schools_visible_to(user).annotate(accounts=Count("users"))
        without = schools.filter(accounts=0).count()
        return [
            Card("本区县学校", schools.count(), reverse("orgs:school_list")),
            Card(
                "尚未开通账号的学校",
                without,
                reverse("orgs:account_issue"),
                "为学校开通学籍管理员和校领导账号",
                attention=without > 0,
            ),
            Card("学校账号", accounts_visible_to(user).count(), reverse("orgs:account_list")),
        ]
    if user.role in (Role.REGISTRAR, Role.SCHOOL_LEADER):
        offerings = offerings_visible_to(user)
        no_class = offerings.annotate(n=Count("classes")).filter(n=0).count()
        has_current_term = terms_visible_to(user).filter(is_current=True).exists()
        cards = [
            Card("开设专业", offerings.count(), reverse("orgs:offering_list")),
            Card("专业方向", offerings.aggregate(n=Count("directions"))["n"], reverse("orgs:offering_list")),
            Card("尚无班级的专业", no_class, reverse("orgs:class_list"), "为这些专业建立班级", attention=no_class > 0),
            Card("年级", grades_visible_to(user).count(), reverse("orgs:grade_list")),
            Card("班级", classes_visible_to(user).count(), reverse("orgs:class_list")),
        ]
        if not has_current_term:
            cards.append(Card("当前学期未设置", None, reverse("orgs:term_list"), "请设置当前学年学期", attention=True))
        return cards
    return []


def campaign_cards(user: User) -> list[Card]:
    """The open 年度学籍备案 campaigns of the user's city: the user's own next deadline (the notice, the
    attachments and the to-do are in the panel under the cards)."""
    from django.utils import timezone

    from xueji.campaigns.overview import open_overviews

    cards = []
    for overview in open_overviews(user, timezone.now()):
        campaign = overview.campaign
        stage = overview.next_stage
        hint = "本单位各阶段已完成"
        if stage:
            hint = f"{stage.label} {stage.deadline.month}月{stage.deadline.day}日（{overview.next_timing}）"
        cards.append(
            Card(
                campaign.title,
                sum(t.count for t in overview.todo),
                reverse("campaigns:detail", kwargs={"pk": campaign.pk}),
                hint + ("" if overview.read else " · 通知未读"),
                attention=overview.attention,
            )
        )
    return cards
