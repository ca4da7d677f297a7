"""Cursor pagination: an opaque cursor over keyset paging (WHERE id < last ORDER BY id DESC LIMIT n), which costs
the same on the first page and the thousandth. The cursor is URL-safe base64 of the last id seen, or of an offset
for lists computed in memory (the reconciliation)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import TypeVar

from django.db.models import Model, QuerySet
from ninja.errors import HttpError

M = TypeVar("M", bound=Model)
T = TypeVar("T")
DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def encode_cursor(kind: str, value: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{value}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, kind: str) -> int | None:
    if not cursor:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        found, value = text.split(":", 1)
        number = int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        number, found = -1, ""
    if found != kind or number < 0:
        raise HttpError(400, "cursor 无效：请使用上一页返回的 next_cursor")
    return number


def keyset(records: QuerySet[M], *, cursor: str | None, limit: int) -> tuple[list[M], str | None]:
    """One page newest first (by id), and the cursor of the next page (None on the last)."""
    after = decode_cursor(cursor, "id")
    if after is not None:
        records = records.filter(pk__lt=after)
    rows = list(records.order_by("-pk")[: limit + 1])
    if len(rows) > limit:
        return rows[:limit], encode_cursor("id", rows[limit - 1].pk)
    return rows, None


def slice_page(items: Sequence[T], *, cursor: str | None, limit: int) -> tuple[list[T], str | None]:
    """A page of a list already in memory, by offset."""
    start = decode_cursor(cursor, "o") or 0
    page = list(items[start : start + limit])
    return page, encode_cursor("o", start + limit) if start + limit < len(items) else None
