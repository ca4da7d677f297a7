"""The outermost middleware: a request id, one log line per request, and the headers Django's own security
middleware does not set (Content-Security-Policy; no-store on every response to a signed-in user)."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase, JsonResponse, QueryDict
from django.utils.cache import add_never_cache_headers

from xueji.ops.logs import mask_id_numbers, request_bind, request_unbind

logger = logging.getLogger("xueji.request")

# A request id from the load balancer is kept (so its log and ours join up) only when it is a plain token.
_INCOMING_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


class OperationsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.static_prefix = "/" + settings.STATIC_URL.lstrip("/")

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.path.startswith(self.static_prefix):
            return self.get_response(request)
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _INCOMING_ID.fullmatch(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = request_bind(request)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            if "Content-Security-Policy" not in response and settings.XUEJI_CSP:
                response["Content-Security-Policy"] = settings.XUEJI_CSP
            user = getattr(request, "user", None)
            signed_in = bool(user is not None and user.is_authenticated)
            if signed_in:
                # Pages, lists and downloads of a signed-in user hold personal data: no copy in any cache (browser
                # back button on a shared school computer, a proxy), whatever the view set.
                add_never_cache_headers(response)
            path = mask_id_numbers(request.path)  # never the query string: searches hold names and ID numbers
            duration_ms = round((time.monotonic() - started) * 1000, 1)
            # The load balancer's health probe every few seconds would drown the log: DEBUG only.
            level = logging.DEBUG if request.path == "/healthz" else logging.INFO
            logger.log(
                level,
                "%s %s %s %sms",
                request.method,
                path,
                response.status_code,
                duration_ms,
                extra={
                    "method": request.method,
                    "path": path,
                    "status": response.status_code,
                    "duration_ms": duration_ms,
                },
            )
            return response
        finally:
            request_unbind(token)


class NulCharacterMiddleware:
    """A NUL character (\\0) in a request's text. No one types one; a fuzzer or a broken client sends it, and
    PostgreSQL refuses it in any text ("A string literal cannot contain NUL"): a search that passed it to a
    query ended in a 500 (found by the API's schema fuzzing: GET /api/v1/admissions?q=%00). So, in one place:
    - the API refuses it with 400, naming the parameter (query, form field or JSON);
    - pages get their query and form fields without it, and answer as they would any other input (a form
      with its messages, a list with its filters): the character cannot be seen or typed, so there is
      nothing to tell a person.
    Uploaded files are not looked into: their bytes are theirs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.path.startswith("/api/"):
            name = _nul_parameter(request)
            if name is not None:
                message = f"参数“{name}”含有无法处理的空字符（\\0），请删除后重试"
                error = {"field": name, "label": "", "value": None, "message": message}
                return JsonResponse(
                    {"detail": message, "errors": [error]}, status=400, json_dumps_params={"ensure_ascii": False}
                )
        else:
            if _has_nul(request.GET):
                request.GET = _without_nul(request.GET)  # type: ignore[assignment]
            if request.method == "POST" and _has_nul(request.POST):
                request.POST = _without_nul(request.POST)  # type: ignore[assignment]
        return self.get_response(request)


def _has_nul(data: QueryDict) -> bool:
    return any("\x00" in key or any("\x00" in value for value in values) for key, values in data.lists())


def _without_nul(data: QueryDict) -> QueryDict:
    cleaned = QueryDict(mutable=True)
    for key, values in data.lists():
        cleaned.setlist(key.replace("\x00", ""), [value.replace("\x00", "") for value in values])
    cleaned._mutable = False
    return cleaned


def _nul_parameter(request: HttpRequest) -> str | None:
    """The name of the first query parameter, form field or JSON field holding a NUL character, or None."""
    for data in [request.GET, request.POST] if request.method == "POST" else [request.GET]:
        for key, values in data.lists():
            if "\x00" in key:
                return key.replace("\x00", "\\0")
            if any("\x00" in value for value in values):
                return key
    if request.content_type == "application/json" and b"\\u0000" in request.body:
        try:
            found = _nul_in_json(json.loads(request.body), "")
        except ValueError:
            return None  # not JSON: the API says so itself
        if found is not None:
            return found or "body"
    return None


def _nul_in_json(value: object, path: str) -> str | None:
    if isinstance(value, str):
        return path if "\x00" in value else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        if isinstance(key, str) and "\x00" in key:
            return f"{path}.{key}".strip(".").replace("\x00", "\\0")
        found = _nul_in_json(item, f"{path}.{key}".strip("."))
        if found is not None:
            return found
    return None
