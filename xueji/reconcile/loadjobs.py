"""录取名册 loaded in the background: a file larger than a request should read (tens of thousands of rows) is
kept, queued, checked and written by a worker, while the city watches its status on the 录取名册 page.

The load itself is the same service as the small-file path (``services.roster_load``): whole or not at all.
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from xueji.jobs import job_claim, jobs_requeue_stale
from xueji.orgs.models import Region, Role, User
from xueji.reconcile.models import RosterLoadJob
from xueji.reconcile.rosterfile import RosterFileError
from xueji.reconcile.services import roster_load
from xueji.records.workbook import save_upload
from xueji.storage import private_dir

logger = logging.getLogger(__name__)
SHOWN_ERRORS = 20


def roster_inline_limit() -> int:
    """Files up to this many bytes load within the request (a few thousand rows, a second or two)."""
    return int(getattr(settings, "XUEJI_ROSTER_INLINE_BYTES", 1024 * 1024))


def uploads_dir() -> Path:
    return private_dir("roster_uploads")


def roster_jobs_visible_to(user: User) -> QuerySet[RosterLoadJob]:
    """The roster is the city's: only its administrator sees the jobs."""
    if user.role != Role.CITY_ADMIN or user.region_id is None:
        return RosterLoadJob.objects.none()
    return RosterLoadJob.objects.filter(city_id=user.region_id)


def roster_load_job_create(
    *, city: Region, actor: User, stream: BinaryIO, file_name: str, intake_year: int
) -> RosterLoadJob:
    """Keep the upload (within the size limit: WorkbookError otherwise, nothing kept) and queue its load."""
    stored = f"{uuid.uuid4().hex}-roster"
    path = save_upload(stream, uploads_dir() / stored)
    try:
        with transaction.atomic():
            job = RosterLoadJob.objects.create(
                city=city, intake_year=intake_year, file_name=file_name[:255], stored_name=stored, created_by=actor
            )
            transaction.on_commit(lambda: enqueue_roster_load(job.pk))
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return job


def enqueue_roster_load(job_id: int) -> None:
    from xueji.reconcile.tasks import run_roster_load

    run_roster_load.enqueue(job_id)


def _heartbeat(job_id: int, **fields: object) -> None:
    RosterLoadJob.objects.filter(pk=job_id).update(heartbeat_at=timezone.now(), **fields)


def roster_load_jobs_requeue_stale() -> int:
    """Queue again every job whose worker went silent. The load is one transaction, so a dead worker left
    nothing behind, and the claim lets exactly one worker run it again from the start."""
    return jobs_requeue_stale(
        RosterLoadJob,
        running=[RosterLoadJob.Status.CHECKING, RosterLoadJob.Status.WRITING],
        enqueue=enqueue_roster_load,
    )


def roster_load_job_run(job_id: int) -> None:
    """The background side: claim the job (a conditional update, so two workers never both run it), check the
    whole file with progress, write it in one transaction, record the load or the reasons, drop the upload."""
    running = [RosterLoadJob.Status.CHECKING, RosterLoadJob.Status.WRITING]
    if not job_claim(RosterLoadJob, job_id, running=running, status=RosterLoadJob.Status.CHECKING, processed_rows=0):
        return
    job = RosterLoadJob.objects.select_related("city", "created_by").get(pk=job_id)
    path = uploads_dir() / job.stored_name
    finished: dict[str, object] = {"stored_name": "", "finished_at": timezone.now()}
    try:
        load = roster_load(
            city=job.city,
            actor=job.created_by,
            path=path,
            file_name=job.file_name,
            intake_year=job.intake_year,
            progress=lambda rows: _heartbeat(job_id, processed_rows=rows),
            checked=lambda rows: _heartbeat(job_id, processed_rows=rows, status=RosterLoadJob.Status.WRITING),
        )
    except RosterFileError as error:
        finished.update(status=RosterLoadJob.Status.FAILED, error_messages=error.messages)
    except Exception as error:  # the city sees that it failed; the log has the cause
        logger.exception("roster load job %s failed", job_id)
        finished.update(status=RosterLoadJob.Status.FAILED, error_messages=[f"导入失败：{type(error).__name__}"])
    else:
        finished.update(status=RosterLoadJob.Status.DONE, load=load, processed_rows=load.row_count)
    finished["finished_at"] = timezone.now()
    RosterLoadJob.objects.filter(pk=job_id).update(**finished)
    path.unlink(missing_ok=True)
