"""录取名册 and 名册核对 through the API: the city loads a roster all or nothing; each role reads its scope."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.api.helpers import as_persona
from tests.conftest import World
from tests.reconcile.conftest import roster_world  # noqa: F401  (the fixture)
from tests.reconcile.helpers import HEADER
from xueji.reconcile.models import RosterLoad


def _csv(rows: list[list[str]]) -> SimpleUploadedFile:
    content = "\n".join(",".join(row) for row in [HEADER, *rows]).encode("gbk")
    return SimpleUploadedFile("录取名册.csv", content, "text/csv")


def test_the_city_loads_a_roster_that_becomes_current(world: World) -> None:
    rows = [["26110101000001", "", "王小明", "110101201003070011", "3111010001", "计算机应用", "统一招生"]]
    response = as_persona(world, "city_admin").post_form("/roster", {"file": _csv(rows), "intake_year": "2026"})
    assert response.status_code == 201, response.content.decode()
    body = response.json()
    assert (body["intake_year"], body["row_count"], body["is_current"]) == (2026, 1, True)
    assert RosterLoad.objects.get(pk=body["id"]).city == world.city


def test_a_roster_with_a_bad_row_is_refused_whole_naming_the_row(world: World) -> None:
    rows = [
        ["26110101000001", "", "王小明", "110101201003070011", "3111010001", "计算机应用", "统一招生"],
        ["26110101000002", "", "", "110101201005120027", "311101", "计算机应用", "统一招生"],
    ]
    response = as_persona(world, "city_admin").post_form("/roster", {"file": _csv(rows), "intake_year": "2026"})
    assert response.status_code == 422
    body = response.json()
    assert "未导入" in body["detail"]
    assert any("第3行" in e["message"] for e in body["errors"]), body
    assert not RosterLoad.objects.exists()


def test_each_role_reads_its_scope_s_findings_masked_as_on_the_page(roster_world: World) -> None:  # noqa: F811
    registrar = as_persona(roster_world, "registrar_a").get("/reconciliation").json()
    assert registrar["load"]["intake_year"] == 2026
    assert registrar["counts"]["name_mismatch"] == 1 and registrar["counts"]["no_roster"] == 1
    mismatch = as_persona(roster_world, "registrar_a").get("/reconciliation", {"category": "name_mismatch"}).json()
    [finding] = mismatch["items"]
    assert (finding["name"], finding["roster_name"], finding["likely_typo"]) == ("李小红", "李晓红", True)
    assert finding["id_number"] == "110101201005120027"
    reviewer = as_persona(roster_world, "reviewer_a").get("/reconciliation", {"category": "name_mismatch"}).json()
    assert reviewer["items"][0]["id_number"] == "110101********0027"
    other_district = as_persona(roster_world, "reviewer_b").get("/reconciliation").json()
    assert all(f["school_code"] != "3111010001" for f in other_district["items"])
    nothing = as_persona(roster_world, "other_city_admin").get("/reconciliation").json()
    assert nothing["load"] is None and nothing["items"] == []


def test_findings_page_by_cursor(roster_world: World) -> None:  # noqa: F811
    client = as_persona(roster_world, "city_admin")
    everything = client.get("/reconciliation", {"limit": 200}).json()["items"]
    first = client.get("/reconciliation", {"limit": 3}).json()
    second = client.get("/reconciliation", {"limit": 3, "cursor": first["next_cursor"]}).json()
    assert first["items"] + second["items"] == everything[:6]
    assert len(everything) > 3 and first["next_cursor"]
