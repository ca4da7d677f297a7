"""Shared fixtures: reference data loaded once, and the personas every authorization test runs against."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from django.test import Client

from xueji.admissions.imports import imports_dir
from xueji.admissions.models import AdmissionRecord, ImportJob
from xueji.orgs.models import Direction, Grade, MajorOffering, Region, Role, School, SchoolClass, Term, User
from xueji.reference.models import CatalogMajor
from xueji.reference.services import reference_load
from xueji.students.models import State, Student

PASSWORD = "Persona-pass-2026"
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    with django_db_blocker.unblock():
        reference_load()


@pytest.fixture(autouse=True)
def _fast_hasher(settings):  # type: ignore[no-untyped-def]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class World:
    city: Region
    other_city: Region
    district_a: Region
    district_b: Region
    school_a: School
    school_b: School
    school_c: School
    offering_a: MajorOffering
    offering_c: MajorOffering
    direction_a: Direction
    grade_a: Grade
    grade_c: Grade
    class_a: SchoolClass
    class_c: SchoolClass
    term_a: Term
    term_c: Term
    registrar_a: User
    leader_a: User
    registrar_b: User
    registrar_c: User
    reviewer_a: User
    reviewer_b: User
    city_admin: User
    other_city_admin: User
    record_a: AdmissionRecord  # 待报到 at school A
    job_a: ImportJob  # done at school A, with a failure workbook
    student_a: Student  # checked in at school A, 审核中 at the school level

    def client_for(self, user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client


def make_user(
    username: str,
    role: Role,
    *,
    region: Region | None = None,
    school: School | None = None,
    must_change_password: bool = False,
) -> User:
    user = User(username=username, role=role, region=region, school=school, must_change_password=must_change_password)
    user.set_password(PASSWORD)
    user.save()
    return user


def make_school(code: str, name: str, district: Region) -> School:
    return School.objects.create(code=code, name=name, district=district, ownership=School.Ownership.PUBLIC)


def make_setup(school: School, major_code: str, year: int = 2026) -> tuple[MajorOffering, Grade, SchoolClass, Term]:
    offering = MajorOffering.objects.create(school=school, major=CatalogMajor.objects.get(code=major_code))
    grade = Grade.objects.create(school=school, year=year)
    school_class = SchoolClass.objects.create(school=school, grade=grade, offering=offering, name=f"{year}级1班")
    term = Term.objects.create(
        school=school,
        start_year=year,
        half=1,
        starts_on=date(year, 9, 1),
        ends_on=date(year + 1, 1, 20),
        is_current=True,
    )
    return offering, grade, school_class, term


def school_a_from_scratch() -> tuple[Region, Region, School]:
    """Beijing, 东城 and school A (计算机应用 with the direction 网络应用, 2026级, 2026级1班) for a transactional
    test, which starts from empty tables: (city, district, school)."""
    reference_load()
    city = Region.objects.create(code="110000", name="北京市", kind=Region.Kind.CITY)
    district = Region.objects.create(code="110101", name="东城区", kind=Region.Kind.DISTRICT, parent=city)
    school = make_school("3111010001", "东城职业教育中心", district)
    offering, *_ = make_setup(school, "710201")
    Direction.objects.create(offering=offering, name="网络应用")
    return city, district, school


def _reset_task_backends() -> None:
    from asgiref.local import Local
    from django_tasks import task_backends

    task_backends.__dict__.pop("settings", None)
    task_backends._connections = Local(task_backends.thread_critical)


@pytest.fixture
def immediate_tasks(settings) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """Tasks run inline at enqueue (the embedded worker's job, done synchronously)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    _reset_task_backends()
    yield
    _reset_task_backends()


@pytest.fixture
def world(db) -> World:  # type: ignore[no-untyped-def]
    """Beijing with 东城 (schools A and B) and 朝阳 (school C), and Tianjin as another city on the install."""
    city = Region.objects.create(code="110000", name="北京市", kind=Region.Kind.CITY)
    other_city = Region.objects.create(code="120000", name="天津市", kind=Region.Kind.CITY)
    district_a = Region.objects.create(code="110101", name="东城区", kind=Region.Kind.DISTRICT, parent=city)
    district_b = Region.objects.create(code="110105", name="朝阳区", kind=Region.Kind.DISTRICT, parent=city)
    Region.objects.create(code="120101", name="和平区", kind=Region.Kind.DISTRICT, parent=other_city)
    school_a = make_school("3111010001", "东城职业教育中心", district_a)
    school_b = make_school("3111010002", "东城商务职高", district_a)
    school_c = make_school("3111050001", "朝阳汽车职高", district_b)
    offering_a, grade_a, class_a, term_a = make_setup(school_a, "710201")
    direction_a = Direction.objects.create(offering=offering_a, name="网络应用")
    make_setup(school_b, "730301")
    offering_c, grade_c, class_c, term_c = make_setup(school_c, "700206")
    registrar_a = make_user("registrar_a", Role.REGISTRAR, school=school_a)
    record_a = AdmissionRecord.objects.create(
        school=school_a,
        grade=2026,
        name="王小明",
        id_type="1",
        id_number="110101201003070011",
        gender="1",
        birth_date=date(2010, 3, 7),
        offering=offering_a,
        direction=direction_a,
        admission_method="1",
        data={"name": "王小明", "id_type": "1", "id_number": "110101201003070011", "phone": "13800138000"},
    )
    job_a = ImportJob.objects.create(
        school=school_a,
        uploaded_by=registrar_a,
        original_name="名单.xlsx",
        stored_name="world-job-a.xlsx",
        status=ImportJob.Status.DONE,
        total_rows=3,
        created_count=2,
        failed_count=1,
        failure_file="world-job-a-failures.xlsx",
    )
    (imports_dir() / job_a.failure_file).write_bytes(b"PK placeholder for the failures workbook")
    checked_in = AdmissionRecord.objects.create(
        school=school_a,
        grade=2026,
        name="李小红",
        id_type="1",
        id_number="110101201005120027",
        gender="2",
        birth_date=date(2010, 5, 12),
        offering=offering_a,
        direction=direction_a,
        admission_method="1",
        state=AdmissionRecord.State.CHECKED_IN,
        data={"name": "李小红", "id_type": "1", "id_number": "110101201005120027", "phone": "13900139001"},
    )
    student_a = Student.objects.create(
        school=school_a,
        admission=checked_in,
        grade=2026,
        school_class=class_a,
        name="李小红",
        id_type="1",
        id_number="110101201005120027",
        gender="2",
        birth_date=date(2010, 5, 12),
        offering=offering_a,
        direction=direction_a,
        admission_method="1",
        data=checked_in.data,
        state=State.REVIEW_SCHOOL,
    )
    return World(
        city=city,
        other_city=other_city,
        district_a=district_a,
        district_b=district_b,
        school_a=school_a,
        school_b=school_b,
        school_c=school_c,
        offering_a=offering_a,
        offering_c=offering_c,
        direction_a=direction_a,
        grade_a=grade_a,
        grade_c=grade_c,
        class_a=class_a,
        class_c=class_c,
        term_a=term_a,
        term_c=term_c,
        registrar_a=registrar_a,
        leader_a=make_user("leader_a", Role.SCHOOL_LEADER, school=school_a),
        registrar_b=make_user("registrar_b", Role.REGISTRAR, school=school_b),
        registrar_c=make_user("registrar_c", Role.REGISTRAR, school=school_c),
        reviewer_a=make_user("reviewer_a", Role.DISTRICT_REVIEWER, region=district_a),
        reviewer_b=make_user("reviewer_b", Role.DISTRICT_REVIEWER, region=district_b),
        city_admin=make_user("city_admin", Role.CITY_ADMIN, region=city),
        other_city_admin=make_user("tianjin_admin", Role.CITY_ADMIN, region=other_city),
        record_a=record_a,
        job_a=job_a,
        student_a=student_a,
    )


PERSONAS = ["registrar_a", "leader_a", "registrar_b", "reviewer_a", "reviewer_b", "city_admin", "other_city_admin"]


@pytest.fixture
def browser(monkeypatch):  # type: ignore[no-untyped-def]
    # Playwright's sync API runs an event loop in this thread; the ORM calls the test makes around it are
    # ordinary synchronous calls, which Django would otherwise refuse inside a running loop.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    if not Path(CHROMIUM).exists():
        if os.environ.get("XUEJI_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is missing: the test command must install Debian's chromium")
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-quic",
                "--no-first-run",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield instance
        instance.close()


def browser_login(page, base_url: str, username: str) -> None:  # type: ignore[no-untyped-def]
    """Sign ``username`` in on ``page`` (signing out whoever was), landing on the home page."""
    page.context.clear_cookies()
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")
