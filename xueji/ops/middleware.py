"""The outermost middleware: a request id, one log line per request, and the headers Django's own security
middleware does not set (Content-Security-Policy; no-store on every response to a signed-in user)."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
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
