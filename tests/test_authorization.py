"""Every view against every persona: allowed roles get the page, other roles 403, out-of-scope objects 404."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.campaigns.helpers import open_campaign, with_attachment
from tests.conftest import PERSONAS, World
from xueji.campaigns.closing import campaign_close
from xueji.reconcile.models import NameChange, NameChangeFile, RosterCorrection, RosterEntry, RosterLoad
from xueji.reconcile.namechange import evidence_dir
from xueji.students.exports import exports_dir
from xueji.students.models import ExportJob

ALL = set(PERSONAS)
CITY = {"city_admin", "other_city_admin"}
REVIEWERS = {"reviewer_a", "reviewer_b"}
SCHOOL = {"registrar_a", "leader_a", "registrar_b"}
REGISTRARS = {"registrar_a", "registrar_b"}


@dataclass
class Case:
    name: str
    method: str = "get"
    kwargs: Callable[[World], dict[str, int]] | None = None
    allowed: set[str] = field(default_factory=set)  # roles that may use the view
    in_scope: set[str] | None = None  # of the allowed, those whose scope holds the object (None: all)
    data: dict[str, str] = field(default_factory=dict)
    ok: int = 200


def _finished_export(w: World) -> ExportJob:
    (exports_dir() / "world-export.csv").write_bytes(b"\xef\xbb\xbf\xe5\xa7\x93\xe5\x90\x8d\r\n")
    return ExportJob.objects.create(
        user=w.registrar_a, columns=["name"], file_format="csv", status="done", stored_name="world-export.csv"
    )


def _name_change(w: World) -> NameChange:
    change = NameChange.objects.create(
        student=w.student_a, old_name="李小红", new_name="李晓红", evidence_kind="police"
    )
    return change


def _evidence(w: World) -> dict[str, int]:
    change = _name_change(w)
    (evidence_dir() / "world-evidence.pdf").write_bytes(b"%PDF-1.4 world evidence")
    stored = NameChangeFile.objects.create(
        name_change=change,
        original_name="证明.pdf",
        stored_name="world-evidence.pdf",
        content_type="application/pdf",
        size=23,
        sha256="0" * 64,
    )
    return {"pk": change.pk, "file_pk": stored.pk}


def _roster_correction(w: World) -> dict[str, int]:
    (evidence_dir() / "world-correction.pdf").write_bytes(b"%PDF-1.4 world correction")
    correction = RosterCorrection.objects.create(
        entry=_roster_entry(w),
        field="name",
        old_value="王小明",
        new_value="王晓明",
        document_ref="京招〔2026〕1号",
        evidence_name="更正.pdf",
        evidence_stored="world-correction.pdf",
        evidence_type="application/pdf",
    )
    return {"pk": correction.pk}


def _api_token(w: World) -> int:
    from xueji.api.tokens import api_token_create

    return api_token_create(user=w.registrar_a, name="教务系统对接").token.pk


def _roster_entry(w: World) -> RosterEntry:
    load = RosterLoad.objects.create(city=w.city, intake_year=2026, file_name="名册.xlsx", row_count=1)
    return RosterEntry.objects.create(
        load=load, row_number=2, name="王小明", candidate_no="C1", school_code="3111010001"
    )


def _received_package(w: World) -> int:
    from xueji.roster.filing import packages_dir
    from xueji.roster.models import FilingPackage

    (packages_dir() / "world-package.zip").write_bytes(b"PK world package")
    package = FilingPackage.objects.create(
        city=w.city, file_name="上报盘.zip", file_sha256="0" * 64, stored_name="world-package.zip", verdict="received"
    )
    return package.pk


def _built_package(w: World) -> int:
    from xueji.roster.models import PackageJob
    from xueji.roster.packagejobs import package_jobs_dir

    (package_jobs_dir() / "world-built.zip").write_bytes(b"PK world built package")
    job = PackageJob.objects.create(
        user=w.registrar_a,
        scope_kind="school",
        scope_code=w.school_a.code,
        scope_name=w.school_a.name,
        grade=2026,
        status="done",
        stored_name="world-built.zip",
    )
    return job.pk


CASES = [
    Case("home", allowed=ALL),
    Case("password_change", allowed=ALL),
    Case("orgs:district_list", allowed=CITY),
    Case("orgs:school_list", allowed=CITY | REVIEWERS),
    Case("orgs:school_create", allowed=REVIEWERS),
    Case(
        "orgs:school_detail",
        kwargs=lambda w: {"pk": w.school_a.pk},
        allowed=ALL,
        in_scope={"registrar_a", "leader_a", "reviewer_a", "city_admin"},
    ),
    Case("orgs:school_edit", kwargs=lambda w: {"pk": w.school_a.pk}, allowed=REVIEWERS, in_scope={"reviewer_a"}),
    Case("orgs:my_school", allowed=SCHOOL),
    Case("orgs:offering_list", allowed=SCHOOL),
    Case("orgs:offering_remove", "post", lambda w: {"pk": w.offering_a.pk}, REGISTRARS, {"registrar_a"}, ok=302),
    Case(
        "orgs:direction_add",
        "post",
        lambda w: {"pk": w.offering_a.pk},
        REGISTRARS,
        {"registrar_a"},
        {"name": "新方向"},
        ok=302,
    ),
    Case("orgs:direction_remove", "post", lambda w: {"pk": w.direction_a.pk}, REGISTRARS, {"registrar_a"}, ok=302),
    Case("orgs:grade_list", allowed=SCHOOL),
    Case("orgs:grade_remove", "post", lambda w: {"pk": w.grade_a.pk}, REGISTRARS, {"registrar_a"}, ok=302),
    Case("orgs:class_list", allowed=SCHOOL),
    Case("orgs:class_create", allowed=REGISTRARS),
    Case("orgs:class_edit", kwargs=lambda w: {"pk": w.class_a.pk}, allowed=REGISTRARS, in_scope={"registrar_a"}),
    Case("orgs:class_remove", "post", lambda w: {"pk": w.class_a.pk}, REGISTRARS, {"registrar_a"}, ok=302),
    Case("orgs:term_list", allowed=SCHOOL),
    Case("orgs:term_create", allowed=REGISTRARS),
    Case("orgs:term_edit", kwargs=lambda w: {"pk": w.term_a.pk}, allowed=REGISTRARS, in_scope={"registrar_a"}),
    Case("orgs:account_list", allowed=CITY | REVIEWERS),
    Case("orgs:account_issue", allowed=CITY | REVIEWERS),
    # Nothing issued in this session: the page says the passwords are gone and goes back to the list.
    Case("orgs:account_issued", allowed=CITY | REVIEWERS, ok=302),
    Case("orgs:account_sheet", allowed=CITY | REVIEWERS, ok=302),
    Case(
        "orgs:account_toggle",
        "post",
        lambda w: {"pk": w.registrar_a.pk},
        CITY | REVIEWERS,
        {"city_admin", "reviewer_a"},
        ok=302,
    ),
    Case(
        "orgs:account_reset",
        "post",
        lambda w: {"pk": w.registrar_a.pk},
        CITY | REVIEWERS,
        {"city_admin", "reviewer_a"},
        ok=302,
    ),
    Case("admissions:index", allowed=ALL),
    Case("admissions:template", allowed=ALL),
    Case("admissions:add", allowed=REGISTRARS),
    # An empty form: the registrar gets it back with the errors marked (200), nothing is saved.
    Case("admissions:add", "post", allowed=REGISTRARS),
    Case("admissions:form_refresh", "post", allowed=REGISTRARS, data={"id_number": "110101201003070011"}),
    Case(
        "admissions:detail",
        kwargs=lambda w: {"pk": w.record_a.pk},
        allowed=ALL,
        in_scope={"registrar_a", "leader_a", "reviewer_a", "city_admin"},
    ),
    Case("admissions:edit", kwargs=lambda w: {"pk": w.record_a.pk}, allowed=REGISTRARS, in_scope={"registrar_a"}),
    Case("admissions:delete", "post", lambda w: {"pk": w.record_a.pk}, REGISTRARS, {"registrar_a"}, ok=302),
    Case("admissions:import", allowed=SCHOOL),
    Case("admissions:import_jobs", allowed=SCHOOL),
    # No file: the registrar is sent back to the import page with a message.
    Case("admissions:import_upload", "post", allowed=REGISTRARS, ok=302),
    Case(
        "admissions:import_failures",
        kwargs=lambda w: {"pk": w.job_a.pk},
        allowed=REGISTRARS,
        in_scope={"registrar_a"},
    ),
    # A finished job is not re-run: the registrar is told so on the import page.
    Case("admissions:import_rerun", "post", lambda w: {"pk": w.job_a.pk}, REGISTRARS, {"registrar_a"}, ok=302),
    # No file: the registrar is sent back with a message; other roles never check files.
    Case("admissions:precheck", "post", allowed=REGISTRARS, ok=302),
    # A token that is not in this user's session is not found, whoever asks.
    Case("admissions:precheck_annotated", kwargs=lambda w: {"token": "not-yours"}, allowed=REGISTRARS, in_scope=set()),
    Case("reconcile:index", allowed=ALL),
    Case("reconcile:index", allowed=ALL, data={"category": "no_roster"}),
    # No roster loaded in the world: everyone allowed is sent back to the page with a message.
    Case("reconcile:export", allowed=ALL, ok=302),
    Case("reconcile:roster", allowed=CITY),
    # No file: the city is sent back to the roster page with a message.
    Case("reconcile:roster_upload", "post", allowed=CITY, ok=302),
    Case(
        "reconcile:roster_detail",
        kwargs=lambda w: {"pk": _roster_entry(w).load_id},
        allowed=CITY,
        in_scope={"city_admin"},
    ),
    Case(
        "reconcile:roster_correct", kwargs=lambda w: {"pk": _roster_entry(w).pk}, allowed=CITY, in_scope={"city_admin"}
    ),
    Case("reconcile:roster_correction_evidence", kwargs=_roster_correction, allowed=CITY, in_scope={"city_admin"}),
    Case("reconcile:name_changes", allowed=SCHOOL | REVIEWERS),
    Case(
        "reconcile:name_change_new",
        kwargs=lambda w: {"student_pk": w.student_a.pk},
        allowed=REGISTRARS,
        in_scope={"registrar_a"},
    ),
    # No file: the form comes back with the errors, nothing is filed.
    Case(
        "reconcile:name_change_new",
        "post",
        lambda w: {"student_pk": w.student_a.pk},
        REGISTRARS,
        {"registrar_a"},
        {"new_name": "李晓红"},
    ),
    Case(
        "reconcile:name_change_detail",
        kwargs=lambda w: {"pk": _name_change(w).pk},
        allowed=SCHOOL | REVIEWERS,
        in_scope={"registrar_a", "leader_a", "reviewer_a"},
    ),
    Case(
        "reconcile:name_change_evidence",
        kwargs=_evidence,
        allowed=SCHOOL | REVIEWERS,
        in_scope={"registrar_a", "leader_a", "reviewer_a"},
    ),
    # No reason: the reviewer is sent back to the request with a message, nothing decided.
    Case(
        "reconcile:name_change_decide",
        "post",
        lambda w: {"pk": _name_change(w).pk},
        REVIEWERS,
        {"reviewer_a"},
        {"action": "return"},
        ok=302,
    ),
    Case("students:checkin", allowed=REGISTRARS, data={"grade": ""}),
    # Nothing ticked: the registrar is sent back with a message.
    Case("students:checkin", "post", allowed=REGISTRARS, ok=302),
    Case("students:list", allowed=ALL),
    Case("students:action", "post", allowed=REGISTRARS, data={"action": "submit"}, ok=302),
    Case(
        "students:detail",
        kwargs=lambda w: {"pk": w.student_a.pk},
        allowed=ALL,
        in_scope={"registrar_a", "leader_a", "reviewer_a", "city_admin"},
    ),
    # student_a is in review: read-only to the school, the registrar is sent to its page with the reason.
    Case(
        "students:edit",
        kwargs=lambda w: {"pk": w.student_a.pk},
        allowed=REGISTRARS,
        in_scope={"registrar_a"},
        ok=302,
    ),
    # Nothing ticked: the registrar is sent back to the list with a message.
    Case("students:batch", "post", allowed=REGISTRARS, ok=302),
    Case("students:export", allowed=ALL),
    # Only registrar_a's school has students: the file for those in scope, the page with a message for others.
    Case("students:export", "post", allowed=ALL, data={"columns": "name"}),
    Case("students:export_jobs", allowed=ALL),
    # An export is its user's alone: everyone else, whatever the role, is told it does not exist.
    Case(
        "students:export_download",
        kwargs=lambda w: {"pk": _finished_export(w).pk},
        allowed=ALL,
        in_scope={"registrar_a"},
    ),
    Case("students:review", allowed={"leader_a"} | REVIEWERS | CITY),
    Case("students:review", "post", allowed={"leader_a"} | REVIEWERS | CITY, data={"action": "approve"}, ok=302),
    Case("students:status", allowed=ALL),
    Case("students:archive", allowed=ALL),
    # No file: the registrar is sent back with a message.
    Case("students:archive", "post", allowed=REGISTRARS, ok=302),
    Case("roster:print", allowed=SCHOOL | REVIEWERS),
    Case(
        "roster:pdf",
        kwargs=lambda w: {"pk": w.school_a.pk},
        allowed=SCHOOL | REVIEWERS,
        in_scope={"registrar_a", "leader_a", "reviewer_a"},
    ),
    Case("roster:package", allowed=SCHOOL | REVIEWERS),
    # Without a school the package is the user's own: the school's, or the district's.
    Case("roster:package", "post", allowed=SCHOOL | REVIEWERS, data={"grade": "2026"}),
    Case("roster:inbox", allowed=CITY),
    # No file: the city is sent back to the page with a message.
    Case("roster:inbox", "post", allowed=CITY, ok=302),
    Case("stats:index", allowed=ALL),
    Case(
        "roster:package_download",
        kwargs=lambda w: {"pk": _received_package(w)},
        allowed=CITY,
        in_scope={"city_admin"},
    ),
    Case("reconcile:roster_jobs", allowed=CITY),
    Case("roster:package_jobs", allowed=SCHOOL | REVIEWERS),
    Case(
        "roster:package_job_download",
        kwargs=lambda w: {"pk": _built_package(w)},
        allowed=SCHOOL | REVIEWERS,
        in_scope={"registrar_a"},
    ),
]

# 年度学籍备案工作: the campaign is 北京市's; Tianjin's administrator never finds it.
CAMPAIGN_SCOPE = ALL - {"other_city_admin"}


def _campaign(w: World) -> dict[str, int]:
    return {"pk": open_campaign(w).pk}


def _campaign_file(w: World) -> dict[str, int]:
    campaign = open_campaign(w)
    return {"pk": campaign.pk, "file_pk": with_attachment(campaign).pk}


def _closed_campaign(w: World) -> dict[str, object]:
    campaign = campaign_close(actor=w.city_admin, campaign_id=open_campaign(w).pk)
    return {"pk": campaign.pk, "fmt": "xlsx"}


CASES += [
    Case("campaigns:list", allowed=ALL),
    Case("campaigns:create", allowed=CITY),
    # An empty form: the city gets it back with every missing field marked, nothing published.
    Case("campaigns:create", "post", allowed=CITY),
    Case("campaigns:detail", kwargs=_campaign, allowed=ALL, in_scope=CAMPAIGN_SCOPE),
    Case("campaigns:edit", kwargs=_campaign, allowed=CITY, in_scope={"city_admin"}),
    # No file: the city is sent back to the campaign with a message.
    Case("campaigns:attachment_add", "post", _campaign, CITY, {"city_admin"}, ok=302),
    Case("campaigns:attachment", kwargs=_campaign_file, allowed=ALL, in_scope=CAMPAIGN_SCOPE),
    Case("campaigns:attachment_remove", "post", _campaign_file, CITY, {"city_admin"}, ok=302),
    Case("campaigns:read", "post", _campaign, ALL, CAMPAIGN_SCOPE, ok=302),
    Case("campaigns:reads", kwargs=_campaign, allowed=CITY | REVIEWERS, in_scope={"city_admin"} | REVIEWERS),
    Case("campaigns:checklist", kwargs=_campaign, allowed=ALL, in_scope=CAMPAIGN_SCOPE),
    # School A is 东城's: only its reviewer ticks it; 朝阳's reviewer is told it does not exist.
    Case(
        "campaigns:school_receive",
        "post",
        lambda w: {**_campaign(w), "school_pk": w.school_a.pk},
        REVIEWERS,
        {"reviewer_a"},
        {"kind": "package", "received_on": "2025-11-01"},
        ok=302,
    ),
    Case(
        "campaigns:district_receive",
        "post",
        lambda w: {**_campaign(w), "district_pk": w.district_a.pk},
        CITY,
        {"city_admin"},
        {"kind": "package", "received_on": "2025-11-01"},
        ok=302,
    ),
    Case("campaigns:progress", kwargs=_campaign, allowed=CITY | REVIEWERS, in_scope={"city_admin"} | REVIEWERS),
    Case(
        "campaigns:progress",
        kwargs=_campaign,
        allowed=CITY | REVIEWERS,
        in_scope={"city_admin"} | REVIEWERS,
        data={"format": "xlsx", "sort": "submit"},
    ),
    Case("campaigns:close", kwargs=_campaign, allowed=CITY, in_scope={"city_admin"}),
    Case("campaigns:close", "post", _campaign, CITY, {"city_admin"}, ok=302),
    Case("campaigns:report", kwargs=_closed_campaign, allowed=CITY, in_scope={"city_admin"}),
    Case("campaigns:filed", kwargs=lambda w: {"pk": open_campaign(w).pk}, allowed=ALL, in_scope=CAMPAIGN_SCOPE),
    Case("api:tokens", allowed=ALL),
    Case("api:tokens", "post", allowed=ALL, data={"name": "教务系统对接"}),
    # A token is its user's alone: everyone else, whatever the role, is told it does not exist.
    Case("api:token_revoke", "post", lambda w: {"pk": _api_token(w)}, ALL, {"registrar_a"}, ok=302),
]

# Views reachable without logging in, and why they are not in the matrix.
PUBLIC = {"login", "logout", "healthz"}
# The JSON API (token authentication, JSON errors) has its own persona matrix: tests/api/test_matrix.py.
API_NAMESPACE = "api-v1:"


def expected_status(case: Case, persona: str) -> int:
    if persona not in case.allowed:
        return 403
    if case.in_scope is not None and persona not in case.in_scope:
        return 404
    return case.ok


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.name}:{c.method}")
def test_view_answers_each_persona_by_role_and_scope(world: World, case: Case, persona: str) -> None:
    client = world.client_for(getattr(world, persona))
    url = reverse(case.name, kwargs=case.kwargs(world) if case.kwargs else None)
    response = getattr(client, case.method)(url, case.data)
    assert response.status_code == expected_status(case, persona), (persona, url)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.name}:{c.method}")
def test_anonymous_user_is_sent_to_login(world: World, case: Case) -> None:
    from django.test import Client

    url = reverse(case.name, kwargs=case.kwargs(world) if case.kwargs else None)
    response = getattr(Client(), case.method)(url, case.data)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def _named_patterns(resolver: URLResolver, prefix: str = "") -> set[str]:
    names = set()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            namespace = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
            names |= _named_patterns(pattern, namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(prefix + pattern.name)
    return names


def test_every_url_is_in_the_matrix() -> None:
    covered = {case.name for case in CASES} | PUBLIC
    missing = {name for name in _named_patterns(get_resolver()) - covered if not name.startswith(API_NAMESPACE)}
    assert not missing, f"URL patterns without an authorization case: {sorted(missing)}"
