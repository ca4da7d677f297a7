"""Bearer-token authentication and the role check of every API operation."""

from __future__ import annotations

from django.http import HttpRequest
from ninja.errors import AuthenticationError, HttpError
from ninja.security import HttpBearer

from xueji.api.tokens import TokenRefused, api_token_user
from xueji.orgs.models import Role, User

ALL_ROLES = (Role.REGISTRAR, Role.SCHOOL_LEADER, Role.DISTRICT_REVIEWER, Role.CITY_ADMIN)
SCHOOL_ROLES = (Role.REGISTRAR, Role.SCHOOL_LEADER)
REVIEWERS = (Role.SCHOOL_LEADER, Role.DISTRICT_REVIEWER, Role.CITY_ADMIN)


class TokenAuth(HttpBearer):
    """``Authorization: Bearer xj_…``: the request then acts as the token's user, with that user's scope."""

    def authenticate(self, request: HttpRequest, token: str) -> User:
        try:
            user = api_token_user(token)
        except TokenRefused as refused:
            raise AuthenticationError(401, str(refused)) from refused
        request.user = user
        return user


def api_user(request: HttpRequest, *roles: str) -> User:
    """The token's user; 403 when the user's role does not use this operation (scope is checked after, 404)."""
    user: User = request.auth  # type: ignore[attr-defined]
    if roles and user.role not in roles:
        raise HttpError(403, f"{Role(user.role).label if user.role else '该账号'}不能使用此接口")
    return user
