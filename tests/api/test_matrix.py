"""Every API operation against every persona: allowed roles get their answer, other roles 403, objects outside the
scope 404, no token 401. A test reads the operations from the ninja API itself, so a new one cannot go untested."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.api.helpers import ApiClient, as_persona
from tests.conftest import PERSONAS, World
from tests.reconcile.helpers import HEADER
from xueji.api.main import api

ALL = set(PERSONAS)
CITY = {"city_admin", "other_city_admin"}
REVIEWERS = {"reviewer_a", "reviewer_b"}
SCHOOL = {"registrar_a", "leader_a", "registrar_b"}
REGISTRARS = {"registrar_a", "registrar_b"}
SCOPE_A = {"registrar_a", "leader_a", "reviewer_a", "city_admin"}  # those who see school A


@dataclass
class Case:
    method: str
    path: str  # as in the OpenAPI schema, under /api/v1
    allowed: set[str]
    in_scope: set[str] | None = None  # of the allowed, those whose scope holds the object (None: all)
    args: Callable[[World], dict[str, Any]] = lambda w: {}
    json: Callable[[World], Any] | None = None
    form: Callable[[World], dict[str, Any]] | None = None
    query: dict[str, Any] = field(default_factory=dict)
    ok: int = 200


def _roster_file(w: World) -> dict[str, Any]:
    rows = [HEADER, ["26110101000001", "", "王小明", "110101201003070011", "3111010001", "计算机应用", "统一招生"]]
    content = "\n".join(",".join(r) for r in rows).encode("utf-8")
    return {"file": SimpleUploadedFile("名册.csv", content, "text/csv"), "intake_year": "2026"}


def _import_file(w: World) -> dict[str, Any]:
    return {"file": SimpleUploadedFile("名单.csv", "姓名,身份证件号\n张三,110101201003070011\n".encode(), "text/csv")}


CASES = [
    Case("get", "/schools", ALL),
    Case("get", "/schools/{school_id}", ALL, SCOPE_A, lambda w: {"school_id": w.school_a.pk}),
    Case("get", "/majors", ALL),
    Case("get", "/majors", ALL, SCOPE_A, query={"school": "school_a"}),
    Case("get", "/classes", ALL),
    Case("get", "/classes", ALL, SCOPE_A, query={"school": "school_a", "grade": 2026}),
    Case("get", "/admissions", ALL),
    Case("get", "/admissions", ALL, SCOPE_A, query={"school": "school_a"}),
    # An empty record: the registrar gets every field the validator refuses (422), nothing is saved.
    Case("post", "/admissions", REGISTRARS, json=lambda w: {}, ok=422),
    Case("get", "/admissions/{record_id}", ALL, SCOPE_A, lambda w: {"record_id": w.record_a.pk}),
    Case("post", "/admissions/imports", REGISTRARS, form=_import_file, ok=202),
    Case("get", "/admissions/imports/{job_id}", SCHOOL, {"registrar_a", "leader_a"}, lambda w: {"job_id": w.job_a.pk}),
    Case("get", "/admissions/imports/{job_id}/failures", REGISTRARS, {"registrar_a"}, lambda w: {"job_id": w.job_a.pk}),
    Case("get", "/students", ALL),
    Case("get", "/students", ALL, SCOPE_A, query={"school": "school_a", "state": "in_review"}),
    Case("get", "/students/{student_id}", ALL, SCOPE_A, lambda w: {"student_id": w.student_a.pk}),
    # student_a is in review already: the registrar's submit reports it as handled (200), nothing moves.
    Case("post", "/students/submit", REGISTRARS, {"registrar_a"}, json=lambda w: {"ids": [w.student_a.pk]}),
    Case(
        "post",
        "/students/review",
        {"leader_a"} | REVIEWERS | CITY,
        {"leader_a", "reviewer_a", "city_admin"},
        json=lambda w: {"action": "approve", "ids": [w.student_a.pk]},
    ),
    Case("post", "/roster", CITY, form=_roster_file, ok=201),
    Case("get", "/reconciliation", ALL),
    Case("get", "/reconciliation", ALL, SCOPE_A, query={"school": "school_a"}),
]


def expected_status(case: Case, persona: str) -> int:
    if persona not in case.allowed:
        return 403
    if case.in_scope is not None and persona not in case.in_scope:
        return 404
    return case.ok


def _call(client: ApiClient, world: World, case: Case) -> Any:
    path = case.path.format(**case.args(world))
    query = {
        k: (getattr(world, v).pk if isinstance(v, str) and hasattr(world, v) else v) for k, v in case.query.items()
    }
    if case.method == "get":
        return client.get(path, query)
    if case.json is not None:
        return client.post_json(path, case.json(world))
    return client.post_form(path, case.form(world) if case.form else {})


def _case_id(case: Case) -> str:
    return f"{case.method} {case.path}{'?' + '&'.join(case.query) if case.query else ''}"


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_operation_answers_each_persona_by_role_and_scope(world: World, case: Case, persona: str) -> None:
    response = _call(as_persona(world, persona), world, case)
    assert response.status_code == expected_status(case, persona), (persona, response.content.decode()[:300])
    if response["Content-Type"].startswith("application/json"):
        body = response.json()
        if response.status_code >= 400:
            assert body["detail"], body


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_no_token_is_401(world: World, case: Case) -> None:
    response = _call(ApiClient(None), world, case)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert "API 令牌" in response.json()["detail"]


def test_every_operation_is_in_the_matrix() -> None:
    schema = api.get_openapi_schema(path_prefix="")
    operations = {(method, path) for path, methods in schema["paths"].items() for method in methods}
    covered = {(case.method, case.path) for case in CASES}
    assert operations, "no operation found in the API"
    assert not operations - covered, f"API operations without a persona case: {sorted(operations - covered)}"


def test_the_failure_workbook_is_the_file(world: World) -> None:
    response = as_persona(world, "registrar_a").get(f"/admissions/imports/{world.job_a.pk}/failures")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert b"".join(response.streaming_content) == b"PK placeholder for the failures workbook"
    assert "%E5%A4%B1%E8%B4%A5%E6%95%B0%E6%8D%AE" in response["Content-Disposition"]  # 失败数据
