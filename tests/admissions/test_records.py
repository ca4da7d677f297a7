"""招生信息管理: the list, 新增 / 编辑 / 删除 and the ID-number helper, as the registrar and others see them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.admissions.helpers import person_id, school_a_row
from tests.conftest import World
from xueji.admissions.models import AdmissionRecord
from xueji.admissions.selectors import mask_id_number
from xueji.admissions.services import admission_save
from xueji.audit.models import AuditEvent


def form_data(row: dict[str, object]) -> dict[str, str]:
    return {k: str(v) for k, v in row.items()}


def test_registrar_adds_a_student_and_finds_it_in_the_list(world: World) -> None:
    client = world.client_for(world.registrar_a)
    page = client.get(reverse("admissions:add")).content.decode()
    assert "★</span>姓名" in page and "★</span>身份证件号" in page
    assert '<option value="710201">' in page  # the school's own major as a drop-down
    row = school_a_row(1, name="李四")
    response = client.post(reverse("admissions:add"), form_data(row), follow=True)
    assert "已新增：李四" in response.content.decode()
    record = AdmissionRecord.objects.get(id_number=row["id_number"])
    assert (record.school, record.grade, record.direction, record.gender) == (
        world.school_a,
        2026,
        world.direction_a,
        "2",  # derived from the number (its 17th digit is even)
    )
    assert record.data["ethnicity"] == "01"  # stored as the code, typed as 汉族
    listing = client.get(reverse("admissions:index"), {"q": "李四"}).content.decode()
    assert str(row["id_number"]) in listing  # the registrar sees the full number
    assert AuditEvent.objects.filter(action="admission.create", object_id=str(record.pk)).exists()


def test_errors_are_shown_next_to_the_field_and_nothing_is_saved(world: World) -> None:
    client = world.client_for(world.registrar_a)
    row = school_a_row(2, direction="云计算", id_number="110105201003020011")
    page = client.post(reverse("admissions:add"), form_data(row)).content.decode()
    assert "校验位错误" in page
    assert "“云计算”不是本校该专业的专业方向，可选：网络应用" in page
    assert 'id="row-direction"' in page and "has-error" in page
    assert not AdmissionRecord.objects.filter(name=row["name"]).exists()


def test_unified_admission_needs_exam_fields_self_recruited_does_not(world: World) -> None:
    client = world.client_for(world.registrar_a)
    row = school_a_row(3, exam_ticket_no="", candidate_no="", exam_score="")
    page = client.post(reverse("admissions:add"), form_data(row)).content.decode()
    assert "准考证号不能为空" in page
    row["admission_method"] = "自主招生"
    client.post(reverse("admissions:add"), form_data(row))
    assert AdmissionRecord.objects.filter(id_number=row["id_number"]).exists()


def test_same_person_at_another_school_is_refused_with_a_reason_for_the_district(world: World) -> None:
    client = world.client_for(world.registrar_b)
    row = school_a_row(4, id_number=world.record_a.id_number, major="会计事务", direction="", class_name="")
    page = client.post(reverse("admissions:add"), form_data(row)).content.decode()
    assert "已在“东城职业教育中心”（东城区，学校标识码3111010001）登记了招生信息" in page
    assert AdmissionRecord.objects.filter(id_number=world.record_a.id_number).count() == 1


def test_edit_changes_the_record_and_audits_before_and_after(world: World) -> None:
    client = world.client_for(world.registrar_a)
    row = school_a_row(5, name="赵五")
    client.post(reverse("admissions:add"), form_data(row))
    record = AdmissionRecord.objects.get(id_number=row["id_number"])
    page = client.get(reverse("admissions:edit", args=[record.pk])).content.decode()
    assert 'value="赵五"' in page
    row["name"] = "赵武"
    client.post(reverse("admissions:edit", args=[record.pk]), form_data(row))
    record.refresh_from_db()
    assert record.name == "赵武"
    event = AuditEvent.objects.get(action="admission.update", object_id=str(record.pk))
    assert (event.before["name"], event.after["name"]) == ("赵五", "赵武")


def test_checked_in_record_can_be_neither_edited_nor_deleted(world: World) -> None:
    AdmissionRecord.objects.filter(pk=world.record_a.pk).update(state=AdmissionRecord.State.CHECKED_IN)
    client = world.client_for(world.registrar_a)
    assert client.get(reverse("admissions:edit", args=[world.record_a.pk])).status_code == 403
    assert client.post(reverse("admissions:delete", args=[world.record_a.pk])).status_code == 403
    assert AdmissionRecord.objects.filter(pk=world.record_a.pk).exists()


def test_delete_removes_a_pending_record(world: World) -> None:
    client = world.client_for(world.registrar_a)
    response = client.post(reverse("admissions:delete", args=[world.record_a.pk]), follow=True)
    assert "已删除：王小明" in response.content.decode()
    assert not AdmissionRecord.objects.filter(pk=world.record_a.pk).exists()
    assert AuditEvent.objects.filter(action="admission.delete").exists()


def test_id_numbers_are_masked_for_everyone_but_the_registrar(world: World) -> None:
    number = world.record_a.id_number
    for persona in ("leader_a", "reviewer_a", "city_admin"):
        client = world.client_for(getattr(world, persona))
        listing = client.get(reverse("admissions:index")).content.decode()
        assert "王小明" in listing and number not in listing and mask_id_number(number) in listing
        detail = client.get(reverse("admissions:detail", args=[world.record_a.pk])).content.decode()
        assert number not in detail and "13800138000" not in detail
    detail = world.client_for(world.registrar_a).get(reverse("admissions:detail", args=[world.record_a.pk]))
    assert number in detail.content.decode() and "13800138000" in detail.content.decode()


def test_district_sees_its_schools_only(world: World) -> None:
    assert "王小明" in world.client_for(world.reviewer_a).get(reverse("admissions:index")).content.decode()
    assert "王小明" not in world.client_for(world.reviewer_b).get(reverse("admissions:index")).content.decode()


@pytest.mark.parametrize(
    ("params", "found"),
    [
        ({"state": "pending"}, True),
        ({"state": "checked_in"}, False),
        ({"grade": "2026"}, True),
        ({"grade": "2025"}, False),
        ({"method": "1"}, True),
        ({"method": "2"}, False),
        ({"q": "王小"}, True),
        ({"q": "李"}, False),
        ({"q": "11010120100307001 1"}, True),  # an ID number typed with a space in it
        ({"q": "110105201003070011"}, False),
    ],
)
def test_list_filters(world: World, params: dict[str, str], found: bool) -> None:
    page = world.client_for(world.registrar_a).get(reverse("admissions:index"), params).content.decode()
    assert ("王小明" in page) is found


def test_list_pages_by_keyset_without_losing_or_repeating_rows(world: World) -> None:
    for serial in range(1, 121):
        result = admission_save(actor=world.registrar_a, school=world.school_a, raw=school_a_row(serial))
        assert result.ok, result.errors
    client = world.client_for(world.registrar_a)
    seen: list[str] = []
    url = reverse("admissions:index") + "?grade=2026&state=pending"
    pages = 0
    while url:
        response = client.get(url)
        page = response.content.decode()
        seen += [r.id_number for r in response.context["rows"]]
        pages += 1
        next_url = response.context["next_url"]
        url = reverse("admissions:index") + next_url if next_url else ""
        assert "共 121 条" in page
    assert pages == 3
    assert len(seen) == len(set(seen)) == 121


def test_typing_the_id_number_fills_the_derived_fields(world: World) -> None:
    client = world.client_for(world.registrar_a)
    number = person_id(7)
    response = client.post(
        reverse("admissions:form_refresh"),
        {"id_type": "1", "id_number": number, "major": "710201"},
        HTTP_HX_REQUEST="true",
    )
    page = response.content.decode()
    assert "证件号有效" in page
    assert 'hx-swap-oob="true"' in page
    assert f'value="{number[6:10]}-{number[10:12]}-{number[12:14]}"' in page  # 出生日期
    assert '<option value="2" selected>女</option>' in page or '<option value="1" selected>男</option>' in page
    assert 'value="110105"' in page  # 户口所在地 suggested from the number
    assert '<option value="网络应用">网络应用</option>' in page  # the chosen major's directions
    bad = client.post(reverse("admissions:form_refresh"), {"id_type": "1", "id_number": number[:-1] + "0"})
    assert "校验位错误" in bad.content.decode()


def test_a_value_typed_by_the_user_is_not_overwritten_by_the_derived_one(world: World) -> None:
    client = world.client_for(world.registrar_a)
    response = client.post(
        reverse("admissions:form_refresh"), {"id_type": "1", "id_number": person_id(8), "household_region": "110101"}
    )
    assert 'value="110101"' in response.content.decode()
