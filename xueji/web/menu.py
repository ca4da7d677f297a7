"""The menu: the users' own names for each part, shown only to the roles that use it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from xueji.orgs.models import Role

CITY, DISTRICT, LEADER, REGISTRAR = Role.CITY_ADMIN, Role.DISTRICT_REVIEWER, Role.SCHOOL_LEADER, Role.REGISTRAR


@dataclass(frozen=True)
class MenuItem:
    label: str
    url_name: str
    roles: tuple[str, ...]
    kwargs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MenuSection:
    label: str
    items: tuple[MenuItem, ...]


MENU: tuple[MenuSection, ...] = (
    MenuSection(
        "基础信息",
        (
            MenuItem("区县管理", "orgs:district_list", (CITY,)),
            MenuItem("学校管理", "orgs:school_list", (CITY, DISTRICT)),
            MenuItem("学校信息", "orgs:my_school", (LEADER, REGISTRAR)),
            MenuItem("专业与方向", "orgs:offering_list", (REGISTRAR, LEADER)),
            MenuItem("年级", "orgs:grade_list", (REGISTRAR, LEADER)),
            MenuItem("班级", "orgs:class_list", (REGISTRAR, LEADER)),
            MenuItem("学年学期", "orgs:term_list", (REGISTRAR, LEADER)),
        ),
    ),
    MenuSection(
        "招生管理",
        (
            MenuItem("招生信息管理", "admissions:index", (REGISTRAR, LEADER, DISTRICT, CITY)),
            MenuItem("录取名册", "reconcile:roster", (CITY,)),
            MenuItem("录取名册核对", "reconcile:index", (REGISTRAR, LEADER, DISTRICT, CITY)),
            MenuItem("改名", "reconcile:name_changes", (REGISTRAR, LEADER, DISTRICT)),
        ),
    ),
    MenuSection(
        "新生管理",
        (
            MenuItem("新生报到", "students:checkin", (REGISTRAR,)),
            MenuItem("学籍管理", "students:list", (REGISTRAR, LEADER, DISTRICT, CITY)),
            MenuItem("学籍审核", "students:review", (LEADER, DISTRICT, CITY)),
            MenuItem("学籍状态", "students:status", (REGISTRAR, LEADER, DISTRICT, CITY)),
            MenuItem("新生名单", "roster:print", (REGISTRAR, LEADER, DISTRICT)),
            MenuItem("上报盘", "roster:package", (REGISTRAR, LEADER, DISTRICT)),
            MenuItem("上报盘接收", "roster:inbox", (CITY,)),
        ),
    ),
    MenuSection(
        "在校生管理",
        (MenuItem("档案管理", "students:archive", (REGISTRAR, LEADER, DISTRICT, CITY)),),
    ),
    MenuSection("统计查询", (MenuItem("统计查询", "stats:index", (REGISTRAR, LEADER, DISTRICT, CITY)),)),
    MenuSection("备案工作", (MenuItem("年度学籍备案", "campaigns:list", (REGISTRAR, LEADER, DISTRICT, CITY)),)),
    MenuSection(
        "系统管理",
        (
            MenuItem("账号管理", "orgs:account_list", (CITY, DISTRICT)),
            MenuItem("修改密码", "password_change", (CITY, DISTRICT, LEADER, REGISTRAR)),
            MenuItem("API 令牌", "api:tokens", (CITY, DISTRICT, LEADER, REGISTRAR)),
        ),
    ),
)


def menu_for(role: str, current_path: str) -> list[dict[str, Any]]:
    sections: list[dict[str, Any]] = []
    for section in MENU:
        items: list[dict[str, Any]] = [
            {"label": item.label, "url": reverse(item.url_name, kwargs=item.kwargs or None)}
            for item in section.items
            if role in item.roles
        ]
        if items:
            sections.append({"label": section.label, "items": items})
    # Only the longest matching link is active: /org/school/ must not light up on /org/school/classes/.
    matches = [item for section in sections for item in section["items"] if current_path.startswith(item["url"])]
    if matches:
        max(matches, key=lambda item: len(item["url"]))["active"] = True
    return sections


def menu_context(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or getattr(user, "must_change_password", False):
        return {"menu": []}
    return {"menu": menu_for(user.role, request.path)}
