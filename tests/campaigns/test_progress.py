"""Progress: each school's stages against their deadlines, as the district and the city see them."""

from __future__ import annotations

import datetime
import io

from django.urls import reverse
from python_calamine import CalamineWorkbook

from tests.campaigns.helpers import days_from_today, open_campaign
from tests.conftest import World
from tests.students.helpers import checked_in_students
from xueji.campaigns.deadlines import Status
from xueji.campaigns.progress import districts_progress, schools_progress, sort_rows
from xueji.orgs.models import Region, School
from xueji.students.models import ReviewAction, Student
from xueji.students.workflow import Action, transition_apply

UTC = datetime.UTC


def _submit_all(world: World) -> None:
    students = Student.objects.filter(school=world.school_a, state="unsubmitted")
    result = transition_apply(actor=world.registrar_a, action=Action.SUBMIT, students=students)
    assert result.done, result


def _school_a(campaign, now):  # type: ignore[no-untyped-def]
    return schools_progress(campaign, School.objects.filter(code="3111010001"), now)[0]


def test_submission_stage_follows_the_students_of_the_grade(world: World) -> None:
    campaign = open_campaign(world)
    before = datetime.datetime(2026, 11, 1, tzinfo=UTC)
    # student_a is already submitted (审核中 at the school); nothing else yet: done, one of one.
    assert _school_a(campaign, before).stage("submit").status == Status.DONE
    checked_in_students(world, 2)
    submit = _school_a(campaign, before).stage("submit")
    assert (submit.status, submit.detail) == (Status.IN_PROGRESS, "未提交 2 / 共 3")
    assert _school_a(campaign, datetime.datetime(2026, 11, 10, 16, 0, tzinfo=UTC)).stage("submit").status == (
        Status.OVERDUE
    )
    # School B has no student of the grade: not started, then overdue.
    school_b = schools_progress(campaign, School.objects.filter(code="3111010002"), before)[0]
    assert school_b.stage("submit").status == Status.NOT_STARTED


def test_the_last_submission_decides_on_time_or_late_at_shanghai_midnight(world: World) -> None:
    campaign = open_campaign(world)
    checked_in_students(world, 1)
    _submit_all(world)
    later = datetime.datetime(2026, 11, 30, tzinfo=UTC)
    last = ReviewAction.objects.filter(action="submit").latest("at")
    last.at = datetime.datetime(2026, 11, 10, 15, 59, 59, tzinfo=UTC)  # 23:59:59 on the deadline day in Shanghai
    last.save()
    on_time = _school_a(campaign, later).stage("submit")
    assert (on_time.status, on_time.late, on_time.timing_text(later)) == (Status.DONE, False, "按时完成")
    last.at = datetime.datetime(2026, 11, 10, 16, 0, 0, tzinfo=UTC)  # 00:00 the next day in Shanghai
    last.save()
    late = _school_a(campaign, later).stage("submit")
    assert (late.status, late.late, late.timing_text(later)) == (Status.DONE, True, "逾期 1 天完成")


def test_district_and_city_rows_overdue_first(world: World) -> None:
    campaign = open_campaign(world)
    checked_in_students(world, 1)
    _submit_all(world)
    now = datetime.datetime(2026, 11, 12, tzinfo=UTC)  # submission deadline passed
    rows = schools_progress(campaign, School.objects.filter(district__parent=world.city), now)
    ordered = [r.code for r in sort_rows(rows, "")]
    # Schools B and C have no students: their submission is overdue; school A's is done.
    assert ordered[-1] == "3111010001"
    assert [r.name for r in sort_rows(rows, "name")] == sorted(r.name for r in rows)
    # By one stage: that stage's overdue rows first, finished ones last.
    assert [r.code for r in sort_rows(rows, "submit")] == ["3111010002", "3111050001", "3111010001"]
    districts = districts_progress(
        campaign, Region.objects.filter(parent=world.city), School.objects.filter(district__parent=world.city), now
    )
    dongcheng = next(d for d in districts if d.code == "110101")
    assert dongcheng.stage("submit").status == Status.OVERDUE  # school B holds it back
    assert dongcheng.stage("submit").detail == "已完成 1 / 共 2 所学校"
    assert [s.key for s in dongcheng.stages] == ["submit", "materials", "review", "filing"]


def test_the_district_sees_only_its_schools_and_the_city_every_district(world: World) -> None:
    campaign = open_campaign(world)
    url = reverse("campaigns:progress", args=[campaign.pk])
    district_page = world.client_for(world.reviewer_a).get(url).content.decode()
    assert "东城职业教育中心" in district_page and "东城商务职高" in district_page
    assert "朝阳汽车职高" not in district_page and "各区县" not in district_page
    city_page = world.client_for(world.city_admin).get(url).content.decode()
    assert "各区县" in city_page and "朝阳区" in city_page and "朝阳汽车职高" in city_page


def test_progress_exports_as_xlsx_within_scope(world: World) -> None:
    campaign = open_campaign(world, **days_from_today(-3, 10, 15, 18, 20))
    response = world.client_for(world.reviewer_a).get(
        reverse("campaigns:progress", args=[campaign.pk]), {"format": "xlsx"}
    )
    assert response.status_code == 200
    workbook = CalamineWorkbook.from_filelike(io.BytesIO(response.content))
    assert workbook.sheet_names == ["学校"]  # a district has no districts' sheet
    rows = workbook.get_sheet_by_name("学校").to_python()
    assert rows[0][:4] == ["区县", "学校代码", "学校", "学生数"]
    assert {row[2] for row in rows[1:]} == {"东城职业教育中心", "东城商务职高"}
    school_b = next(row for row in rows if row[2] == "东城商务职高")
    assert str(school_b[4]).startswith("未完成，逾期 3 天（未提交 0 / 共 0）")  # nothing submitted, due 3 days ago
