"""招生信息 through the API: the same validator and field messages as the form, the same import, the same masking,
and cursor pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.admissions.helpers import school_a_row, workbook
from tests.api.helpers import as_persona
from tests.conftest import World
from xueji.admissions.models import AdmissionRecord, ImportJob
from xueji.audit.models import AuditEvent


def _body(row: dict[str, object]) -> dict[str, Any]:
    return {k: str(v) for k, v in row.items()}


def test_registrar_creates_a_record_through_the_form_s_validator(world: World) -> None:
    row = school_a_row(1, name="李四")
    response = as_persona(world, "registrar_a").post_json("/admissions", _body(row))
    assert response.status_code == 201, response.content.decode()
    created = response.json()["record"]
    record = AdmissionRecord.objects.get(pk=created["id"])
    assert (record.name, record.school, record.direction, record.gender) == (
        "李四",
        world.school_a,
        world.direction_a,
        "2",
    )
    assert created["id_number"] == row["id_number"]  # the registrar sees the full number
    assert created["data"]["ethnicity"] == "01"  # typed as 汉族, stored and answered as the code
    assert AuditEvent.objects.filter(action="admission.create", object_id=str(record.pk)).exists()


def test_refused_fields_come_back_one_by_one_with_the_form_s_words(world: World) -> None:
    row = school_a_row(2, direction="云计算", id_number="110105201003020011")
    response = as_persona(world, "registrar_a").post_json("/admissions", _body(row))
    assert response.status_code == 422
    errors = {e["field"]: e for e in response.json()["errors"]}
    assert "校验位错误" in errors["id_number"]["message"]
    assert errors["id_number"]["label"] == "身份证件号" and errors["id_number"]["value"] == "110105201003020011"
    assert errors["direction"]["message"] == "“云计算”不是本校该专业的专业方向，可选：网络应用"
    assert not AdmissionRecord.objects.filter(name=row["name"]).exists()


def test_a_person_admitted_elsewhere_is_refused_naming_the_school(world: World) -> None:
    row = school_a_row(3, id_number=world.record_a.id_number, major="730301", direction="")
    response = as_persona(world, "registrar_b").post_json("/admissions", _body(row))
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "id_number" and "东城职业教育中心" in error["message"]


def test_an_unknown_field_or_a_number_for_text_is_a_422_naming_it(world: World) -> None:
    client = as_persona(world, "registrar_a")
    unknown = client.post_json("/admissions", {"nickname": "小李"})
    assert unknown.status_code == 422
    assert unknown.json()["errors"] == [
        {"field": "body.nickname", "label": "", "value": None, "message": "不认识的字段"}
    ]
    wrong_type = client.post_json("/admissions", {"name": 3})
    assert wrong_type.json()["errors"][0]["message"] == "应为文本"


def test_others_see_the_record_masked(world: World) -> None:
    leader = as_persona(world, "leader_a").get(f"/admissions/{world.record_a.pk}").json()
    assert leader["id_number"] == "110101********0011"
    assert leader["data"]["id_number"] == "110101********0011"
    assert leader["data"]["phone"] == "（仅学籍管理员可见）"
    registrar = as_persona(world, "registrar_a").get(f"/admissions/{world.record_a.pk}").json()
    assert registrar["data"]["phone"] == "13800138000"


def test_pages_follow_the_cursor_newest_first_without_overlap(world: World) -> None:
    for serial in range(5):
        row = school_a_row(10 + serial, name=f"翻页{'甲乙丙丁戊'[serial]}")
        assert as_persona(world, "registrar_a").post_json("/admissions", _body(row)).status_code == 201
    client = as_persona(world, "leader_a")
    seen: list[int] = []
    cursor = None
    for _page in range(10):
        params: dict[str, Any] = {"limit": 2, "q": "翻页"}
        if cursor:
            params["cursor"] = cursor
        body = client.get("/admissions", params).json()
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5 and seen == sorted(seen, reverse=True)
    assert client.get("/admissions", {"cursor": "not-a-cursor"}).status_code == 400


def test_filters_by_state_and_by_an_out_of_scope_school(world: World) -> None:
    client = as_persona(world, "reviewer_a")
    pending = client.get("/admissions", {"state": "pending"}).json()["items"]
    assert [r["name"] for r in pending] == ["王小明"]
    assert client.get("/admissions", {"school": world.school_c.pk}).status_code == 404


@pytest.mark.usefixtures("immediate_tasks")
def test_an_uploaded_workbook_is_imported_and_its_job_reports_the_counts(
    world: World, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    rows = [school_a_row(20, name="导入甲"), school_a_row(21, name="导入乙", id_number="110105201003020011")]
    path = workbook(tmp_path / "新生名单.xlsx", rows)
    client = as_persona(world, "registrar_a")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post_form(
            "/admissions/imports", {"file": SimpleUploadedFile("新生名单.xlsx", path.read_bytes())}
        )
    assert response.status_code == 202, response.content.decode()
    job = client.get(f"/admissions/imports/{response.json()['id']}").json()
    assert (job["status"], job["created_count"], job["failed_count"], job["has_failure_file"]) == ("done", 1, 1, True)
    assert ImportJob.objects.get(pk=job["id"]).uploaded_by == world.registrar_a
    failures = client.get(f"/admissions/imports/{job['id']}/failures")
    assert failures.status_code == 200 and b"".join(failures.streaming_content).startswith(b"PK")


def test_a_file_that_is_not_a_workbook_is_refused_at_once(world: World) -> None:
    upload = SimpleUploadedFile("名单.xlsx", b"\x00\x01 not a workbook at all")
    response = as_persona(world, "registrar_a").post_form("/admissions/imports", {"file": upload})
    assert response.status_code == 422
    assert response.json()["detail"].startswith("无法导入“名单.xlsx”：")
    assert response.json()["errors"][0]["field"] == "file"
    assert ImportJob.objects.count() == 1  # the world's own job only
