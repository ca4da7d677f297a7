"""A NUL character (\\0), on every database: the API answers 400 naming the parameter; pages see their query and
form fields without it. PostgreSQL refuses NUL in any text, and a search passed it straight to a query (a 500,
found by the API's schema fuzzing: GET /api/v1/admissions?q=%00)."""

from __future__ import annotations

from django.urls import reverse

from tests.admissions.helpers import school_a_row
from tests.api.helpers import as_persona
from tests.conftest import World
from xueji.admissions.models import AdmissionRecord
from xueji.admissions.services import admission_save


def test_the_api_refuses_a_nul_in_a_search_naming_the_parameter(world: World) -> None:
    api = as_persona(world, "registrar_a")
    response = api.get("/admissions", {"q": "王\x00五", "state": ""})
    assert response.status_code == 400
    body = response.json()
    assert "参数“q”含有无法处理的空字符" in body["detail"]
    assert body["errors"][0]["field"] == "q"
    assert api.get("/admissions", {"q": "王"}).status_code == 200  # the same search without it works
    assert api.get("/students", {"q": "\x00"}).status_code == 400


def test_the_api_refuses_a_nul_inside_json_and_writes_nothing(world: World) -> None:
    row = {k: str(v) for k, v in school_a_row(1, name="李四").items()}
    row["home_address"] = "北京市东城区\x00建国路1号"
    before = AdmissionRecord.objects.count()
    response = as_persona(world, "registrar_a").post_json("/admissions", row)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "home_address"
    assert AdmissionRecord.objects.count() == before
    # A backslash followed by "u0000" is text, not a NUL: the request goes through to the validator.
    row["home_address"] = "北京市东城区\\u0000建国路1号"
    assert as_persona(world, "registrar_a").post_json("/admissions", row).status_code == 201


def test_pages_search_without_a_nul_in_the_query(world: World) -> None:
    client = world.client_for(world.registrar_a)
    assert admission_save(actor=world.registrar_a, school=world.school_a, raw=school_a_row(7, name="李四")).ok
    response = client.get(reverse("admissions:index"), {"q": "李\x00四"})
    assert response.status_code == 200
    assert "李四" in response.content.decode()


def test_a_nul_in_a_posted_form_field_is_removed_and_the_form_answers_as_usual(world: World) -> None:
    client = world.client_for(world.registrar_a)
    row = {k: str(v) for k, v in school_a_row(1, name="李\x00四").items()}
    row["home_address"] = "北京市东城区建国路\x001号"
    response = client.post(reverse("admissions:add"), row, follow=True)
    assert "已新增：李四" in response.content.decode()
    record = AdmissionRecord.objects.get(id_number=row["id_number"])
    assert (record.name, record.data["home_address"]) == ("李四", "北京市东城区建国路1号")
