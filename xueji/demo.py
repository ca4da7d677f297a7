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
    demo_campaign(accounts[0], year)
    return [DemoAccount(a.username, a.get_role_display(), a.organisation_name) for a in accounts]


DEMO_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐"
DEMO_GIVEN = ["子涵", "欣怡", "浩然", "梓萱", "宇轩", "雨桐", "一诺", "思远", "佳怡", "俊杰", "明", "静", "磊", "婷"]


def demo_admission_rows(year: int, count: int = 60) -> list[dict[str, str]]:
    """Rows as a registrar of the first demo school fills the template: names, not codes; the last two
    carry the mistakes real files have (a direction the school does not have, a mistyped ID number)."""
    import random

    from stdnum.cn import ric

    rng = random.Random(year)
    rows = []
    majors = [("计算机应用", "网络应用"), ("计算机应用", "办公自动化"), ("会计事务", ""), ("中餐烹饪", "中式面点")]
    for n in range(count):
        birth = date(year - 16, 1, 1).toordinal() + rng.randrange(365)
        body = f"110101{date.fromordinal(birth):%Y%m%d}{n:03d}"
        major, direction = majors[n % len(majors)]
        unified = n % 5 != 0
        rows.append(
            {
                "姓名": rng.choice(DEMO_SURNAMES) + rng.choice(DEMO_GIVEN),
                "身份证件类型": "居民身份证",
                "身份证件号": body + ric.calc_check_digit(body + "0"),
                "民族": "汉族" if n % 9 else "满族",
                "国籍/地区": "中国",
                "健康状况": "健康或良好",
                "户口所在地行政区划": "110101",
                "户口性质": "非农业户口",
                "生源地行政区划": "110101",
                "招生方式": "统一招生" if unified else "自主招生",
                "招生对象": "应届初中毕业生",
                "学生来源": "应届",
                "准考证号": f"{year}110101{n:04d}" if unified else "",
                "考生号": f"{year % 100}110101{n:06d}" if unified else "",
                "考试总分": str(420 + rng.randrange(180)) if unified else "",
                "专业": major,
                "专业方向": direction,
                "学制": "三年制",
                "入学年月": f"{year}-09",
                "学习形式": "全日制",
                "就读方式": "走读" if n % 3 else "住校",
                "学生类别": "普通中专学生",
                "年级": str(year),
                "联系电话": f"139{rng.randrange(10**8):08d}",
                "监护人姓名": rng.choice(DEMO_SURNAMES) + rng.choice(DEMO_GIVEN),
                "与学生关系": "父亲" if n % 2 else "母亲",
                "监护人联系电话": f"138{rng.randrange(10**8):08d}",
            }
        )
    rows[-2]["专业方向"] = "云计算"
    rows[-1]["身份证件号"] = rows[-1]["身份证件号"][:-1] + ("0" if rows[-1]["身份证件号"][-1] != "0" else "1")
    return rows


def demo_admissions(intake_year: int | None = None) -> int:
    """Import a small admission list for the first demo school, through the real import, once; returns the
    number of rows imported (0 when it was done before)."""
    import tempfile
    from pathlib import Path

    import xlsxwriter

    from xueji.admissions.imports import import_job_create, import_job_run
    from xueji.admissions.models import ImportJob

    year = intake_year or date.today().year
    school = School.objects.get(code=DEMO_SCHOOLS[0][1])
    if ImportJob.objects.filter(school=school).exists():
        return 0
    rows = demo_admission_rows(year)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{year}级新生名单.xlsx"
        workbook = xlsxwriter.Workbook(str(path))
        sheet = workbook.add_worksheet("学生信息")
        header = list(rows[0])
        sheet.write_row(0, 0, header)
        for index, row in enumerate(rows, start=1):
            for col, key in enumerate(header):
                sheet.write_string(index, col, row[key])
        workbook.close()
        registrar = User.objects.get(username=f"xj{school.code}")
        with path.open("rb") as stream:
            job = import_job_create(actor=registrar, school=school, stream=stream, file_name=path.name, enqueue=False)
    job = import_job_run(job.pk)
    return job.created_count + job.updated_count


def demo_campaign(city_admin: User, year: int) -> None:
    """One open 年度学籍备案 campaign for the intake, its deadlines counted from today (once)."""
    from datetime import timedelta

    from xueji.campaigns.models import Campaign
    from xueji.campaigns.services import CampaignInput, campaign_open

    if Campaign.objects.filter(city_id=city_admin.region_id, intake_year=year).exists():
        return
    today = date.today()
    campaign_open(
        actor=city_admin,
        data=CampaignInput(
            title=f"{year}年度新生学籍备案",
            intake_year=year,
            notice=(
                "各区县教委、各中等职业学校：\n"
                f"现启动{year}年度中等职业学校新生学籍备案工作。请各校按采集指标说明录入并提交新生学籍，"
                "打印经主管校长签字、加盖校章的新生名单（一式三份），连同上报盘、录取名册页和改名证明材料报送所在区县；"
                "各区县审核后在规定时间内向市级报送。截止后仍可办理，但记为逾期。"
            ),
            contacts=[
                {"name": "张老师", "phone": "010-66001234", "note": "市教委信息中心"},
                {"name": "李老师", "phone": "010-66005678", "note": "系统使用"},
            ],
            school_submit_by=today + timedelta(days=14),
            school_materials_by=today + timedelta(days=21),
            district_review_by=today + timedelta(days=28),
            district_filing_from=today + timedelta(days=31),
            district_filing_until=today + timedelta(days=33),
        ),
    )
