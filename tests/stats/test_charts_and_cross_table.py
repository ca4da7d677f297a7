"""统计查询: 生源地 by province, pie charts with labels and shares, 学籍状态 × 审核级别, year-on-year change."""

from __future__ import annotations

import re
from pathlib import Path

from django.urls import reverse
from python_calamine import CalamineWorkbook

from tests.admissions.helpers import school_a_row
from tests.conftest import World
from tests.students.helpers import checked_in_students
from xueji.admissions.models import AdmissionRecord
from xueji.admissions.services import admission_save
from xueji.stats.charts import pie_slices
from xueji.students.models import State, Student
from xueji.students.services import checkin


def table(response) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {row.label: row.count for row in response.context["rows"]}


def _student_in_c(world: World, name: str, id_number: str, **fields: object) -> Student:
    values = {f: getattr(world.student_a, f) for f in ("grade", "gender", "admission_method", "data")}
    values.update(fields)
    admission = AdmissionRecord.objects.create(
        school=world.school_c, grade=2026, name=name, id_type="1", id_number=id_number, offering=world.offering_c,
        admission_method="1", state=AdmissionRecord.State.CHECKED_IN,
    )  # fmt: skip
    return Student.objects.create(
        **values, school=world.school_c, admission=admission, name=name, id_type="1", id_number=id_number,
        offering=world.offering_c,
    )  # fmt: skip


def test_origin_is_counted_by_province_as_well_as_by_district(world: World) -> None:
    checked_in_students(world, 2)  # 生源地 110105 北京市朝阳区
    result = admission_save(
        actor=world.registrar_a, school=world.school_a, raw=school_a_row(40, origin_region="130102")
    )  # 河北省石家庄市长安区
    assert result.ok and result.record is not None, result.errors
    checkin(actor=world.registrar_a, records=AdmissionRecord.objects.filter(pk=result.record.pk))
    client = world.client_for(world.registrar_a)
    by_district = table(client.get(reverse("stats:index"), {"dim": "origin_region", "grade": "2026"}))
    assert by_district["北京市朝阳区"] == 2 and by_district["河北省石家庄市长安区"] == 1
    response = client.get(reverse("stats:index"), {"dim": "origin_province", "grade": "2026"})
    assert table(response) == {"北京市": 2, "河北省": 1, "（未填）": 1}  # 李小红 has no 生源地
    assert {row.value for row in response.context["rows"]} == {"110000", "130000", ""}


def test_gender_is_drawn_as_a_pie_with_labels_counts_and_shares(world: World) -> None:
    checked_in_students(world, 3)
    Student.objects.filter(pk=world.student_a.pk).update(gender="2")
    Student.objects.exclude(pk=world.student_a.pk).update(gender="1")
    page = world.client_for(world.registrar_a).get(reverse("stats:index"), {"dim": "gender", "grade": "2026"})
    html = page.content.decode()
    assert len(re.findall(r"<path d=\"M120,120 ", html)) == 2  # two wedges
    assert "男　3 人　75.0%" in html and "女　1 人　25.0%" in html  # the legend
    assert ">75.0%</text>" in html and ">25.0%</text>" in html  # the shares on the wedges
    assert '<th class="num">占比</th>' in html
    majors = world.client_for(world.registrar_a).get(reverse("stats:index"), {"dim": "major", "grade": "2026"})
    assert "<path" not in majors.content.decode() and "<rect" in majors.content.decode()  # a long list: bars


def test_a_pie_of_one_value_is_a_full_circle_and_many_values_merge_into_other() -> None:
    [whole] = pie_slices([("统一招生", 7), ("自主招生", 0)])
    assert whole.path == "" and whole.percent == "100.0%"
    slices = pie_slices([(f"方式{n}", 20 - n) for n in range(14)])
    assert len(slices) == 10 and slices[-1].label == "其他"
    assert slices[-1].count == sum(20 - n for n in range(9, 14))
    assert [s.show_text for s in pie_slices([("多", 99), ("少", 1)])] == [True, False]
    # the wedges go all round: the last one ends where the first began
    first, *_, last = pie_slices([("a", 1), ("b", 1), ("c", 2)])
    assert first.path.split(" L")[1].split(" ")[0] == "120.00,10.00"
    assert last.path.split(" ")[-2] == "120.00,10.00"


def test_state_by_review_level_per_district_for_the_city_and_per_school_for_a_district(world: World) -> None:
    checked_in_students(world, 2)  # 未提交 at school A
    _student_in_c(world, "朝阳学生", "X1", state=State.REVIEW_DISTRICT)
    _student_in_c(world, "朝阳学生二", "X2", state=State.APPROVED, student_no="G1")
    city = world.client_for(world.city_admin).get(reverse("stats:index"), {"dim": "state", "grade": "2026"})
    label, rows, totals = city.context["cross"]
    assert label == "区县"
    by_district = {row.label: row for row in rows}
    assert by_district["东城区"].by_state == {
        "unsubmitted": 2, "review_school": 1, "review_district": 0, "review_city": 0, "approved": 0
    }  # fmt: skip
    assert by_district["朝阳区"].by_state["review_district"] == 1 and by_district["朝阳区"].by_state["approved"] == 1
    assert totals["total"] == 5
    html = city.content.decode()
    assert 'id="state-cross"' in html and '<th colspan="3">审核中</th>' in html
    assert f"district={world.district_b.pk}" in html  # the city drills into a district
    drilled = world.client_for(world.city_admin).get(
        reverse("stats:index"), {"dim": "state", "grade": "2026", "district": world.district_b.pk}
    )
    assert drilled.context["cross"][0] == "学校"
    assert [r.label for r in drilled.context["cross"][1]] == ["朝阳汽车职高"]
    district = world.client_for(world.reviewer_a).get(reverse("stats:index"), {"dim": "state", "grade": "2026"})
    label, rows, totals = district.context["cross"]
    assert label == "学校" and [r.label for r in rows] == ["东城职业教育中心"] and totals["total"] == 3
    assert "朝阳" not in district.content.decode()


def test_year_on_year_change_is_shown_and_downloaded(world: World, tmp_path: Path) -> None:
    first, *_ = checked_in_students(world, 3)
    Student.objects.filter(pk__in=[world.student_a.pk, first.pk]).update(grade=2025)
    client = world.client_for(world.registrar_a)
    response = client.get(reverse("stats:index"), {"dim": "state", "grade": "2026"})
    previous_total = sum(r.previous or 0 for r in response.context["rows"])
    current_total = sum(r.count for r in response.context["rows"])
    assert (current_total, previous_total) == (2, 2)
    html = response.content.decode()
    assert "上一年级 2 人，持平" in html and "增减" in html
    # 审核中（学校）: 0 now, 1 a year before — still listed, so the drop shows
    by_value = {r.value: r for r in response.context["rows"]}
    assert by_value["review_school"].count == 0 and by_value["review_school"].change == -1
    download = client.get(reverse("stats:index"), {"dim": "state", "grade": "2026", "format": "xlsx"})
    path = tmp_path / "stats.xlsx"
    path.write_bytes(download.content)
    book = CalamineWorkbook.from_path(str(path))
    sheet = book.get_sheet_by_index(0).to_python()
    assert sheet[0] == ["学籍状态", "2026级", "占比", "2025级", "增减"]
    cross = book.get_sheet_by_name("学籍状态×审核级别").to_python()
    assert cross[0][0] == "学校" and cross[1][0] == "东城职业教育中心" and cross[-1][0] == "合计"


def test_no_earlier_grade_means_no_comparison(world: World) -> None:
    checked_in_students(world, 1)
    response = world.client_for(world.registrar_a).get(reverse("stats:index"), {"dim": "gender", "grade": "2026"})
    assert all(r.previous is None for r in response.context["rows"])
    assert "上一年级" not in response.content.decode()


def test_the_city_drills_from_the_city_to_a_district_to_a_school(world: World) -> None:
    checked_in_students(world, 2)
    _student_in_c(world, "朝阳学生", "X1")
    city = world.client_for(world.city_admin)
    districts = city.get(reverse("stats:index"), {"grade": "2026"}).content.decode()
    assert f"?dim=school&amp;grade=2026&amp;district={world.district_a.pk}" in districts
    schools = city.get(reverse("stats:index"), {"grade": "2026", "dim": "school", "district": world.district_a.pk})
    link = f"?dim=major&amp;grade=2026&amp;district={world.district_a.pk}&amp;school={world.school_a.pk}"
    assert link in schools.content.decode()
    school = city.get(
        reverse("stats:index"),
        {"grade": "2026", "dim": "gender", "district": world.district_a.pk, "school": world.school_a.pk},
    )
    assert sum(table(school).values()) == 3 and "东城职业教育中心" in school.context["title"]
    assert "返回东城区" in school.content.decode() and "返回全市" in school.content.decode()
    # a district drills into its own schools only; a school's user cannot widen or move its scope
    reviewer = world.client_for(world.reviewer_a)
    assert (
        sum(table(reviewer.get(reverse("stats:index"), {"dim": "gender", "school": world.school_a.pk})).values()) == 3
    )
    assert reviewer.get(reverse("stats:index"), {"dim": "gender", "school": world.school_c.pk}).status_code == 404
    registrar = world.client_for(world.registrar_a)
    own = table(registrar.get(reverse("stats:index"), {"dim": "gender", "school": world.school_c.pk}))
    assert sum(own.values()) == 3  # still its own school's three, not school C's one
