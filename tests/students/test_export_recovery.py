"""An export whose worker died is run again; old export files (personal data) are removed."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from tests.conftest import World
from xueji.students.exports import (
    export_file,
    export_files_sweep,
    export_job_run,
    export_jobs_requeue_stale,
    exports_dir,
)
from xueji.students.models import ExportJob


def test_a_stale_running_export_is_claimed_again_and_finishes(world: World) -> None:
    job = ExportJob.objects.create(
        user=world.registrar_a, columns=["name", "id_number"], file_format="csv", status=ExportJob.Status.RUNNING,
        heartbeat_at=timezone.now(),
    )  # fmt: skip
    export_job_run(job.pk)  # its worker is alive: nobody else takes it
    job.refresh_from_db()
    assert job.status == ExportJob.Status.RUNNING
    ExportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    assert export_jobs_requeue_stale() == 1
    export_job_run(job.pk)
    job.refresh_from_db()
    assert job.status == ExportJob.Status.DONE and job.total_rows == 1
    path = export_file(job)
    assert path is not None and world.student_a.id_number in path.read_text(encoding="utf-8-sig")


def test_export_files_older_than_a_week_are_removed(world: World) -> None:
    old = ExportJob.objects.create(
        user=world.registrar_a, columns=["name"], file_format="csv", status=ExportJob.Status.DONE,
        stored_name="old-export.csv", finished_at=timezone.now() - timedelta(days=8),
    )  # fmt: skip
    recent = ExportJob.objects.create(
        user=world.registrar_a, columns=["name"], file_format="csv", status=ExportJob.Status.DONE,
        stored_name="recent-export.csv", finished_at=timezone.now() - timedelta(days=1),
    )  # fmt: skip
    for job in (old, recent):
        (exports_dir() / job.stored_name).write_text("姓名\n李小红\n", encoding="utf-8")
    assert export_files_sweep() == 1
    assert not (exports_dir() / "old-export.csv").exists() and (exports_dir() / "recent-export.csv").exists()
    old.refresh_from_db()
    assert export_file(old) is None and export_file(recent) is not None
