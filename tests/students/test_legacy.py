"""档案管理: students migrated from the old system come in registered, with their 学籍号, under 一人一籍."""

from __future__ import annotations

from pathlib import Path

from django.urls import reverse

from tests.admissions.helpers import KEYS, person_id, school_a_row
from tests.conftest import World
from tests.records.helpers import headers_for, write_xlsx
from xueji.cli import main as cli_main
from xueji.students.models import State, Student


def legacy_file(path: Path, rows: list[tuple[dict[str, object], str]]) -> Path:
    """The old system's export: the catalog's columns plus its 学籍号."""
    header = [*headers_for(KEYS), "学籍号"]
    return write_xlsx(path, header, [[row.get(k, "") for k in KEYS] + [number] for row, number in rows])


def test_cli_loads_registered_students_and_refuses_what_would_break_one_person_one_status(
    world: World, tmp_path: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    rows = [
        (school_a_row(1), f"G{person_id(1)}"),
        (school_a_row(2), ""),  # no 学籍号 in the old system: one is given
        (school_a_row(3, ethnicity="火星族"), "G3"),  # invalid: not loaded
        (school_a_row(4, id_number=world.student_a.id_number), "G4"),  # already holds a status here
        (school_a_row(5), f"G{person_id(1)}"),  # 学籍号 used twice
    ]
    path = legacy_file(tmp_path / "原系统在校生.xlsx", rows)
    code = cli_main(["import-legacy", str(path), "--school", world.school_a.code])
    out, err = capsys.readouterr()
    assert code == 1
    assert "迁入完成：2 人，未迁入 3 行" in out
    assert "第4行：民族" in err and "第5行：该学生已有学籍或招生信息（一人一籍）" in err
    assert f"第6行：学籍号 G{person_id(1)} 已被占用" in err
    migrated = {s.id_number: s for s in Student.objects.filter(source=Student.Source.LEGACY)}
    assert set(migrated) == {person_id(1), person_id(2)}
    assert all(s.state == State.APPROVED for s in migrated.values())
    assert migrated[person_id(1)].student_no == f"G{person_id(1)}"
    assert migrated[person_id(2)].student_no == f"G{person_id(2)}"
    assert migrated[person_id(1)].admission.state == "checked_in"


def test_archive_page_lists_migrated_students_and_the_registrar_uploads(world: World, tmp_path: Path) -> None:
    path = legacy_file(tmp_path / "迁入.xlsx", [(school_a_row(7, name="冯七"), "")])
    client = world.client_for(world.registrar_a)
    with path.open("rb") as stream:
        response = client.post(reverse("students:archive"), {"file": stream}, follow=True)
    page = response.content.decode()
    assert "已迁入 1 人" in page and "冯七" in page
    assert "李小红" not in page  # a student checked in here is not a migrated one
    reviewer_page = world.client_for(world.reviewer_a).get(reverse("students:archive")).content.decode()
    assert "冯七" in reviewer_page and person_id(7) not in reviewer_page  # masked outside the school
    assert "冯七" not in world.client_for(world.reviewer_b).get(reverse("students:archive")).content.decode()
    listing = client.get(reverse("students:list"), {"source": "legacy"}).content.decode()
    assert "冯七" in listing and "李小红" not in listing
    bad = tmp_path / "说明.txt"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not a table")
    with bad.open("rb") as stream:
        response = client.post(reverse("students:archive"), {"file": stream}, follow=True)
    assert "无法迁入“说明.txt”" in response.content.decode()
