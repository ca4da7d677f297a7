"""Accounts issued downward with one-time passwords; first-login change; disabling; lockout."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from python_calamine import CalamineWorkbook

from tests.conftest import PASSWORD, World
from xueji.audit.models import AuditEvent
from xueji.orgs.models import Role, User


def _can_log_in(username: str, password: str) -> bool:
    response = Client().post(reverse("login"), {"username": username, "password": password})
    return response.status_code == 302


def _issued_passwords(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {row["username"]: row["password"] for row in response.context["issued"]}


def test_city_issues_district_accounts_with_one_time_passwords_shown_once(world: World) -> None:
    client = world.client_for(world.city_admin)
    response = client.post(reverse("orgs:account_issue"), {"districts": [world.district_a.pk, world.district_b.pk]})
    assert response.status_code == 302
    page = client.get(response["Location"])
    passwords = _issued_passwords(page)
    assert set(passwords) == {"qx110101", "qx110105"}
    assert passwords["qx110101"] in page.content.decode()
    # The new account can log in with the one-time password.
    assert _can_log_in("qx110101", passwords["qx110101"])
    account = User.objects.get(username="qx110101")
    assert account.role == Role.DISTRICT_REVIEWER and account.region == world.district_a
    assert account.must_change_password
    # Shown once: coming back to the page no longer shows any password.
    again = client.get(reverse("orgs:account_issued"), follow=True)
    assert passwords["qx110101"] not in again.content.decode()
    assert "只显示一次" in again.content.decode()


def test_account_sheet_downloads_once_as_a_workbook_with_every_password(world: World) -> None:
    client = world.client_for(world.reviewer_a)
    client.post(
        reverse("orgs:account_issue"),
        {"schools": [world.school_a.pk, world.school_b.pk], "roles": ["registrar", "school_leader"]},
    )
    passwords = _issued_passwords(client.get(reverse("orgs:account_issued")))
    assert set(passwords) == {"xj3111010001", "xl3111010001", "xj3111010002", "xl3111010002"}
    sheet = client.get(reverse("orgs:account_sheet"))
    assert sheet.status_code == 200
    rows = CalamineWorkbook.from_filelike(io.BytesIO(sheet.content)).get_sheet_by_index(0).to_python()
    assert rows[0][:4] == ["单位", "角色", "用户名", "一次性密码"]
    by_user = {row[2]: row for row in rows[1:] if row[2]}
    assert by_user["xj3111010001"][3] == passwords["xj3111010001"]
    assert by_user["xl3111010002"][1] == "校领导"
    assert client.get(reverse("orgs:account_sheet")).status_code == 302  # second download refused


def test_district_cannot_issue_accounts_for_another_districts_school(world: World) -> None:
    client = world.client_for(world.reviewer_a)
    response = client.post(reverse("orgs:account_issue"), {"schools": [world.school_c.pk], "roles": ["registrar"]})
    assert response.status_code == 200
    assert "schools" in response.context["form"].errors
    assert not User.objects.filter(school=world.school_c, role=Role.REGISTRAR).exclude(pk=world.registrar_c.pk)


def test_issuing_twice_gives_a_distinct_username(world: World) -> None:
    client = world.client_for(world.city_admin)
    client.post(reverse("orgs:account_issue"), {"districts": [world.district_a.pk]})
    client.get(reverse("orgs:account_issued"))
    client.post(reverse("orgs:account_issue"), {"districts": [world.district_a.pk]})
    assert set(_issued_passwords(client.get(reverse("orgs:account_issued")))) == {"qx110101-2"}


def test_issuing_requires_a_choice(world: World) -> None:
    response = world.client_for(world.city_admin).post(reverse("orgs:account_issue"), {})
    assert "请至少选择一个区县" in response.content.decode()


def test_first_login_must_change_password_before_anything_else(world: World) -> None:
    world.registrar_a.must_change_password = True
    world.registrar_a.save()
    client = Client()
    response = client.post(reverse("login"), {"username": "registrar_a", "password": PASSWORD})
    assert response.status_code == 302
    blocked = client.get(reverse("orgs:offering_list"))
    assert blocked.status_code == 302 and blocked["Location"] == reverse("password_change")
    same = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": PASSWORD, "new_password2": PASSWORD},
    )
    assert "新密码不能与原密码相同" in same.content.decode()
    weak = client.post(
        reverse("password_change"), {"old_password": PASSWORD, "new_password1": "12345678", "new_password2": "12345678"}
    )
    assert weak.status_code == 200 and weak.context["form"].errors
    done = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "Bright-River-71", "new_password2": "Bright-River-71"},
    )
    assert done.status_code == 302
    assert client.get(reverse("orgs:offering_list")).status_code == 200
    world.registrar_a.refresh_from_db()
    assert not world.registrar_a.must_change_password
    assert AuditEvent.objects.filter(action="account.change_password", actor=world.registrar_a).exists()


def test_disabled_account_cannot_log_in_and_can_be_enabled_again(world: World) -> None:
    client = world.client_for(world.reviewer_a)
    client.post(reverse("orgs:account_toggle", args=[world.registrar_a.pk]))
    world.registrar_a.refresh_from_db()
    assert not world.registrar_a.is_active
    response = Client().post(reverse("login"), {"username": "registrar_a", "password": PASSWORD})
    assert response.status_code == 200
    assert "不正确" in response.content.decode() or "停用" in response.content.decode()
    client.post(reverse("orgs:account_toggle", args=[world.registrar_a.pk]))
    assert _can_log_in("registrar_a", PASSWORD)


def test_reset_password_issues_a_new_one_time_password(world: World) -> None:
    client = world.client_for(world.city_admin)
    client.post(reverse("orgs:account_reset", args=[world.registrar_c.pk]))
    new_password = _issued_passwords(client.get(reverse("orgs:account_issued")))["registrar_c"]
    assert not _can_log_in("registrar_c", PASSWORD)
    assert _can_log_in("registrar_c", new_password)
    world.registrar_c.refresh_from_db()
    assert world.registrar_c.must_change_password


def test_lockout_after_repeated_failures_is_per_user_and_address(world: World) -> None:
    from axes.models import AccessAttempt

    limit = settings.AXES_FAILURE_LIMIT
    attacker = Client(REMOTE_ADDR="10.9.9.9")
    for _ in range(limit):
        attacker.post(reverse("login"), {"username": "registrar_a", "password": "wrong"})
    locked = attacker.post(reverse("login"), {"username": "registrar_a", "password": PASSWORD})
    assert locked.status_code == 429
    assert "暂时锁定" in locked.content.decode()
    # The same user from another address, and another user from the same address, are not locked.
    assert (
        Client(REMOTE_ADDR="10.1.1.1")
        .post(reverse("login"), {"username": "registrar_a", "password": PASSWORD})
        .status_code
        == 302
    )
    assert attacker.post(reverse("login"), {"username": "leader_a", "password": PASSWORD}).status_code == 302
    assert AccessAttempt.objects.filter(username="registrar_a").exists()


def test_production_settings_hash_with_argon2_and_cool_off() -> None:
    from xueji import settings as production

    assert production.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    assert production.AXES_COOLOFF_TIME and production.AXES_COOLOFF_TIME > 0
    assert production.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert production.SESSION_COOKIE_AGE <= 8 * 3600 and production.SESSION_SAVE_EVERY_REQUEST


@pytest.mark.parametrize("persona", ["registrar_a", "leader_a"])
def test_school_users_manage_no_accounts(world: World, persona: str) -> None:
    response = world.client_for(getattr(world, persona)).get(reverse("orgs:account_list"))
    assert response.status_code == 403


def test_account_list_shows_only_accounts_in_scope(world: World) -> None:
    page = world.client_for(world.reviewer_a).get(reverse("orgs:account_list")).content.decode()
    assert "registrar_a" in page and "registrar_b" in page
    assert "registrar_c" not in page and "reviewer_b" not in page and "city_admin" not in page
    city_page = world.client_for(world.city_admin).get(reverse("orgs:account_list")).content.decode()
    assert "reviewer_a" in city_page and "registrar_c" in city_page and "tianjin_admin" not in city_page


def _lock_out(client: Client, username: str) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": username, "password": "wrong"})


def test_lockout_ends_after_the_cool_off(world: World) -> None:
    import datetime as dt

    from axes.models import AccessAttempt
    from django.utils import timezone

    attacker = Client(REMOTE_ADDR="10.9.9.9")
    _lock_out(attacker, "registrar_a")
    assert attacker.post(reverse("login"), {"username": "registrar_a", "password": PASSWORD}).status_code == 429
    # The cool-off has passed: the rightful user (same school NAT address) can log in again.
    cool_off = dt.timedelta(hours=settings.AXES_COOLOFF_TIME) + dt.timedelta(seconds=1)
    AccessAttempt.objects.update(attempt_time=timezone.now() - cool_off)
    assert attacker.post(reverse("login"), {"username": "registrar_a", "password": PASSWORD}).status_code == 302


def test_lockout_is_not_escaped_by_a_forged_forwarded_for_header(world: World) -> None:
    """Without XUEJI_BEHIND_PROXY the address is the socket's: a client inventing X-Forwarded-For addresses
    stays locked."""
    attacker = Client(REMOTE_ADDR="10.9.9.9")
    for n in range(settings.AXES_FAILURE_LIMIT):
        attacker.post(
            reverse("login"), {"username": "registrar_a", "password": "wrong"}, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}"
        )
    locked = attacker.post(
        reverse("login"), {"username": "registrar_a", "password": PASSWORD}, HTTP_X_FORWARDED_FOR="203.0.113.7"
    )
    assert locked.status_code == 429
