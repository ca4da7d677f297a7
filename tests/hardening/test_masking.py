"""Field-level masking: the personal fields (ID number, 学籍号, phones, e-mail, home address, postcode,
guardian's name) are shown in full to the registrar only; every other persona sees them masked, on the list and
detail pages, in every export it can make and in the API. Each page or file a persona may open (200) is searched
for the full values; pages it may not open are the authorization matrix's business (tests/test_authorization.py)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from python_calamine import CalamineWorkbook

from tests.api.helpers import ApiClient
from tests.conftest import World
from tests.reconcile.helpers import roster_xlsx
from xueji.reconcile.services import roster_load
from xueji.students.exports import COLUMNS

STUDENT_ID = "110101201005120027"
RECORD_ID = "110101201003070011"
STUDENT_NO = "G" + STUDENT_ID
PERSONAL = {
    "phone": "13900139001",
    "guardian_phone": "13700137002",
    "email": "lixiaohong@example.com",
    "home_address": "北京市东城区某某胡同7号",
    "postcode": "100010",
    "guardian_name": "李建国",
}
RECORD_PERSONAL = {**PERSONAL, "phone": "13800138000", "guardian_phone": "13600136003", "guardian_name": "王建军"}
MASKED_PERSONAS = ["leader_a", "reviewer_a", "city_admin"]


@pytest.fixture
def personal(world: World, tmp_path: Path) -> World:
    student = world.student_a
    student.data = {**student.data, **PERSONAL}
    student.student_no = STUDENT_NO
    student.save()
    record = world.record_a
    record.data = {**record.data, **RECORD_PERSONAL}
    record.save()
    row = ["26110101000001", "2026110101001", "李小红", STUDENT_ID, world.school_a.code, "计算机应用", "统一招生"]
    roster_load(
        city=world.city,
        actor=world.city_admin,
        path=roster_xlsx(tmp_path / "名册.xlsx", [row]),
        file_name="名册.xlsx",
        intake_year=2026,
    )
    return world


def full_values() -> list[str]:
    return [STUDENT_ID, RECORD_ID, STUDENT_NO[1:], *PERSONAL.values(), *RECORD_PERSONAL.values()]


def _text_of(response) -> str:  # type: ignore[no-untyped-def]
    content = b"".join(response.streaming_content) if response.streaming else response.content
    kind = response.get("Content-Type", "")
    if "spreadsheetml" in kind:
        book = CalamineWorkbook.from_filelike(io.BytesIO(content))
        cells = [
            str(cell) for name in book.sheet_names for row in book.get_sheet_by_name(name).to_python() for cell in row
        ]
        with zipfile.ZipFile(io.BytesIO(content)) as archive:  # shared strings not in any cell count too
            cells += [archive.read(n).decode("utf-8", "replace") for n in archive.namelist() if n.endswith(".xml")]
        return "\n".join(cells)
    return content.decode("utf-8-sig", "replace")


def views_for(world: World) -> list[tuple[str, str, dict[str, object] | None]]:
    """(what, url, POST data or None for GET) for every page and export that shows personal fields."""
    columns = [c.key for c in COLUMNS]
    return [
        ("招生信息列表", reverse("admissions:index"), None),
        ("招生信息详情", reverse("admissions:detail", args=[world.record_a.pk]), None),
        ("学籍列表", reverse("students:list"), None),
        ("学籍详情", reverse("students:detail", args=[world.student_a.pk]), None),
        ("学籍审核", reverse("students:review"), None),
        ("学籍状态", reverse("students:status"), None),
        ("档案管理", reverse("students:archive") + "?source=", None),
        ("学籍导出 xlsx", reverse("students:export"), {"columns": columns, "format": "xlsx"}),
        ("学籍导出 csv", reverse("students:export"), {"columns": columns, "format": "csv"}),
        ("名册核对", reverse("reconcile:index") + "?year=2026", None),
        ("名册核对导出", reverse("reconcile:export") + "?year=2026", None),
    ]


def _fetch(client: Client, url: str, data: dict[str, object] | None):  # type: ignore[no-untyped-def]
    return client.post(url, data) if data is not None else client.get(url)


def api_texts(world: World, persona: str) -> dict[str, str]:
    """The API's lists and records as ``persona`` reads them (JSON written out again without \\u escapes)."""
    client = ApiClient(getattr(world, persona))
    paths = [
        "/admissions",
        f"/admissions/{world.record_a.pk}",
        "/students",
        f"/students/{world.student_a.pk}",
        "/reconciliation?year=2026",
    ]
    texts = {}
    for path in paths:
        response = client.get(path)
        if response.status_code == 200:
            texts[path] = json.dumps(response.json(), ensure_ascii=False)
    return texts


@pytest.mark.parametrize("persona", MASKED_PERSONAS)
def test_masked_personas_never_see_personal_fields_in_full(personal: World, persona: str) -> None:
    client = personal.client_for(getattr(personal, persona))
    seen = 0
    for what, url, data in views_for(personal):
        response = _fetch(client, url, data)
        if response.status_code in (403, 404) or (response.status_code == 302 and "reconcile" in url):
            continue
        assert response.status_code == 200, (what, response.status_code)
        text = _text_of(response)
        leaked = [value for value in full_values() if value in text]
        assert not leaked, f"{persona} sees {leaked} in {what}"
        seen += 1
    assert seen >= 4  # the persona did open pages that list the students
    api = api_texts(personal, persona)
    assert f"/students/{personal.student_a.pk}" in api
    for path, text in api.items():
        leaked = [value for value in full_values() if value in text]
        assert not leaked, f"{persona} sees {leaked} in the API's {path}"


def test_the_registrar_sees_them_in_full(personal: World) -> None:
    """The counterpart: the same pages and files show the registrar everything, so the test above would
    notice a page that shows the values."""
    client = personal.client_for(personal.registrar_a)
    texts = {}
    for what, url, data in views_for(personal):
        response = _fetch(client, url, data)
        if response.status_code == 200:
            texts[what] = _text_of(response)
    assert STUDENT_ID in texts["学籍详情"] and PERSONAL["home_address"] in texts["学籍详情"]
    assert RECORD_ID in texts["招生信息详情"] and RECORD_PERSONAL["guardian_phone"] in texts["招生信息详情"]
    for what in ("学籍导出 xlsx", "学籍导出 csv"):
        assert all(value in texts[what] for value in [STUDENT_ID, STUDENT_NO, *PERSONAL.values()]), what
    api = api_texts(personal, "registrar_a")
    assert all(value in api[f"/students/{personal.student_a.pk}"] for value in [STUDENT_ID, *PERSONAL.values()])
