"""The Chinese UI shell: menus per role, home page counts, plain pages for unbuilt parts, error pages."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import World


def _menu(world: World, persona: str) -> str:
    page = world.client_for(getattr(world, persona)).get(reverse("home")).content.decode()
    return page.split('<nav class="sidebar"', 1)[1].split("</nav>", 1)[0]


@pytest.mark.parametrize(
    ("persona", "shown", "hidden"),
    [
        (
            "registrar_a",
            ["基础信息", "招生信息管理", "新生报到", "学籍管理", "档案管理", "统计查询", "专业与方向"],
            ["学籍审核", "区县管理", "账号管理"],
        ),
        ("leader_a", ["学籍审核", "学籍管理", "专业与方向"], ["新生报到", "账号管理", "区县管理"]),
        ("reviewer_a", ["学校管理", "学籍审核", "账号管理", "招生信息管理"], ["新生报到", "区县管理", "专业与方向"]),
        ("city_admin", ["区县管理", "学校管理", "学籍审核", "账号管理"], ["新生报到", "专业与方向"]),
    ],
)
def test_menu_shows_only_what_the_role_uses(world: World, persona: str, shown: list[str], hidden: list[str]) -> None:
    menu = _menu(world, persona)
    for label in shown:
        assert label in menu, label
    for label in hidden:
        assert label not in menu, label


def test_registrar_home_counts_what_needs_doing(world: World) -> None:
    world.term_a.is_current = False
    world.term_a.save()
    response = world.client_for(world.registrar_a).get(reverse("home"))
    cards = {card.label: card for card in response.context["cards"]}
    assert cards["开设专业"].count == 1
    assert cards["专业方向"].count == 1
    assert cards["班级"].count == 1
    assert cards["当前学期未设置"].attention
    assert "东城职业教育中心" in response.content.decode()


def test_home_shows_the_registry_work_waiting_for_each_role(world: World) -> None:
    from xueji.students.models import State, Student

    def cards(persona: str) -> dict[str, object]:
        response = world.client_for(getattr(world, persona)).get(reverse("home"))
        return {c.label: c for c in response.context["cards"]}

    registrar = cards("registrar_a")
    assert registrar["待报到新生"].count == 1 and registrar["待报到新生"].attention  # type: ignore[attr-defined]
    assert registrar["未提交的学籍"].count == 0  # type: ignore[attr-defined]
    assert cards("leader_a")["待审核"].count == 1  # type: ignore[attr-defined]
    assert cards("reviewer_a")["待审核"].count == 0  # type: ignore[attr-defined]
    Student.objects.filter(pk=world.student_a.pk).update(state=State.UNSUBMITTED, return_reason="照片不清晰")
    assert cards("registrar_a")["被退回的学籍"].count == 1  # type: ignore[attr-defined]
    assert cards("leader_a")["待审核"].count == 0  # type: ignore[attr-defined]


def test_district_home_counts_schools_without_accounts(world: World) -> None:
    cards = {c.label: c for c in world.client_for(world.reviewer_a).get(reverse("home")).context["cards"]}
    # School A has two accounts, school B one (registrar_b): none lacks accounts in 东城.
    assert cards["本区县学校"].count == 2
    assert cards["尚未开通账号的学校"].count == 0
    cards = {c.label: c for c in world.client_for(world.city_admin).get(reverse("home")).context["cards"]}
    assert cards["区县"].count == 2 and cards["学校"].count == 3


def test_login_page_is_chinese_and_home_needs_login() -> None:
    client = Client()
    assert client.get(reverse("home"))["Location"].startswith(reverse("login"))
    page = client.get(reverse("login")).content.decode()
    assert "用户登录" in page and "用户名" in page and 'lang="zh-Hans"' in page


def test_wrong_password_message_is_clear(world: World) -> None:
    page = Client().post(reverse("login"), {"username": "registrar_a", "password": "nope"}).content.decode()
    assert "用户名或密码不正确" in page


def test_not_found_is_a_chinese_page_without_details(world: World) -> None:
    response = world.client_for(world.registrar_a).get("/no/such/page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "页面不存在" in body and "Traceback" not in body and "urlpatterns" not in body


def test_server_error_shows_no_stack_trace(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    from unittest import mock

    settings.DEBUG = False
    client = world.client_for(world.registrar_a)
    client.raise_request_exception = False
    with mock.patch("xueji.web.views.home_cards", side_effect=RuntimeError("secret internals")):
        response = client.get(reverse("home"))
    assert response.status_code == 500
    body = response.content.decode()
    assert "系统出错" in body and "secret internals" not in body and "Traceback" not in body


def test_healthz_answers_ok(db) -> None:  # type: ignore[no-untyped-def]
    assert Client().get(reverse("healthz")).content == b"ok"


def test_only_the_current_menu_item_is_highlighted(world: World) -> None:
    page = world.client_for(world.registrar_a).get(reverse("orgs:class_list")).content.decode()
    assert page.count('class="active"') == 1
    assert f'<a href="{reverse("orgs:class_list")}" class="active">班级</a>' in page
