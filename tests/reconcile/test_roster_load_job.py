"""A large 录取名册 loads in the background (django-tasks), with its status on the 录取名册 page; the small
file still loads within the request."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from tests.conftest import World
from tests.reconcile.helpers import roster_csv, roster_xlsx
from xueji.audit.models import AuditEvent
from xueji.reconcile import loadjobs
from xueji.reconcile.models import RosterEntry, RosterLoad, RosterLoadJob

A = "3111010001"


def _rows(count: int) -> list[list[object]]:
    return [
        [f"26110101{n:06d}", f"2026110{n:06d}", f"考生{n}", "", A, "计算机应用", "统一招生/第一批"]
        for n in range(1, count + 1)
    ]


def _upload(world: World, data: bytes, name: str, capture) -> str:  # type: ignore[no-untyped-def]
    client = world.client_for(world.city_admin)
    with capture(execute=True):
        response = client.post(
            reverse("reconcile:roster_upload"),
            {"intake_year": "2026", "file": SimpleUploadedFile(name, data)},
            follow=True,
        )
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.usefixtures("immediate_tasks")
def test_a_large_roster_loads_in_the_background_and_the_page_shows_the_outcome(
    world: World, settings, tmp_path: Path, django_capture_on_commit_callbacks
) -> None:
    settings.XUEJI_ROSTER_INLINE_BYTES = 1000  # this file is larger
    data = roster_xlsx(tmp_path / "r.xlsx", _rows(300)).read_bytes()
    assert len(data) > 1000
    page = _upload(world, data, "全市录取名册.xlsx", django_capture_on_commit_callbacks)
    assert "正在后台检查和导入" in page
    job = RosterLoadJob.objects.get()
    load = RosterLoad.objects.get()
    assert (job.status, job.processed_rows, job.load, job.created_by) == ("done", 300, load, world.city_admin)
    assert (load.row_count, load.is_current, load.loaded_by) == (300, True, world.city_admin)
    assert RosterEntry.objects.filter(load=load).count() == 300
    assert AuditEvent.objects.filter(action="roster.load").count() == 1
    assert job.stored_name == "" and list(loadjobs.uploads_dir().glob("*-roster")) == []  # the upload is gone
    status = world.client_for(world.city_admin).get(reverse("reconcile:roster_jobs")).content.decode()
    assert "已导入" in status and reverse("reconcile:roster_detail", args=[load.pk]) in status
    assert "hx-trigger" not in status  # nothing left to poll for


@pytest.mark.usefixtures("immediate_tasks")
def test_a_large_bad_roster_loads_nothing_and_lists_its_errors(
    world: World, settings, tmp_path: Path, django_capture_on_commit_callbacks
) -> None:
    settings.XUEJI_ROSTER_INLINE_BYTES = 1000
    rows = _rows(200)
    rows[49][2] = ""  # row 51 of the file (header on row 1)
    rows[120][4] = "12345"
    data = roster_csv(tmp_path / "r.csv", rows).read_bytes()
    _upload(world, data, "名册.csv", django_capture_on_commit_callbacks)
    job = RosterLoadJob.objects.get()
    assert job.status == "failed" and not RosterLoad.objects.exists() and not RosterEntry.objects.exists()
    assert job.error_messages == ["第51行：姓名为空", "第122行：录取学校代码“12345”应为10位数字"]
    page = world.client_for(world.city_admin).get(reverse("reconcile:roster")).content.decode()
    assert "未导入" in page and "第51行：姓名为空" in page and "请改正后重新上传" in page


def test_a_queued_job_is_polled_and_run_by_one_worker_only(world: World, tmp_path: Path) -> None:
    path = roster_csv(tmp_path / "r.csv", _rows(3))
    with path.open("rb") as stream:
        job = loadjobs.roster_load_job_create(
            city=world.city, actor=world.city_admin, stream=stream, file_name="r.csv", intake_year=2026
        )
    page = world.client_for(world.city_admin).get(reverse("reconcile:roster")).content.decode()
    assert "排队中" in page and 'hx-trigger="every 1s"' in page
    # A running job with a fresh heartbeat is not claimed again; a stale one is, and finishes once.
    RosterLoadJob.objects.filter(pk=job.pk).update(status="checking", heartbeat_at=timezone.now())
    loadjobs.roster_load_job_run(job.pk)
    assert not RosterLoad.objects.exists()
    RosterLoadJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - datetime.timedelta(hours=1))
    loadjobs.roster_load_job_run(job.pk)
    loadjobs.roster_load_job_run(job.pk)
    job.refresh_from_db()
    assert job.status == "done" and RosterLoad.objects.count() == 1


def test_a_small_roster_still_loads_within_the_request(world: World, tmp_path: Path) -> None:
    data = roster_xlsx(tmp_path / "r.xlsx", _rows(5)).read_bytes()
    response = world.client_for(world.city_admin).post(
        reverse("reconcile:roster_upload"),
        {"intake_year": "2026", "file": SimpleUploadedFile("名册.xlsx", data)},
        follow=True,
    )
    assert "已导入“名册.xlsx”：5 行" in response.content.decode()
    assert not RosterLoadJob.objects.exists()


def test_only_the_citys_administrator_sees_its_jobs(world: World, tmp_path: Path) -> None:
    path = roster_csv(tmp_path / "r.csv", _rows(3))
    with path.open("rb") as stream:
        loadjobs.roster_load_job_create(
            city=world.city, actor=world.city_admin, stream=stream, file_name="北京名册.csv", intake_year=2026
        )
    other = world.client_for(world.other_city_admin).get(reverse("reconcile:roster_jobs")).content.decode()
    assert "北京名册.csv" not in other
    assert world.client_for(world.reviewer_a).get(reverse("reconcile:roster_jobs")).status_code == 403


def test_reading_reports_progress(tmp_path: Path) -> None:
    from xueji.reconcile.rosterfile import roster_read

    seen: list[int] = []
    lines = roster_read(roster_csv(tmp_path / "r.csv", _rows(250)), progress=seen.append, progress_every=100)
    assert len(lines) == 250 and seen == [100, 200]
