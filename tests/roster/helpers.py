"""Students for roster and filing tests: many, with rare characters in names, across states."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date

import pytest

from tests.conftest import World
from xueji.admissions.models import AdmissionRecord
from xueji.students.models import State, Student

# 䶮 (CJK Ext. A) and 𠮷 (Ext. B) are not in WenQuanYi Micro Hei: they come from the fallback font.
RARE_NAMES = ("刘䶮", "𠮷田昇", "张喆")


def add_students(world: World, count: int, *, state: str = State.APPROVED, start: int = 100) -> list[Student]:
    """``count`` students at school A, 2026级, class A; the first ones get the rare names."""
    made = []
    for index in range(count):
        number = start + index
        name = RARE_NAMES[index] if index < len(RARE_NAMES) else f"学生{number}"
        id_number = f"1101012010010{number:04d}"[:17] + "X"
        record = AdmissionRecord.objects.create(
            school=world.school_a,
            grade=2026,
            name=name,
            id_type="1",
            id_number=id_number,
            gender="1" if index % 2 else "2",
            birth_date=date(2010, 1, 1),
            offering=world.offering_a,
            admission_method="1",
            state=AdmissionRecord.State.CHECKED_IN,
            data={"name": name, "id_type": "1", "id_number": id_number},
        )
        made.append(
            Student.objects.create(
                school=world.school_a,
                admission=record,
                grade=2026,
                school_class=world.class_a,
                name=name,
                id_type="1",
                id_number=id_number,
                gender=record.gender,
                birth_date=record.birth_date,
                offering=world.offering_a,
                admission_method="1",
                data=record.data,
                state=state,
                student_no=f"G{id_number}" if state == State.APPROVED else None,
            )
        )
    return made


def pdf_text(pdf: bytes, tmp_path) -> str:  # type: ignore[no-untyped-def]
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext is missing: scripts/test installs Debian's poppler-utils")
    path = tmp_path / "roster.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout
