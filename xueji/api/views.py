"""API 令牌: each user creates and revokes their own tokens; a new token is shown once, on the page that made it."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from xueji.api.tokens import api_token_create, api_token_revoke, api_tokens_of
from xueji.orgs.models import Role
from xueji.orgs.views import AuthedRequest, roles_required

ALL_ROLES = (Role.REGISTRAR, Role.SCHOOL_LEADER, Role.DISTRICT_REVIEWER, Role.CITY_ADMIN)


def _page(request: AuthedRequest, **extra: object) -> HttpResponse:
    context = {"tokens": api_tokens_of(request.user), **extra}
    return render(request, "api/tokens.html", context)


@roles_required(*ALL_ROLES)
def tokens(request: AuthedRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request)
    name = request.POST.get("name", "")
    try:
        created = api_token_create(user=request.user, name=name, request=request)
    except ValidationError as error:
        return _page(request, errors=error.messages, name=name)
    # Rendered, not redirected: the token exists only in this response and is never stored or shown again.
    response = _page(request, new_token=created.secret, new_name=created.token.name)
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@roles_required(*ALL_ROLES)
def token_revoke(request: AuthedRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(api_tokens_of(request.user), pk=pk)
    if api_token_revoke(user=request.user, token=token, request=request):
        messages.success(request, f"已吊销令牌“{token.name}”，使用它的系统将无法再访问。")
    else:
        messages.info(request, f"令牌“{token.name}”此前已吊销。")
    return redirect("api:tokens")
