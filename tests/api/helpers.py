"""Calling the API as a persona: a real token made by the token service, sent as a bearer header."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from tests.conftest import World
from xueji.api.tokens import api_token_create
from xueji.orgs.models import User

BASE = "/api/v1"


class ApiClient:
    def __init__(self, user: User | None) -> None:
        self.client = Client()
        self.headers = {}
        if user is not None:
            self.headers["Authorization"] = f"Bearer {api_token_create(user=user, name='测试').secret}"

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.client.get(BASE + path, params or {}, headers=self.headers)

    def post_json(self, path: str, body: Any) -> Any:
        return self.client.post(BASE + path, json.dumps(body), content_type="application/json", headers=self.headers)

    def post_form(self, path: str, data: dict[str, Any]) -> Any:
        return self.client.post(BASE + path, data, headers=self.headers)


def as_persona(world: World, persona: str) -> ApiClient:
    return ApiClient(getattr(world, persona))
