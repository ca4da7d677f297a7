"""Creating, revoking and checking API tokens (services and the one lookup the API's auth uses)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from xueji.api.models import ApiToken
from xueji.audit.services import audit_record
from xueji.orgs.models import User

TOKEN_PREFIX = "xj_"
MAX_ACTIVE_TOKENS = 20
# last_used_at is written at most this often per token: a busy integration must not write on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def api_tokens_of(user: User) -> QuerySet[ApiToken]:
    """A user's own tokens: nobody else's are ever listed or revoked by them."""
    return ApiToken.objects.filter(user=user)


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # the token itself, shown once and never stored


def api_token_create(*, user: User, name: str, request: HttpRequest | None = None) -> NewToken:
    name = name.strip()
    if not name:
        raise ValidationError({"name": "请填写令牌名称（如：教务系统对接）"})
    if len(name) > 64:
        raise ValidationError({"name": "令牌名称不能超过64个字"})
    with transaction.atomic():
        active = api_tokens_of(user).select_for_update().filter(revoked_at__isnull=True)
        if len(active) >= MAX_ACTIVE_TOKENS:
            raise ValidationError({"name": f"最多可有{MAX_ACTIVE_TOKENS}个有效令牌，请先吊销不用的令牌"})
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = ApiToken.objects.create(user=user, name=name, prefix=secret[:8], key_hash=token_hash(secret))
        audit_record(actor=user, action="api_token.create", obj=token, after={"name": name}, request=request)
    return NewToken(token, secret)


def api_token_revoke(*, user: User, token: ApiToken, request: HttpRequest | None = None) -> bool:
    """Revoke one of the user's own tokens; False if it was revoked already."""
    with transaction.atomic():
        revoked = api_tokens_of(user).filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        if revoked:
            audit_record(actor=user, action="api_token.revoke", obj=token, before={"name": token.name}, request=request)
    return revoked == 1


class TokenRefused(Exception):
    """The token is unknown, revoked, or its user may not work now; the message says which, in words."""


def api_token_user(secret: str) -> User:
    """The active user behind a bearer token, or TokenRefused. A disabled account's tokens stop working at once,
    and so do those of an account whose password was reset, until its owner sets their own."""
    token = (
        ApiToken.objects.select_related("user", "user__school", "user__region")
        .filter(key_hash=token_hash(secret.strip()))
        .first()
    )
    if token is None:
        raise TokenRefused("API 令牌无效")
    if token.revoked_at is not None:
        raise TokenRefused("API 令牌已吊销")
    user = token.user
    if not user.is_active:
        raise TokenRefused("该账号已停用，其 API 令牌不能使用")
    if user.must_change_password:
        raise TokenRefused("该账号须先登录网页修改密码，之后 API 令牌才能使用")
    now = timezone.now()
    if token.last_used_at is None or token.last_used_at < now - LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return user
