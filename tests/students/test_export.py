"""学籍管理 导出 with 导出项选择: the ticked columns of every matching student in scope, as xlsx or csv; personal
data masked for every role but the registrar; formula-like text neutralised; large exports in the background
with a progress bar and a download link; every export in the audit log."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest
from django.urls import reverse
from python_calamine import CalamineWorkbook

from tests.conftest import World
from tests.students.helpers import checked_in_students
from xueji.audit.models import AuditEvent
from xueji.students.exports import HIDDEN
from xueji.students.models import ExportJob, Student


def _xlsx_rows(content: bytes, tmp_path: Path) -> list[list[object]]:
    path = tmp_path / "export.xlsx"
    path.write_bytes(content)
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()


def _csv_rows(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def _export(client, **data):  # type: ignore[no-untyped-def]
    return client.post(reverse("students:export"), data)


def test_registrar_exports_the_ticked_columns_of_the_filtered_students_as_xlsx(world: World, tmp_path: Path) -> None:
    students = checked_in_students(world, 3)
    client = world.client_for(world.registrar_a)
    page = client.get(reverse("students:export"), {"grade": "2026", "state": "unsubmitted"}).content.decode()
    assert "共 <strong>3</strong> 人" in page and 'value="ethnicity"' in page and "学籍状态" in page
    response = _export(
        client,
        grade="2026",
        state="unsubmitted",
        columns=["name", "id_number", "ethnicity", "class_name", "phone", "state", "student_no", "bogus"],
        format="xlsx",
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"] and ".xlsx" in response["Content-Disposition"]
    rows = _xlsx_rows(response.content, tmp_path)
    assert rows[0] == ["学籍状态", "学籍号", "姓名", "身份证件号", "民族", "班级", "联系电话"]
    assert len(rows) == 4
    by_number = {row[3]: row for row in rows[1:]}
    assert set(by_number) == {s.id_number for s in students}
    first = by_number[students[0].id_number]
    assert first[0] == "未提交" and first[2] == students[0].name
    assert first[4] == "汉族" and first[5] == "2026级1班" and first[6] == "13800138000"
    event = AuditEvent.objects.get(action="student.export")
    assert event.actor_id == world.registrar_a.pk
    assert event.after["filters"] == {"grade": "2026", "state": "unsubmitted"}
    assert event.after["columns"] == ["state", "student_no", "name", "id_number", "ethnicity", "class_name", "phone"]
    assert (event.after["rows"], event.after["format"], event.after["personal_data"]) == (3, "xlsx", True)


def test_csv_is_utf8_with_a_bom(world: World) -> None:
    checked_in_students(world, 2)
    response = _export(
        world.client_for(world.registrar_a), state="unsubmitted", columns=["name", "gender"], format="csv"
    )
    assert response["Content-Type"].startswith("text/csv")
    rows = _csv_rows(response.content)
    assert rows[0] == ["姓名", "性别"] and len(rows) == 3
    assert {row[1] for row in rows[1:]} <= {"男", "女"}


def test_formula_like_values_are_neutralised_in_both_formats(world: World, tmp_path: Path) -> None:
    [student] = checked_in_students(world, 1)
    student.data = {**student.data, "home_address": '=HYPERLINK("http://x","点我")', "previous_school": "@SUM(A1)"}
    student.save()
    Student.objects.filter(pk=student.pk).update(return_reason="-1+1")
    client = world.client_for(world.registrar_a)
    columns = ["home_address", "previous_school", "return_reason"]
    content = _export(client, state="unsubmitted", columns=columns, format="xlsx").content
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet  # no cell is a formula
    header, row = _xlsx_rows(content, tmp_path)[:2]
    assert header == ["退回原因", "家庭现地址", "毕业学校"]  # the chooser's order
    assert row == ["'-1+1", '\'=HYPERLINK("http://x","点我")', "'@SUM(A1)"]
    rows = _csv_rows(_export(client, state="unsubmitted", columns=columns, format="csv").content)
    assert rows[1] == ["'-1+1", '\'=HYPERLINK("http://x","点我")', "'@SUM(A1)"]


def test_personal_data_is_masked_for_every_role_but_the_registrar(world: World) -> None:
    [student] = checked_in_students(world, 1)
    columns = ["name", "id_number", "phone", "guardian_name", "guardian_phone", "home_address", "ethnicity"]
    for persona in ("leader_a", "reviewer_a", "city_admin"):
        client = world.client_for(getattr(world, persona))
        rows = _csv_rows(_export(client, q=student.name, columns=columns, format="csv").content)
        assert len(rows) == 2, persona
        row = dict(zip(rows[0], rows[1], strict=True))
        assert row["姓名"] == student.name and row["民族"] == "汉族"
        assert row["身份证件号"] == student.id_number[:6] + "********" + student.id_number[-4:]
        assert row["联系电话"] == row["监护人姓名"] == row["监护人联系电话"] == HIDDEN
        assert student.data["phone"] not in rows[1]
    events = AuditEvent.objects.filter(action="student.export")
    assert events.count() == 3 and not any(e.after["personal_data"] for e in events)


def test_each_user_exports_only_the_students_in_scope(world: World) -> None:
    checked_in_students(world, 2)
    # Another district's reviewer asking for school A by its id gets nobody.
    response = _export(world.client_for(world.reviewer_b), school=str(world.school_a.pk), columns=["name"])
    assert response.status_code == 200 and "没有符合条件的学生，未导出" in response.content.decode()
    response = _export(world.client_for(world.registrar_b), columns=["name"])
    assert "没有符合条件的学生" in response.content.decode()
    rows = _csv_rows(_export(world.client_for(world.city_admin), columns=["school", "name"], format="csv").content)
    assert len(rows) == 4 and {row[0] for row in rows[1:]} == {"东城职业教育中心"}
    assert not AuditEvent.objects.filter(action="student.export", actor=world.reviewer_b).exists()


def test_bad_input_is_answered_with_a_message(world: World) -> None:
    checked_in_students(world, 1)
    client = world.client_for(world.registrar_a)
    page = _export(client, columns=[]).content.decode()
    assert "请至少勾选一个导出项" in page
    response = _export(client, grade="abc", school="x" * 500, columns=["name", "nope"], format="pdf", state="zz")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxmlformats")
    response = client.get(reverse("students:export"), {"grade": "\x00", "q": "=1"})
    assert response.status_code == 200


@pytest.mark.usefixtures("immediate_tasks")
def test_a_large_export_runs_in_the_background_with_progress_and_a_download_link(
    world: World, settings, tmp_path: Path, django_capture_on_commit_callbacks
) -> None:
    settings.XUEJI_EXPORT_INLINE_ROWS = 2
    checked_in_students(world, 3)
    client = world.client_for(world.registrar_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = _export(client, grade="2026", columns=["name", "id_number"], format="xlsx")
    assert response.status_code == 302 and response["Location"].endswith("?grade=2026")
    page = client.get(response["Location"]).content.decode()
    assert "共 4 人，正在后台导出" in page
    job = ExportJob.objects.get()
    assert (job.status, job.total_rows, job.processed_rows, job.user_id) == ("done", 4, 4, world.registrar_a.pk)
    jobs = client.get(reverse("students:export_jobs")).content.decode()
    assert "已完成" in jobs and 'value="100"' in jobs and "hx-trigger" not in jobs
    download_url = reverse("students:export_download", args=[job.pk])
    assert download_url in jobs
    download = client.get(download_url)
    assert download.status_code == 200 and "attachment" in download["Content-Disposition"]
    rows = _xlsx_rows(b"".join(download.streaming_content), tmp_path)
    assert rows[0] == ["姓名", "身份证件号"] and len(rows) == 5
    event = AuditEvent.objects.get(action="student.export")
    assert (
        event.after["rows"] == 4 and event.after["background"] is True and event.after["filters"] == {"grade": "2026"}
    )
    # The file holds this user's view of the data: nobody else may fetch it, even in the same school.
    assert world.client_for(world.leader_a).get(download_url).status_code == 404
    assert world.client_for(world.registrar_b).get(download_url).status_code == 404


def test_a_queued_export_is_polled_and_shows_its_progress(world: World) -> None:
    ExportJob.objects.create(user=world.registrar_a, columns=["name"], total_rows=10_000, processed_rows=2_500)
    client = world.client_for(world.registrar_a)
    jobs = client.get(reverse("students:export_jobs")).content.decode()
    assert 'hx-trigger="every 1s"' in jobs and 'value="25"' in jobs and "2500 / 10000" in jobs
    assert "下载" not in jobs
    page = client.get(reverse("students:export")).content.decode()
    assert 'id="export-jobs"' in page
    # Not finished: no file to download yet.
    job = ExportJob.objects.get()
    assert client.get(reverse("students:export_download", args=[job.pk])).status_code == 404
    assert "还没有后台导出" in world.client_for(world.leader_a).get(reverse("students:export_jobs")).content.decode()


def test_the_list_links_to_the_export_with_its_filters(world: World) -> None:
    page = world.client_for(world.leader_a).get(reverse("students:list"), {"grade": "2026"}).content.decode()
    assert reverse("students:export") + "?grade=2026" in page
