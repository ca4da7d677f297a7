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


def home_cards(user: User) -> list[Card]:
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
