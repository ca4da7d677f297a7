"""备案记录: the frozen record of a closed campaign, browsed and exported by every account in scope, with ID numbers
and 学籍号 masked except for the registrar, unchanged by a later 改名."""

from __future__ import annotations

import io

from django.urls import reverse
from python_calamine import CalamineWorkbook

from tests.campaigns.helpers import open_campaign
from tests.conftest import World
from tests.roster.helpers import add_students
from xueji.admissions.selectors import mask_id_number, mask_student_no
from xueji.audit.models import AuditEvent
from xueji.campaigns.closing import campaign_close
from xueji.campaigns.models import Campaign
from xueji.reconcile.namechange import name_change_decide, name_change_file
from xueji.students.models import Student


def _closed(world: World) -> Campaign:
    campaign = open_campaign(world)
    return campaign_close(actor=world.city_admin, campaign_id=campaign.pk)


def _page(world: World, user: object, campaign: Campaign, **params: str) -> str:
    response = world.client_for(user).get(reverse("campaigns:filed", args=[campaign.pk]), params)
    assert response.status_code == 200
    return response.content.decode()


def test_an_open_campaign_has_no_filed_record_yet(world: World) -> None:
    add_students(world, 2)
    campaign = open_campaign(world)
    assert "暂无备案记录" in _page(world, world.registrar_a, campaign)


def test_each_account_sees_the_filed_students_of_its_scope_masked_as_everywhere(world: World) -> None:
    students = add_students(world, 3, start=300)
    campaign = _closed(world)
    first = students[0]
    registrar = _page(world, world.registrar_a, campaign)
    assert "共 3 人" in registrar and first.id_number in registrar and first.student_no in registrar
    for user in (world.leader_a, world.reviewer_a, world.city_admin):
        page = _page(world, user, campaign)
        assert "共 3 人" in page and first.name in page
        assert first.id_number not in page and mask_id_number(first.id_number) in page
        assert mask_student_no(first.student_no) in page
    # 朝阳's reviewer has no school of 东城 in scope: the same campaign, none of school A's students.
    assert "共 0 人" in _page(world, world.reviewer_b, campaign)
    # Another school's registrar sees only its own school.
    assert "共 0 人" in _page(world, world.registrar_b, campaign)


def test_a_school_outside_the_scope_cannot_be_chosen(world: World) -> None:
    campaign = _closed(world)
    client = world.client_for(world.reviewer_b)
    response = client.get(reverse("campaigns:filed", args=[campaign.pk]), {"school": world.school_a.pk})
    assert response.status_code == 404


def test_a_name_change_after_the_close_leaves_the_record_as_filed(world: World) -> None:
    student = add_students(world, 1, start=400)[0]
    filed_name = student.name
    campaign = _closed(world)
    change = name_change_file(
        student=student,
        actor=world.registrar_a,
        new_name="王新名",
        evidence_kind="police",
        files=[(io.BytesIO(b"%PDF-1.4 police certificate"), "证明.pdf")],
    )
    name_change_decide(change_id=change.pk, actor=world.reviewer_a, approve=True)
    assert Student.objects.get(pk=student.pk).name == "王新名"
    page = _page(world, world.city_admin, campaign)
    assert filed_name in page and "王新名" not in page


def test_the_export_holds_the_filtered_rows_masked_and_is_audited(world: World) -> None:
    students = add_students(world, 3, start=500)
    campaign = _closed(world)
    client = world.client_for(world.reviewer_a)
    response = client.get(reverse("campaigns:filed", args=[campaign.pk]), {"format": "xlsx", "name": students[1].name})
    assert response.status_code == 200
    rows = CalamineWorkbook.from_filelike(io.BytesIO(response.content)).get_sheet_by_index(0).to_python()
    assert rows[0][:4] == ["序号", "学校", "学籍号", "姓名"]
    assert len(rows) == 2
    assert rows[1][3] == students[1].name and rows[1][5] == mask_id_number(students[1].id_number)
    assert AuditEvent.objects.filter(action="campaign.filed_export", actor=world.reviewer_a).exists()
