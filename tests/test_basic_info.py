"""基础信息: the city's districts, a district's schools, a school's majors, directions, grades, classes, terms."""

from __future__ import annotations

from django.urls import reverse

from tests.conftest import World
from xueji.admissions.models import AdmissionRecord
from xueji.audit.models import AuditEvent
from xueji.orgs.models import Direction, Grade, MajorOffering, Region, School, SchoolClass
from xueji.reference.models import CatalogMajor


def test_city_adds_a_current_district_of_its_own_city(world: World) -> None:
    client = world.client_for(world.city_admin)
    page = client.get(reverse("orgs:district_list")).content.decode()
    assert "110108 海淀区" in page  # offered: a current Beijing district not yet added
    assert "110103" not in page  # 崇文区 was abolished in 2010
    response = client.post(reverse("orgs:district_list"), {"code": "110108"})
    assert response.status_code == 302
    assert Region.objects.get(code="110108").parent == world.city


def test_city_cannot_add_another_citys_district(world: World) -> None:
    response = world.client_for(world.city_admin).post(reverse("orgs:district_list"), {"code": "120102"})
    assert response.status_code == 200
    assert not Region.objects.filter(code="120102").exists()
    assert response.context["form"].errors["code"]


def _school_post(**overrides: str) -> dict[str, str]:
    data = {"code": "3111010009", "name": "东城新职高", "ownership": "public", "address": "", "contact_phone": ""}
    data["is_active"] = "on"
    data.update(overrides)
    return data


def test_district_creates_a_school_in_its_own_district(world: World) -> None:
    response = world.client_for(world.reviewer_a).post(reverse("orgs:school_create"), _school_post())
    assert response.status_code == 302
    school = School.objects.get(code="3111010009")
    assert school.district == world.district_a
    assert AuditEvent.objects.filter(action="school.create", object_id=str(school.pk)).exists()


def test_wrong_school_code_is_refused_next_to_the_field(world: World) -> None:
    response = world.client_for(world.reviewer_a).post(reverse("orgs:school_create"), _school_post(code="31110A"))
    assert response.status_code == 200
    assert "学校标识码应为10位数字" in str(response.context["form"].errors["code"])
    assert not School.objects.filter(name="东城新职高").exists()


def test_duplicate_school_code_names_the_school_that_has_it(world: World) -> None:
    response = world.client_for(world.reviewer_b).post(
        reverse("orgs:school_create"), _school_post(code=world.school_a.code)
    )
    assert "已被“东城职业教育中心”使用" in response.content.decode()


def test_district_edits_its_school_but_not_another_districts(world: World) -> None:
    client = world.client_for(world.reviewer_a)
    data = _school_post(code=world.school_b.code, name="东城商务职业高级中学")
    assert client.post(reverse("orgs:school_edit", args=[world.school_b.pk]), data).status_code == 302
    world.school_b.refresh_from_db()
    assert world.school_b.name == "东城商务职业高级中学"
    data = _school_post(code=world.school_c.code, name="被篡改")
    assert client.post(reverse("orgs:school_edit", args=[world.school_c.pk]), data).status_code == 404
    world.school_c.refresh_from_db()
    assert world.school_c.name == "朝阳汽车职高"


def test_city_sees_schools_filtered_by_district(world: World) -> None:
    client = world.client_for(world.city_admin)
    page = client.get(reverse("orgs:school_list"), {"district": world.district_b.pk}).content.decode()
    assert "朝阳汽车职高" in page and "东城职业教育中心" not in page


def test_registrar_offers_a_catalog_major_and_adds_directions(world: World) -> None:
    client = world.client_for(world.registrar_a)
    major = CatalogMajor.objects.get(code="710202")
    assert client.post(reverse("orgs:offering_list"), {"major": major.pk}).status_code == 302
    offering = MajorOffering.objects.get(school=world.school_a, major=major)
    client.post(reverse("orgs:direction_add", args=[offering.pk]), {"name": "  网络 安全 "})
    assert list(offering.directions.values_list("name", flat=True)) == ["网络 安全"]
    duplicate = client.post(reverse("orgs:direction_add", args=[offering.pk]), {"name": "网络 安全"}, follow=True)
    assert "已有方向“网络 安全”" in duplicate.content.decode()
    assert offering.directions.count() == 1


def test_major_already_offered_is_not_offered_again(world: World) -> None:
    client = world.client_for(world.registrar_a)
    response = client.post(reverse("orgs:offering_list"), {"major": world.offering_a.major.pk})
    assert response.status_code == 200
    assert MajorOffering.objects.filter(school=world.school_a).count() == 1


def test_major_in_use_cannot_be_deleted(world: World) -> None:
    client = world.client_for(world.registrar_a)
    response = client.post(reverse("orgs:offering_remove", args=[world.offering_a.pk]), follow=True)
    assert "正在使用中（1个班级、2条招生信息、1名学生）" in response.content.decode()
    assert MajorOffering.objects.filter(pk=world.offering_a.pk).exists()
    unused = MajorOffering.objects.create(school=world.school_a, major=CatalogMajor.objects.get(code="730301"))
    Direction.objects.create(offering=unused, name="智能财税")
    client.post(reverse("orgs:offering_remove", args=[unused.pk]))
    assert not MajorOffering.objects.filter(pk=unused.pk).exists()
    assert not Direction.objects.filter(offering_id=unused.pk).exists()


def test_class_and_grade_in_use_cannot_be_deleted(world: World) -> None:
    client = world.client_for(world.registrar_a)
    response = client.post(reverse("orgs:class_remove", args=[world.class_a.pk]), follow=True)
    assert "班级“2026级1班”正在使用中（1名学生），不能删除" in response.content.decode()
    assert SchoolClass.objects.filter(pk=world.class_a.pk).exists()
    grade = Grade.objects.create(school=world.school_a, year=2025)
    AdmissionRecord.objects.filter(pk=world.record_a.pk).update(grade=2025)
    response = client.post(reverse("orgs:grade_remove", args=[grade.pk]), follow=True)
    assert "2025级正在使用中（1条招生信息、0名学生），不能删除" in response.content.decode()


def test_direction_in_use_cannot_be_deleted(world: World) -> None:
    client = world.client_for(world.registrar_a)
    response = client.post(reverse("orgs:direction_remove", args=[world.direction_a.pk]), follow=True)
    assert "专业方向“网络应用”正在使用中（2条招生信息、1名学生），不能删除" in response.content.decode()
    assert Direction.objects.filter(pk=world.direction_a.pk).exists()
