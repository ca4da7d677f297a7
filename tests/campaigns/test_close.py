"""Closing: the approved registrations of the grade frozen as the filed record, and the summary report."""

from __future__ import annotations

import io
import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from python_calamine import CalamineWorkbook

from tests.campaigns.helpers import open_campaign
from tests.conftest import World
from tests.roster.helpers import pdf_text
from tests.students.helpers import checked_in_students
from xueji.audit.models import AuditEvent
from xueji.campaigns.closing import campaign_close
from xueji.campaigns.models import Campaign, FiledStudent
from xueji.reconcile.models import RosterEntry, RosterLoad
from xueji.reconcile.namechange import name_change_decide, name_change_file
from xueji.students.models import State, Student
from xueji.students.workflow import Action, transition_apply


def _approve_student_a(world: World) -> Student:
    for actor in (world.leader_a, world.reviewer_a, world.city_admin):
        transition_apply(actor=actor, action=Action.APPROVE, students=Student.objects.filter(pk=world.student_a.pk))
    student = Student.objects.get(pk=world.student_a.pk)
    assert student.state == State.APPROVED and student.student_no
    return student


def test_closing_freezes_the_approved_students_of_the_grade_only(world: World) -> None:
    approved = _approve_student_a(world)
    checked_in_students(world, 2)  # 未提交: not filed
    campaign = open_campaign(world)
    campaign_close(actor=world.city_admin, campaign_id=campaign.pk)
    filed = FiledStudent.objects.get(campaign=campaign)
    assert (filed.student_id, filed.name, filed.student_no, filed.id_number) == (
        approved.pk,
        "李小红",
        approved.student_no,
        approved.id_number,
    )
    assert (filed.school, filed.district, filed.data) == (world.school_a, world.district_a, approved.data)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.CLOSED and campaign.closed_by == world.city_admin
    assert campaign.summary["totals"]["filed"] == 1
    assert AuditEvent.objects.get(action="campaign.close").after["filed"] == 1


def test_the_filed_record_does_not_change_when_the_student_is_renamed_afterwards(world: World) -> None:
    _approve_student_a(world)
    campaign = open_campaign(world)
    campaign_close(actor=world.city_admin, campaign_id=campaign.pk)
    change = name_change_file(
        student=Student.objects.get(pk=world.student_a.pk),
        actor=world.registrar_a,
        new_name="李晓红",
        evidence_kind="police",
        files=[(io.BytesIO(b"%PDF-1.4 police certificate"), "证明.pdf")],
    )
    name_change_decide(change_id=change.pk, actor=world.reviewer_a, approve=True)
    student = Student.objects.get(pk=world.student_a.pk)
    assert student.name == "李晓红" and student.data["former_name"] == "李小红"
    filed = FiledStudent.objects.get(campaign=campaign)
    assert filed.name == "李小红"
    assert filed.data["name"] == "李小红" and "former_name" not in filed.data


def test_a_campaign_closes_once(world: World) -> None:
    campaign = open_campaign(world)
    campaign_close(actor=world.city_admin, campaign_id=campaign.pk)
    with pytest.raises(ValidationError, match="已经结束"):
        campaign_close(actor=world.city_admin, campaign_id=campaign.pk)
    response = world.client_for(world.city_admin).post(reverse("campaigns:close", args=[campaign.pk]))
    assert response.status_code == 302
    assert FiledStudent.objects.count() == 0


def test_summary_report_as_xlsx_counts_schools_stages_and_reconciliation(world: World) -> None:
    _approve_student_a(world)
    load = RosterLoad.objects.create(city=world.city, intake_year=2026, file_name="名册.xlsx", row_count=2)
    RosterEntry.objects.create(
        load=load, row_number=2, name="李小红", id_number=world.student_a.id_number, school_code="3111010001"
    )
    RosterEntry.objects.create(load=load, row_number=3, name="赵未到", id_number="", school_code="3111010001")
    campaign = open_campaign(world)
    client = world.client_for(world.city_admin)
    assert client.get(reverse("campaigns:report", args=[campaign.pk, "xlsx"])).status_code == 302  # not closed yet
    client.post(reverse("campaigns:close", args=[campaign.pk]))
    response = client.get(reverse("campaigns:report", args=[campaign.pk, "xlsx"]))
    assert response.status_code == 200
    workbook = CalamineWorkbook.from_filelike(io.BytesIO(response.content))
    schools = workbook.get_sheet_by_name("学校").to_python()
    header = schools[0]
    school_a = next(row for row in schools if row[2] == "东城职业教育中心")
    values = dict(zip(header, school_a, strict=True))
    assert (values["学生数"], values["已备案"]) == (1, 1)
    assert (values["一致"], values["录取未报到"], values["姓名不符"]) == (1, 1, 0)
    # The deadlines of 2026-11 had passed when the world's campaign closed; school B never submitted.
    school_b = dict(zip(header, next(row for row in schools if row[2] == "东城商务职高"), strict=True))
    assert str(school_b["学校完成提交"]).startswith("未完成，逾期")
    districts = workbook.get_sheet_by_name("区县").to_python()
    assert [row[1] for row in districts[1:]] == ["东城区", "朝阳区"]
    assert AuditEvent.objects.filter(action="campaign.report_download").count() == 1


def test_summary_report_as_pdf(world: World, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _approve_student_a(world)
    campaign = open_campaign(world)
    campaign_close(actor=world.city_admin, campaign_id=campaign.pk)
    response = world.client_for(world.city_admin).get(reverse("campaigns:report", args=[campaign.pk, "pdf"]))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    text = pdf_text(response.content, tmp_path)
    assert "2026年度新生学籍备案 工作总结" in text
    assert "已备案 1 人" in text
    assert "东城职业教育中心" in text and "朝阳汽车职高" in text
    assert "3111010001" in text  # the school code on one line
    assert re.search(r"第\s*1\s*页\s*共\s*\d+\s*页", text)
