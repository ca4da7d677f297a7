"""基础信息: the city's districts, a district's schools, a school's majors, directions, grades, classes, terms."""

from __future__ import annotations

from django.urls import reverse

from tests.conftest import World
from xueji.audit.models import AuditEvent
from xueji.orgs.models import Direction, Grade, MajorOffering, Region, School, SchoolClass, Term
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
    assert "正在使用中（1个班级、1条招生信息）" in response.content.decode()
    assert MajorOffering.objects.filter(pk=world.offering_a.pk).exists()
    world.class_a.delete()
    response = client.post(reverse("orgs:offering_remove", args=[world.offering_a.pk]), follow=True)
    assert "正在使用中（1条招生信息）" in response.content.decode()
    world.record_a.delete()
    client.post(reverse("orgs:offering_remove", args=[world.offering_a.pk]))
    assert not MajorOffering.objects.filter(pk=world.offering_a.pk).exists()
    assert not Direction.objects.filter(pk=world.direction_a.pk).exists()


def test_class_whose_major_the_school_does_not_offer_is_refused(world: World) -> None:
    client = world.client_for(world.registrar_a)
    response = client.post(
        reverse("orgs:class_create"),
        {"grade": world.grade_a.pk, "offering": world.offering_c.pk, "name": "借用班", "head_teacher": ""},
    )
    assert response.status_code == 200
    assert "本校未开设该专业" in response.content.decode()
    assert not SchoolClass.objects.filter(name="借用班").exists()


def test_class_name_is_unique_within_a_grade(world: World) -> None:
    client = world.client_for(world.registrar_a)
    data = {"grade": world.grade_a.pk, "offering": world.offering_a.pk, "name": world.class_a.name}
    response = client.post(reverse("orgs:class_create"), data)
    assert "已有班级" in response.content.decode()
    data["name"] = "2026级2班"
    assert client.post(reverse("orgs:class_create"), data).status_code == 302


def test_grade_with_classes_cannot_be_deleted_and_years_are_bounded(world: World) -> None:
    client = world.client_for(world.registrar_a)
    response = client.post(reverse("orgs:grade_remove", args=[world.grade_a.pk]), follow=True)
    assert "下还有班级" in response.content.decode()
    assert client.post(reverse("orgs:grade_list"), {"year": "2025"}).status_code == 302
    assert Grade.objects.filter(school=world.school_a, year=2025).exists()
    again = client.post(reverse("orgs:grade_list"), {"year": "2025"})
    assert "2025级已存在" in again.content.decode()


def test_only_one_current_term_per_school(world: World) -> None:
    client = world.client_for(world.registrar_a)
    data = {"start_year": "2026", "half": "2", "starts_on": "2027-02-20", "ends_on": "2027-07-10", "is_current": "on"}
    assert client.post(reverse("orgs:term_create"), data).status_code == 302
    current = Term.objects.filter(school=world.school_a, is_current=True)
    assert [t.half for t in current] == [2]
    # Another school's current term is untouched.
    assert Term.objects.get(pk=world.term_c.pk).is_current


def test_term_dates_must_be_in_order(world: World) -> None:
    data = {"start_year": "2027", "half": "1", "starts_on": "2027-09-01", "ends_on": "2027-08-01"}
    response = world.client_for(world.registrar_a).post(reverse("orgs:term_create"), data)
    assert "结束日期应晚于开始日期" in response.content.decode()


def test_school_leader_sees_basic_info_read_only(world: World) -> None:
    client = world.client_for(world.leader_a)
    page = client.get(reverse("orgs:offering_list")).content.decode()
    assert "计算机应用" in page and "添加方向" not in page
    major = CatalogMajor.objects.get(code="710202")
    assert client.post(reverse("orgs:offering_list"), {"major": major.pk}).status_code == 403
    assert client.post(reverse("orgs:grade_list"), {"year": "2024"}).status_code == 403


def test_direction_in_use_cannot_be_deleted(world: World) -> None:
    client = world.client_for(world.registrar_a)
    response = client.post(reverse("orgs:direction_remove", args=[world.direction_a.pk]), follow=True)
    assert "专业方向“网络应用”正在使用中（1条招生信息），不能删除" in response.content.decode()
    assert Direction.objects.filter(pk=world.direction_a.pk).exists()
