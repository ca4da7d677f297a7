"""Rows and workbooks for the 招生信息管理 tests, fitted to the ``world`` fixture's school A
(东城职业教育中心: 计算机应用 710201 with the direction 网络应用, grade 2026, class 2026级1班)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from tests.records.helpers import headers_for, resident_id, valid_row, write_xlsx

KEYS = [*valid_row().keys(), "class_name"]


def school_a_row(serial: int = 1, **overrides: object) -> dict[str, object]:
    row = valid_row(
        serial,
        id_number=person_id(serial),
        name=f"学生{chr(0x4E00 + serial % 2000)}",
        direction="网络应用",
        grade="2026",
        enrolment_month="2026-09",
        exam_ticket_no=f"2026{serial:09d}",
        class_name="2026级1班",
    )
    row.update(overrides)
    return row


def person_id(serial: int) -> str:
    """A valid resident ID of someone born in 2010, unique per serial (up to 27,999)."""
    return resident_id(f"110105201003{serial % 28 + 1:02d}{serial // 28 % 1000:03d}")


def workbook(path: Path, rows: Iterable[dict[str, object]]) -> Path:
    return write_xlsx(path, headers_for(KEYS), [[row.get(k, "") for k in KEYS] for row in rows])
