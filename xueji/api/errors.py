"""An API error with field-level messages: answered as ``{"detail": …, "errors": [{"field", "label", "value",
"message"}]}``."""

from __future__ import annotations

from ninja.errors import HttpError


class ApiError(HttpError):
    def __init__(self, status_code: int, detail: str, errors: list[dict[str, object]] | None = None) -> None:
        super().__init__(status_code, detail)
        self.errors = errors or []
