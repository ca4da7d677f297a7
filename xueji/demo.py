"""Demo data: real Beijing district codes, schools with real catalog majors, one account per role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import transaction

from xueji.orgs.models import Direction, Grade, MajorOffering, Region, Role, School, SchoolClass, Term, User
from xueji.orgs.services import city_create
from xueji.reference.models import CatalogMajor
from xueji.reference.selectors import current_area

DEMO_PASSWORD = "Xueji-demo-2026"

# (district code, school code, name, ownership, {major code: [directions]})
DEMO_SCHOOLS = [
    (
        "110101",
        "3111010001",
        "北京市东城区职业教育中心学校",
        School.Ownership.PUBLIC,
        {"710201": ["网络应用", "办公自动化"], "730301": [], "740201": ["中式面点"]},
    ),
    (
        "110101",
        "3111010002",
        "北京市东城区商务职业高级中学",
        School.Ownership.PUBLIC,
        {"730701": ["跨境电商"], "740101": []},
    ),
    (
        "110105",
        "3111050001",
        "北京市朝阳区汽车职业高级中学",
        School.Ownership.PUBLIC,
        {"700206": ["汽车维修", "汽车钣金"], "700209": [], "660103": []},
    ),
    ("110108", "3111080001", "北京市海淀区卫生职业学校", School.Ownership.PUBLIC, {"720201": ["老年护理", "母婴护理"]}),
    (
        "110108",
        "3111080002",
        "北京海淀华育职业技术学校",
        School.Ownership.PRIVATE,
        {"710203": [], "710204": ["影视动画"]},
    ),
]


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    organisation: str


def _account(username: str, role: Role, *, region: Region | None = None, school: School | None = None) -> User:
    user, _ = User.objects.get_or_create(username=username, defaults={"role": role, "region": region, "school": school})
    user.role, user.region, user.school = role, region, school
    user.full_name = user.full_name or f"演示{role.label}"
    user.set_password(DEMO_PASSWORD)
    user.must_change_password = False  # demo accounts are printed; a real issued account must change it
    user.is_active = True
    user.save()
    return user


@transaction.atomic
def demo_seed(intake_year: int | None = None) -> list[DemoAccount]:
    """Create (or refresh) the demo city, districts, schools and accounts. Safe to run repeatedly."""
    year = intake_year or date.today().year
    city = city_create(code="110000")
    accounts = [_account("city", Role.CITY_ADMIN, region=city)]
    for district_code in sorted({row[0] for row in DEMO_SCHOOLS}):
        area = current_area(district_code)
        assert area is not None
        district, _ = Region.objects.get_or_create(
            code=district_code, defaults={"name": area.name, "kind": Region.Kind.DISTRICT, "parent": city}
        )
        accounts.append(_account(f"qx{district_code}", Role.DISTRICT_REVIEWER, region=district))
    for district_code, code, name, ownership, majors in DEMO_SCHOOLS:
        school, _ = School.objects.get_or_create(
            code=code,
            defaults={"name": name, "ownership": ownership, "district": Region.objects.get(code=district_code)},
        )
        grade, _ = Grade.objects.get_or_create(school=school, year=year)
        Grade.objects.get_or_create(school=school, year=year - 1)
        for n, (major_code, directions) in enumerate(majors.items(), start=1):
            offering, _ = MajorOffering.objects.get_or_create(
                school=school, major=CatalogMajor.objects.get(code=major_code)
            )
            for direction in directions:
                Direction.objects.get_or_create(offering=offering, name=direction)
            SchoolClass.objects.get_or_create(
                school=school,
                grade=grade,
                name=f"{year % 100:02d}{offering.major.name}{n}班",
                defaults={"offering": offering},
            )
        if not Term.objects.filter(school=school).exists():
            Term.objects.create(
                school=school,
                start_year=year,
                half=Term.Half.FIRST,
                starts_on=date(year, 9, 1),
                ends_on=date(year + 1, 1, 20),
                is_current=True,
            )
            Term.objects.create(
                school=school,
                start_year=year,
                half=Term.Half.SECOND,
                starts_on=date(year + 1, 2, 20),
                ends_on=date(year + 1, 7, 10),
            )
        accounts.append(_account(f"xl{code}", Role.SCHOOL_LEADER, school=school))
        accounts.append(_account(f"xj{code}", Role.REGISTRAR, school=school))
    return [DemoAccount(a.username, a.get_role_display(), a.organisation_name) for a in accounts]
