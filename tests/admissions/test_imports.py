"""导入名单 end to end with the task backend run synchronously: upload, counts, updates, failures and their
workbook, resuming after a dead worker, the claim, and the command line."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from python_calamine import CalamineWorkbook

from tests.admissions.helpers import person_id, school_a_row, workbook
from tests.conftest import World
from xueji.admissions import imports
from xueji.admissions.models import AdmissionRecord, ImportFailure, ImportJob
from xueji.audit.models import AuditEvent
from xueji.cli import main as cli_main
from xueji.jobs import stale_before
from xueji.records import reader


def upload(client, path: Path, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    with path.open("rb") as stream, django_capture_on_commit_callbacks(execute=True):
        return client.post(reverse("admissions:import_upload"), {"file": stream}, follow=True)


def sheet_rows(content: bytes, tmp_path: Path) -> list[list[object]]:
    path = tmp_path / "downloaded.xlsx"
    path.write_bytes(content)
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()


@pytest.mark.usefixtures("immediate_tasks")
def test_upload_imports_in_the_background_and_reports_counts(
    world: World, tmp_path: Path, django_capture_on_commit_callbacks
) -> None:
    rows = [school_a_row(n) for n in range(1, 9)]
    rows[2]["ethnicity"] = "火星族"
    rows[5]["major"] = "航天工程"
    client = world.client_for(world.registrar_a)
    response = upload(client, workbook(tmp_path / "新生名单.xlsx", rows), django_capture_on_commit_callbacks)
    assert "已收到“新生名单.xlsx”，正在后台导入" in response.content.decode()
    job = ImportJob.objects.get(original_name="新生名单.xlsx")
    assert (job.status, job.total_rows, job.created_count, job.updated_count, job.failed_count) == (
        ImportJob.Status.DONE, 8, 6, 0, 2,
    )  # fmt: skip
    assert AdmissionRecord.objects.filter(import_job=job).count() == 6
    assert len(job.sha256) == 64
    page = client.get(reverse("admissions:import_jobs")).content.decode()
    assert "新生名单.xlsx" in page and "已完成" in page and 'value="100"' in page
    assert "hx-trigger" not in page  # nothing running: the table stops polling
    failures = ImportFailure.objects.filter(job=job).order_by("row_number")
    assert [f.row_number for f in failures] == [4, 7]
    assert AuditEvent.objects.filter(action="import.done", object_id=str(job.pk)).exists()


@pytest.mark.usefixtures("immediate_tasks")
def test_failure_workbook_round_trip(world: World, tmp_path: Path, django_capture_on_commit_callbacks) -> None:
    rows = [school_a_row(n) for n in range(1, 6)]
    rows[1]["direction"] = "云计算"
    rows[3]["phone"] = "12345"
    client = world.client_for(world.registrar_a)
    upload(client, workbook(tmp_path / "名单.xlsx", rows), django_capture_on_commit_callbacks)
    job = ImportJob.objects.latest("pk")
    response = client.get(reverse("admissions:import_failures", args=[job.pk]))
    assert response.status_code == 200
    assert "%E5%A4%B1%E8%B4%A5%E6%95%B0%E6%8D%AE" in response["Content-Disposition"]  # …-失败数据.xlsx
    failed = sheet_rows(b"".join(response.streaming_content), tmp_path)
    header = failed[0]
    assert header[-1] == "失败原因"
    data = [r for r in failed[1:] if any(c not in ("", None) for c in r)]
    assert len(data) == 2  # only the failed rows, as submitted
    reasons = [str(r[-1]) for r in data]
    assert "不是本校该专业的专业方向" in reasons[0] and "联系电话" in reasons[1]
    # The registrar fixes the two rows in the downloaded workbook and imports it again.
    direction_col = header.index("专业方向")
    phone_col = header.index("★联系电话")
    fixed = []
    for row in data:
        values = dict(zip(header[:-1], row[:-1], strict=True))
        values[header[direction_col]] = "网络应用"
        values[header[phone_col]] = "13812345678"
        fixed.append(values)
    again = tmp_path / "名单-改正.xlsx"
    from tests.records.helpers import write_xlsx

    write_xlsx(again, header[:-1], [[v.get(h, "") for h in header[:-1]] for v in fixed])
    upload(client, again, django_capture_on_commit_callbacks)
    second = ImportJob.objects.latest("pk")
    assert (second.created_count, second.failed_count) == (2, 0)
    assert AdmissionRecord.objects.filter(school=world.school_a, import_job__isnull=False).count() == 5


@pytest.mark.usefixtures("immediate_tasks")
def test_importing_the_same_file_twice_updates_and_creates_nothing_twice(
    world: World, tmp_path: Path, django_capture_on_commit_callbacks
) -> None:
    path = workbook(tmp_path / "名单.xlsx", [school_a_row(n) for n in range(1, 5)])
    client = world.client_for(world.registrar_a)
    upload(client, path, django_capture_on_commit_callbacks)
    upload(client, path, django_capture_on_commit_callbacks)
    first, second = ImportJob.objects.order_by("pk")[1:3]  # [0] is the world's job
    assert (first.created_count, first.updated_count) == (4, 0)
    assert (second.created_count, second.updated_count, second.failed_count) == (0, 4, 0)
    assert first.sha256 == second.sha256
    assert AdmissionRecord.objects.filter(id_number__in=[person_id(n) for n in range(1, 5)]).count() == 4
    assert "新增 0 / 更新 4" in client.get(reverse("admissions:import_jobs")).content.decode()


@pytest.mark.usefixtures("immediate_tasks")
def test_person_at_another_school_or_already_enrolled_fails_with_a_reason(
    world: World, tmp_path: Path, django_capture_on_commit_callbacks
) -> None:
    enrolled = school_a_row(40)
    other = school_a_row(41)
    client_a = world.client_for(world.registrar_a)
    upload(client_a, workbook(tmp_path / "a.xlsx", [enrolled]), django_capture_on_commit_callbacks)
    AdmissionRecord.objects.filter(id_number=enrolled["id_number"]).update(state=AdmissionRecord.State.CHECKED_IN)
    upload(client_a, workbook(tmp_path / "b.xlsx", [enrolled, other]), django_capture_on_commit_callbacks)
    job = ImportJob.objects.latest("pk")
    assert (job.created_count, job.failed_count) == (1, 1)
    assert "已报到注册、已有学籍" in job.failures.get().reasons[-1]["message"]
    client_b = world.client_for(world.registrar_b)
    row_b = school_a_row(41, major="会计事务", direction="", class_name="")
    upload(client_b, workbook(tmp_path / "c.xlsx", [row_b]), django_capture_on_commit_callbacks)
    job_b = ImportJob.objects.latest("pk")
    assert job_b.failed_count == 1
    message = job_b.failures.get().reasons[-1]["message"]
    assert "已在“东城职业教育中心”（东城区，学校标识码3111010001）登记了招生信息" in message


@pytest.mark.usefixtures("immediate_tasks")
def test_wrong_files_are_refused_at_upload_or_fail_with_the_reason(
    world: World, tmp_path: Path, django_capture_on_commit_callbacks
) -> None:
    client = world.client_for(world.registrar_a)
    text = tmp_path / "说明.docx"
    text.write_bytes(b"PK\x03\x04 not really a document")
    page = upload(client, text, django_capture_on_commit_callbacks).content.decode()
    assert "无法导入“说明.docx”" in page
    no_columns = tmp_path / "缺列.xlsx"
    from tests.records.helpers import write_xlsx

    write_xlsx(no_columns, ["姓名", "身份证件号", "性别"], [["张三", person_id(1), "男"]])
    upload(client, no_columns, django_capture_on_commit_callbacks)
    job = ImportJob.objects.latest("pk")
    assert job.status == ImportJob.Status.FAILED
    assert "缺少必填列" in job.error_message
    assert "缺少必填列" in client.get(reverse("admissions:import_jobs")).content.decode()
    assert not AdmissionRecord.objects.filter(id_number=person_id(1)).exists()


def _queued_job(world: World, path: Path) -> ImportJob:
    with path.open("rb") as stream:
        return imports.import_job_create(
            actor=world.registrar_a, school=world.school_a, stream=stream, file_name=path.name, enqueue=False
        )


def _already_checked_in(world: World, tmp_path: Path, serial: int) -> dict[str, object]:
    """A person imported at school A and checked in (报到) since: a row of theirs the database side refuses."""
    enrolled = school_a_row(serial)
    imports.import_job_run(_queued_job(world, workbook(tmp_path / "enrolled.xlsx", [enrolled])).pk)
    AdmissionRecord.objects.filter(id_number=enrolled["id_number"]).update(state=AdmissionRecord.State.CHECKED_IN)
    return enrolled


def test_a_resumed_job_finishes_with_exact_counts_and_writes_no_row_twice(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "BATCH_SIZE", 10)
    rows = [school_a_row(n) for n in range(1, 36)]
    for n in (3, 17, 33):
        rows[n - 1]["health_status"] = "很差"
    job = _queued_job(world, workbook(tmp_path / "名单.xlsx", rows))
    calls = {"n": 0}
    real = imports._write_batch_once

    def dies_on_third_batch(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:
            raise SystemExit("worker killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(imports, "_write_batch_once", dies_on_third_batch)
    with pytest.raises(SystemExit):
        imports.import_job_run(job.pk)
    job.refresh_from_db()
    assert (job.status, job.committed_rows, job.created_count, job.failed_count) == ("running", 20, 18, 2)
    assert not imports.import_job_claim(job.pk)  # its heartbeat is fresh: nobody else may take it yet
    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=stale_before() - timedelta(minutes=2))
    assert imports.import_jobs_requeue_stale() == 1  # the task queue gets a new task for it
    monkeypatch.setattr(imports, "_write_batch_once", real)
    imports.import_job_run(job.pk)
    job.refresh_from_db()
    assert (job.status, job.total_rows, job.created_count, job.updated_count, job.failed_count) == (
        "done", 35, 32, 0, 3,
    )  # fmt: skip
    assert job.attempts == 2
    assert AdmissionRecord.objects.filter(import_job=job).count() == 32
    assert sorted(job.failures.values_list("row_number", flat=True)) == [4, 18, 34]


def test_two_workers_never_run_the_same_job(world: World, tmp_path: Path) -> None:
    job = _queued_job(world, workbook(tmp_path / "名单.xlsx", [school_a_row(1)]))
    assert imports.import_job_claim(job.pk) is True
    assert imports.import_job_claim(job.pk) is False
    # The loser of the race returns without touching the job.
    assert imports.import_job_run(job.pk).status == ImportJob.Status.RUNNING
    assert not AdmissionRecord.objects.filter(import_job=job).exists()


def test_command_line_import_prints_progress_and_exits_non_zero_on_failed_rows(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [school_a_row(n) for n in range(1, 4)]
    rows[1]["grade"] = "1999"
    path = workbook(tmp_path / "名单.xlsx", rows)
    code = cli_main(["import", str(path), "--school", "3111010001"])
    out, err = capsys.readouterr()
    assert code == 1
    assert "导入完成：共 3 行，新增 2，更新 0，失败 1" in out
    assert "3/3 行" in err
    failures = tmp_path / "名单-失败数据.xlsx"
    assert failures.exists() and f"失败的行已写入 {failures}" in err
    assert cli_main(["import", str(path), "--school", "3111010001"]) == 1
    assert "新增 0，更新 2，失败 1" in capsys.readouterr().out
    ok = workbook(tmp_path / "好.xlsx", [school_a_row(9)])
    assert cli_main(["import", str(ok), "--school", "3111010001"]) == 0
    assert cli_main(["import", str(ok), "--school", "9999999999"]) == 1
    assert "学校标识码 9999999999 不存在" in capsys.readouterr().err


def test_a_large_file_is_read_in_a_second_process_with_the_same_outcome(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files from READER_PROCESS_MIN_BYTES on are read and validated by a child process while the job writes:
    counts, failure reasons and the failure workbook (rows refused by the database side included, as
    submitted) are those of the in-process path."""
    monkeypatch.setattr(imports, "READER_PROCESS_MIN_BYTES", 0)
    monkeypatch.setattr(imports, "BATCH_SIZE", 4)
    enrolled = _already_checked_in(world, tmp_path, 40)
    rows = [school_a_row(n) for n in range(1, 11)]
    rows[2]["ethnicity"] = "火星族"
    rows[6] = {**enrolled, "name": "王已报"}  # valid in the file, refused by the database side
    job = imports.import_job_run(_queued_job(world, workbook(tmp_path / "b.xlsx", rows)).pk)
    assert (job.status, job.total_rows, job.created_count, job.updated_count, job.failed_count) == (
        "done", 10, 8, 0, 2,
    )  # fmt: skip
    assert sorted(job.failures.values_list("row_number", flat=True)) == [4, 8]
    path = imports.import_failure_path(job)
    assert path is not None
    failed = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    header = failed[0]
    assert [(r[header.index("★姓名")], r[header.index("原行号")]) for r in failed[1:]] == [
        (rows[2]["name"], 4), ("王已报", 8),
    ]  # fmt: skip
    assert "已报到注册、已有学籍" in str(failed[2][-1])
    broken = tmp_path / "缺列.xlsx"
    from tests.records.helpers import write_xlsx

    write_xlsx(broken, ["姓名", "身份证件号", "性别"], [["张三", person_id(1), "男"]])
    job = imports.import_job_run(_queued_job(world, broken).pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and "缺少必填列" in job.error_message


def readers_used(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int | None, int]]:
    """Filled, for each file read, with (where the sheet was cut or None, how many reader processes read it)."""
    used: list[tuple[int | None, int]] = []
    start = reader.BatchReader._start

    def spy(self: reader.BatchReader, *, split: bool) -> None:
        start(self, split=split)
        used.append((self.info.cut, len(self._children)))

    monkeypatch.setattr(reader.BatchReader, "_start", spy)
    return used


def test_a_large_xlsx_read_in_two_parts_has_the_outcome_of_one_reader(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From READER_SPLIT_MIN_BYTES on, two reader processes parse half of the sheet each (records/split.py).
    Counts, reasons and the failure workbook are those of one reader: an ID number of the first half repeated
    in the second half fails there, naming the first row, and rows refused by the database side come back
    as submitted."""
    monkeypatch.setattr(imports, "READER_PROCESS_MIN_BYTES", 0)
    monkeypatch.setattr(imports, "READER_SPLIT_MIN_BYTES", 0)
    monkeypatch.setattr(imports, "BATCH_SIZE", 4)
    enrolled = _already_checked_in(world, tmp_path, 90)
    rows = [school_a_row(n) for n in range(1, 41)]
    rows[2]["ethnicity"] = "火星族"  # sheet row 4
    rows[35]["ethnicity"] = "火星族"  # sheet row 37
    rows[29] = {**rows[4], "name": "重复者"}  # sheet row 31 repeats row 6's ID number
    rows[33] = {**enrolled, "name": "王已报"}  # sheet row 35: valid in the file, refused by the database side
    path = workbook(tmp_path / "b.xlsx", rows)

    from tests.records.test_split import parts

    cut, _ = parts(path, tmp_path)
    assert cut is not None and 6 < cut < 31  # the repeated ID number is in the second part
    used = readers_used(monkeypatch)
    # The parts are stored uncompressed: larger than the upload, whose size limit they need not meet.
    monkeypatch.setattr(imports, "RUN_LIMITS", replace(imports.RUN_LIMITS, max_file_bytes=path.stat().st_size))
    job = imports.import_job_run(_queued_job(world, path).pk)
    assert used == [(cut, 2)]  # read by two processes, cut where the test expects
    assert (job.status, job.total_rows, job.created_count, job.updated_count, job.failed_count) == (
        "done", 40, 36, 0, 4,
    )  # fmt: skip
    reasons = {f.row_number: " ".join(r["message"] for r in f.reasons) for f in job.failures.all()}
    assert sorted(reasons) == [4, 31, 35, 37]
    assert "与第6行身份证件号重复" in reasons[31]
    assert AdmissionRecord.objects.get(id_number=rows[4]["id_number"]).name == rows[4]["name"]
    path = imports.import_failure_path(job)
    assert path is not None
    failed = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    header = failed[0]
    assert [(r[header.index("★姓名")], r[header.index("原行号")]) for r in failed[1:]] == [
        (rows[2]["name"], 4), ("重复者", 31), ("王已报", 35), (rows[35]["name"], 37),
    ]  # fmt: skip
    assert not list(imports.imports_dir().glob(".*.parts"))  # the parts are removed with the readers


def test_a_large_xlsx_that_cannot_be_cut_is_read_whole(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sheet the cutter does not fully understand (here: an XML comment among its rows) is read by one
    process, with the same outcome."""
    monkeypatch.setattr(imports, "READER_PROCESS_MIN_BYTES", 0)
    monkeypatch.setattr(imports, "READER_SPLIT_MIN_BYTES", 0)
    from tests.records.test_split import edit_sheet

    rows = [school_a_row(n) for n in range(1, 31)]
    rows[25]["ethnicity"] = "火星族"
    path = edit_sheet(
        workbook(tmp_path / "c.xlsx", rows), lambda xml: xml.replace(b"</sheetData>", b"<!-- x --></sheetData>")
    )
    used = readers_used(monkeypatch)
    job = imports.import_job_run(_queued_job(world, path).pk)
    assert used == [(None, 1)]
    assert (job.status, job.total_rows, job.created_count, job.failed_count) == ("done", 30, 29, 1)
    assert list(job.failures.values_list("row_number", flat=True)) == [27]


def test_a_large_xlsx_whose_shared_strings_are_numbered_otherwise_is_read_whole(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first part keeps only the shared strings numbered before the cut's row (records/split.py). Strings
    numbered in another order make that part unreadable; the file is then read by one process, with the
    same outcome as any other."""
    monkeypatch.setattr(imports, "READER_PROCESS_MIN_BYTES", 0)
    monkeypatch.setattr(imports, "READER_SPLIT_MIN_BYTES", 0)
    from tests.records.test_split import reorder_shared_strings

    rows = [school_a_row(n) for n in range(1, 41)]
    rows[30]["ethnicity"] = "火星族"
    path = reorder_shared_strings(workbook(tmp_path / "d.xlsx", rows))
    monkeypatch.setattr(imports, "RUN_LIMITS", replace(imports.RUN_LIMITS, max_file_bytes=10 * path.stat().st_size))
    used = readers_used(monkeypatch)
    job = imports.import_job_run(_queued_job(world, path).pk)
    assert used == [(None, 1)]
    assert (job.status, job.total_rows, job.created_count, job.failed_count) == ("done", 40, 39, 1)
    assert list(job.failures.values_list("row_number", flat=True)) == [32]
    assert AdmissionRecord.objects.get(id_number=rows[39]["id_number"]).name == rows[39]["name"]


def test_deleting_the_job_or_the_user_keeps_the_records_and_forgets_where_they_came_from(
    world: World, tmp_path: Path
) -> None:
    """``import_job`` and ``created_by`` have no database constraint (docs/decisions.md): Django's SET_NULL
    must still clear them, or the records would point at a job or user that is gone."""
    job = imports.import_job_run(_queued_job(world, workbook(tmp_path / "名单.xlsx", [school_a_row(1)])).pk)
    record = AdmissionRecord.objects.get(import_job=job)
    assert record.created_by == world.registrar_a
    job.delete()
    record.refresh_from_db()
    assert (record.import_job_id, record.created_by_id) == (None, world.registrar_a.pk)
    world.registrar_a.delete()
    record.refresh_from_db()
    assert record.created_by_id is None


def test_a_file_that_breaks_part_way_keeps_the_rows_before_and_says_so(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Most problems with a file are found before any row is written. One found part way (more non-blank rows
    than allowed, which the upload's check of the sheet's extent leaves a little room for; here the limit is
    lowered to 12) leaves the batches before it written, and the job's message says so and what to do, instead
    of suggesting that nothing was imported."""
    monkeypatch.setattr(imports, "BATCH_SIZE", 4)
    monkeypatch.setattr(imports, "RUN_LIMITS", replace(imports.RUN_LIMITS, max_rows=12))
    job = imports.import_job_run(
        _queued_job(world, workbook(tmp_path / "名单.xlsx", [school_a_row(n) for n in range(1, 16)])).pk
    )
    assert job.status == ImportJob.Status.FAILED
    assert (job.committed_rows, job.created_count) == (12, 12)
    assert AdmissionRecord.objects.filter(import_job=job).count() == 12
    assert job.error_message.startswith("数据超过12行，请分成几个文件。在此之前的12行已经处理")
    assert "重新导入即可，已导入的学生会被更新，不会重复" in job.error_message
