"""Log lines: the request they belong to (request id, user id) on every line, JSON on request
(XUEJI_LOG_FORMAT=json, one object per line for a log collector), and no ID numbers in either form.

ID numbers reach log messages by way of exception texts (a unique-constraint error quotes the key, a
validation error the value) and URLs; the formatters mask every 15- to 18-character run that looks like one,
as the pages do (110101********1234), after the message and any traceback are rendered.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
from typing import Any

from django.http import HttpRequest
from django.utils.functional import empty

_request: contextvars.ContextVar[HttpRequest | None] = contextvars.ContextVar("xueji_request", default=None)

# 15-digit (legacy) and 18-digit ID numbers, also inside a 学籍号 (G + 18 digits) and run together with text.
_ID_NUMBER = re.compile(r"(?<!\d)\d{14}(?:\d{3})?[\dXx](?![\dXx])")

# The attributes every LogRecord has; anything else was passed in `extra` and goes into the JSON object.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "request_id", "user_id", "request_context"}


def mask_id_numbers(text: str) -> str:
    return _ID_NUMBER.sub(lambda match: match[0][:6] + "*" * (len(match[0]) - 10) + match[0][-4:], text)


def request_bind(request: HttpRequest) -> contextvars.Token[HttpRequest | None]:
    return _request.set(request)


def request_unbind(token: contextvars.Token[HttpRequest | None]) -> None:
    _request.reset(token)


def _user_id(request: HttpRequest) -> int | None:
    # Only a user already loaded: a log line must not query the session (it may be the database's own error).
    user = request.__dict__.get("user")
    if user is None or getattr(user, "_wrapped", None) is empty:
        return None
    return user.pk if getattr(user, "is_authenticated", False) else None


class RequestContextFilter(logging.Filter):
    """Adds ``request_id`` and ``user_id`` of the request being served ("-" and None outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = _request.get()
        if request is None:
            record.request_id = getattr(record, "request_id", "-")
            record.user_id = getattr(record, "user_id", None)
        else:
            record.request_id = getattr(request, "request_id", "-")
            record.user_id = _user_id(request)
        return True


class TextFormatter(logging.Formatter):
    """``time LEVEL logger [request id user=N] message``; the bracket only for lines written inside a request."""

    def __init__(self, fmt: str | None = None) -> None:
        super().__init__(fmt or "%(asctime)s %(levelname)s %(name)s%(request_context)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", "-")
        user_id = getattr(record, "user_id", None)
        record.request_context = "" if request_id == "-" else f" [{request_id} user={user_id or '-'}]"
        return mask_id_numbers(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, user_id, the `extra` fields
    (method, path, status, duration_ms for the request line) and the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            "user_id": getattr(record, "user_id", None),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value if value is None or isinstance(value, bool | int | float) else str(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        masked = {key: mask_id_numbers(value) if isinstance(value, str) else value for key, value in entry.items()}
        return json.dumps(masked, ensure_ascii=False)
