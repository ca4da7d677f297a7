"""API 令牌: each user makes and revokes their own; the token is shown once and only its hash is kept."""

from __future__ import annotations

import hashlib
import re

from django.urls import reverse

from tests.api.helpers import BASE, ApiClient
from tests.conftest import World
from xueji.api.models import ApiToken
from xueji.audit.models import AuditEvent


def _create(world: World, name: str = "教务系统对接") -> tuple[str, str]:
    """(the token, the page that showed it)."""
    page = world.client_for(world.registrar_a).post(reverse("api:tokens"), {"name": name}).content.decode()
    found = re.search(r'<code id="new-token">([^<]+)</code>', page)
    assert found, page
    return found.group(1), page


def _call(token: str) -> object:
    return ApiClient(None).client.get(f"{BASE}/schools", headers={"Authorization": f"Bearer {token}"})


def test_a_new_token_is_shown_once_and_only_its_hash_is_stored(world: World) -> None:
    token, page = _create(world)
    assert "离开本页后将无法再次查看" in page
    stored = ApiToken.objects.get(user=world.registrar_a)
    assert stored.key_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {stored.name, stored.prefix, stored.key_hash}
    assert token.startswith(stored.prefix)
    listing = world.client_for(world.registrar_a).get(reverse("api:tokens")).content.decode()
    assert token not in listing and "教务系统对接" in listing and stored.prefix in listing
    event = AuditEvent.objects.get(action="api_token.create")
    assert event.actor == world.registrar_a and token not in str(event.after)


def test_the_token_works_for_its_user_and_records_its_use(world: World) -> None:
    token, _page = _create(world)
    response = _call(token)
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert [s["code"] for s in response.json()["items"]] == ["3111010001"]  # type: ignore[attr-defined]
    assert ApiToken.objects.get(user=world.registrar_a).last_used_at is not None


def test_a_revoked_token_stops_working_and_the_revocation_is_audited(world: World) -> None:
    token, _page = _create(world)
    stored = ApiToken.objects.get(user=world.registrar_a)
    client = world.client_for(world.registrar_a)
    response = client.post(reverse("api:token_revoke", kwargs={"pk": stored.pk}), follow=True)
    assert "已吊销令牌“教务系统对接”" in response.content.decode()
    refused = _call(token)
    assert refused.status_code == 401  # type: ignore[attr-defined]
    assert refused.json()["detail"] == "API 令牌已吊销"  # type: ignore[attr-defined]
    assert AuditEvent.objects.filter(action="api_token.revoke", object_id=str(stored.pk)).exists()


def test_a_disabled_account_s_tokens_stop_working(world: World) -> None:
    token, _page = _create(world)
    world.registrar_a.is_active = False
    world.registrar_a.save()
    refused = _call(token)
    assert refused.status_code == 401  # type: ignore[attr-defined]
    assert "已停用" in refused.json()["detail"]  # type: ignore[attr-defined]


def test_a_reset_password_holds_the_tokens_until_the_owner_sets_one(world: World) -> None:
    token, _page = _create(world)
    world.registrar_a.must_change_password = True
    world.registrar_a.save()
    assert _call(token).status_code == 401  # type: ignore[attr-defined]


def test_an_unknown_or_malformed_token_is_refused(world: World) -> None:
    assert _call("xj_not-a-token").json()["detail"] == "API 令牌无效"  # type: ignore[attr-defined]
    basic = ApiClient(None).client.get(f"{BASE}/schools", headers={"Authorization": "Basic cmVnaXN0cmFyOnB3"})
    assert basic.status_code == 401


def test_a_token_needs_a_name(world: World) -> None:
    page = world.client_for(world.registrar_a).post(reverse("api:tokens"), {"name": " "}).content.decode()
    assert "请填写令牌名称" in page
    assert not ApiToken.objects.exists()


def test_another_user_cannot_revoke_my_token(world: World) -> None:
    _create(world)
    stored = ApiToken.objects.get(user=world.registrar_a)
    response = world.client_for(world.leader_a).post(reverse("api:token_revoke", kwargs={"pk": stored.pk}))
    assert response.status_code == 404
    assert ApiToken.objects.get(pk=stored.pk).revoked_at is None


def test_the_token_page_is_in_the_menu_and_links_the_docs(world: World) -> None:
    home = world.client_for(world.leader_a).get(reverse("home")).content.decode()
    assert reverse("api:tokens") in home
    page = world.client_for(world.leader_a).get(reverse("api:tokens")).content.decode()
    assert "/api/v1/docs" in page and "/api/v1/openapi.json" in page


def test_the_docs_page_serves_its_assets_from_this_server(world: World) -> None:
    from django.test import Client

    page = Client().get(f"{BASE}/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()
    assert Client().get("/static/ninja/swagger-ui-bundle.js").status_code == 200
