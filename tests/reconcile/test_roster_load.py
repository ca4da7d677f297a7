"""Loading the roster: whole files in, bad files and rows refused with clear messages, nothing half-loaded."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.conftest import World
from tests.reconcile.helpers import HEADER, roster_csv, roster_xlsx
from xueji.audit.models import AuditEvent
from xueji.reconcile.models import RosterEntry, RosterLoad
from xueji.reconcile.rosterfile import RosterFileError, roster_read
from xueji.reconcile.services import roster_load

A = "3111010001"
GOOD = [
    ["26110101000001", "2026110101001", "王小明", "110101201003070011", A, "计算机应用", "统一招生/第一批"],
    ["26110101000002", "2026110101002", "李小红", "110101201005120027", A, "计算机应用", "统一招生/第一批"],
]


def test_xlsx_with_a_title_row_loads(tmp_path: Path) -> None:
    lines = roster_read(roster_xlsx(tmp_path / "r.xlsx", GOOD))
    assert [line.name for line in lines] == ["王小明", "李小红"]
    assert lines[0].row_number == 3 and lines[0].school_code == A and lines[0].method == "统一招生/第一批"


def test_gbk_csv_loads(tmp_path: Path) -> None:
    lines = roster_read(roster_csv(tmp_path / "r.csv", GOOD))
    assert lines[1].candidate_no == "26110101000002" and lines[1].major == "计算机应用"


def test_numbers_in_number_cells_lose_no_digits(tmp_path: Path) -> None:
    rows = [[26110101000001, 2026110101001, "王小明", "110101201003070011", 3111010001, "", ""]]
    line = roster_read(roster_xlsx(tmp_path / "r.xlsx", rows))[0]
    assert (line.candidate_no, line.exam_ticket_no, line.school_code) == ("26110101000001", "2026110101001", A)


def test_a_missing_column_is_named(tmp_path: Path) -> None:
    header = [h for h in HEADER if h != "录取学校代码"]
    with pytest.raises(RosterFileError) as caught:
        roster_read(roster_xlsx(tmp_path / "r.xlsx", [row[:4] + row[5:] for row in GOOD], header))
    assert "缺少必需的列：录取学校代码" in caught.value.messages[0]


def test_bad_rows_are_listed_by_row_number(tmp_path: Path) -> None:
    rows = [*GOOD, ["26110101000001", "", "张三", "", A, "", ""], ["", "", "", "", "12345", "", ""]]
    with pytest.raises(RosterFileError) as caught:
        roster_read(roster_xlsx(tmp_path / "r.xlsx", rows))
    text = "；".join(caught.value.messages)
    assert "第5行：考生号26110101000001与第3行重复" in text
    assert "第6行：姓名为空" in text and "第6行：录取学校代码“12345”应为10位数字" in text
    assert "第6行：考生号和身份证件号不能都为空" in text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"%PDF-1.4 not a table\x00\x01\x02", "文件不是表格文件"),
        (b"PK\x03\x04broken zip", "损坏"),
        ("标题\n甲,乙\n".encode("gbk"), "没有找到录取名册的表头"),
        (",".join(HEADER).encode("utf-8") + b"\n", "文件中没有数据行"),
    ],
)
def test_bad_files_say_why(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.xlsx"
    path.write_bytes(content)
    with pytest.raises(RosterFileError) as caught:
        roster_read(path)
    assert message in caught.value.messages[0]


def test_a_corrected_load_replaces_the_current_one_and_keeps_the_old(world: World, tmp_path: Path) -> None:
    first = roster_load(
        city=world.city, actor=world.city_admin, path=roster_xlsx(tmp_path / "1.xlsx", GOOD), file_name="1.xlsx",
        intake_year=2026,
    )  # fmt: skip
    second = roster_load(
        city=world.city, actor=world.city_admin, path=roster_csv(tmp_path / "2.csv", GOOD[:1]), file_name="2.csv",
        intake_year=2026,
    )  # fmt: skip
    first.refresh_from_db()
    assert not first.is_current and second.is_current
    assert (first.row_count, second.row_count) == (2, 1)
    assert RosterEntry.objects.filter(load=first).count() == 2
    assert AuditEvent.objects.filter(action="roster.load").count() == 2


def test_upload_of_a_bad_file_saves_nothing_and_says_why(world: World, tmp_path: Path) -> None:
    client = world.client_for(world.city_admin)
    rows = [*GOOD, ["", "", "", "", "", "", "x"]]
    data = roster_xlsx(tmp_path / "r.xlsx", rows).read_bytes()
    response = client.post(
        reverse("reconcile:roster_upload"),
        {"intake_year": "2026", "file": SimpleUploadedFile("名册.xlsx", data)},
        follow=True,
    )
    assert response.status_code == 200
    assert "未导入" in response.content.decode() and "第5行：姓名为空" in response.content.decode()
    assert not RosterLoad.objects.exists() and not RosterEntry.objects.exists()


def test_upload_of_a_good_file_loads_it(world: World, tmp_path: Path) -> None:
    client = world.client_for(world.city_admin)
    data = roster_xlsx(tmp_path / "r.xlsx", GOOD).read_bytes()
    response = client.post(
        reverse("reconcile:roster_upload"),
        {"intake_year": "2026", "file": SimpleUploadedFile("名册.xlsx", data)},
        follow=True,
    )
    assert "已导入“名册.xlsx”：2 行" in response.content.decode()
    load = RosterLoad.objects.get()
    assert load.city == world.city and load.loaded_by == world.city_admin and load.is_current
