"""统计查询: counts by dimension within the user's scope, the previous grade beside them, drill-down, xlsx."""

from __future__ import annotations

from pathlib import Path

from django.urls import reverse
from python_calamine import CalamineWorkbook

from tests.conftest import World
from tests.students.helpers import checked_in_students
from xueji.students.models import Student


def table(response) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {row.label: row.count for row in response.context["rows"]}


def test_counts_by_gender_ethnicity_and_state_for_the_school(world: World) -> None:
    checked_in_students(world, 3)
    client = world.client_for(world.registrar_a)
    by_state = table(client.get(reverse("stats:index"), {"dim": "state", "grade": "2026"}))
    assert by_state == {"未提交": 3, "审核中（学校）": 1}
    by_gender = table(client.get(reverse("stats:index"), {"dim": "gender", "grade": "2026"}))
    assert sum(by_gender.values()) == 4 and set(by_gender) <= {"男", "女"}
    by_ethnicity = table(client.get(reverse("stats:index"), {"dim": "ethnicity", "grade": "2026"}))
    assert by_ethnicity.get("汉族") == 3  # stored as the code 01, shown as the name
    by_origin = table(client.get(reverse("stats:index"), {"dim": "origin_region", "grade": "2026"}))
    assert by_origin.get("北京市朝阳区") == 3  # the region code 110105, shown by its name
    page = client.get(reverse("stats:index"), {"dim": "state", "grade": "2026"}).content.decode()
    assert "<svg" in page and "合计 4 人" in page


def test_each_user_counts_only_its_scope_and_the_city_drills_down(world: World) -> None:
    checked_in_students(world, 2)
    Student.objects.create(
        **{f: getattr(world.student_a, f) for f in ("grade", "gender", "admission_method", "data")},
        school=world.school_c, admission=world.record_a, name="朝阳学生", id_type="1", id_number="X1",
        offering=world.offering_c,
    )  # fmt: skip
    city = world.client_for(world.city_admin)
    assert table(city.get(reverse("stats:index"), {"grade": "2026"})) == {"东城区": 3, "朝阳区": 1}
    drilled = city.get(reverse("stats:index"), {"grade": "2026", "dim": "school", "district": world.district_a.pk})
    assert table(drilled) == {"东城职业教育中心": 3}
    assert table(world.client_for(world.reviewer_b).get(reverse("stats:index"), {"grade": "2026"})) == {
        "朝阳汽车职高": 1
    }
    assert "朝阳学生" not in str(table(world.client_for(world.registrar_a).get(reverse("stats:index"))))
    other = world.client_for(world.other_city_admin).get(
        reverse("stats:index"), {"dim": "school", "district": world.district_a.pk}
    )
    assert other.status_code == 404


def test_previous_grade_and_xlsx(world: World, tmp_path: Path) -> None:
    Student.objects.filter(pk=world.student_a.pk).update(grade=2025)
    checked_in_students(world, 2)
    client = world.client_for(world.registrar_a)
    response = client.get(reverse("stats:index"), {"dim": "major", "grade": "2026"})
    [row] = response.context["rows"]
    assert (row.count, row.previous) == (2, 1)
    download = client.get(reverse("stats:index"), {"dim": "major", "grade": "2026", "format": "xlsx"})
    path = tmp_path / "stats.xlsx"
    path.write_bytes(download.content)
    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    assert sheet[0][:2] == ["专业", "2026级"] and sheet[1][1] == 2 and sheet[-1][:2] == ["合计", 2]
