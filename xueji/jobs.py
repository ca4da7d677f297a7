"""What every background job (导入名单, 导出, 录取名册 loads, 上报盘 builds) shares: when a running job counts as
abandoned, queueing abandoned jobs again, and removing old result files.

Each job model has ``status``, ``heartbeat_at`` (refreshed while it runs) and, for jobs that leave a file,
``stored_name`` and ``finished_at``; every job model's status is "queued" until a worker claims it."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


def stale_before() -> datetime.datetime:
    """A running job whose worker has not reported since this moment is taken to be dead (killed, host lost)
    and may be claimed again. A step takes well under a second, so the default of two minutes is wide."""
    return timezone.now() - datetime.timedelta(seconds=settings.XUEJI_IMPORT_STALE_SECONDS)


def job_claim(model: type[models.Model], job_id: int, *, running: Iterable[str], **claimed: Any) -> bool:
    """Take the job for this worker: a queued one, or one in a ``running`` state whose heartbeat went stale. One
    conditional update, so two workers racing for the same job agree on one winner; ``claimed`` holds the fields
    it sets (the running state, counters), beside a fresh heartbeat."""
    claimable = Q(status="queued") | Q(status__in=list(running), heartbeat_at__lt=stale_before())
    return model._default_manager.filter(claimable, pk=job_id).update(heartbeat_at=timezone.now(), **claimed) == 1


def jobs_requeue_stale(model: type[models.Model], *, running: Iterable[str], enqueue: Callable[[int], object]) -> int:
    """Queue again every job in one of the ``running`` states whose heartbeat went stale; returns how many."""
    stale = list(
        model._default_manager.filter(status__in=list(running), heartbeat_at__lt=stale_before()).values_list(
            "pk", flat=True
        )
    )
    for job_id in stale:
        enqueue(job_id)
    return len(stale)


def job_files_sweep(model: type[models.Model], *, folder: Path, keep_days: int) -> int:
    """Result files hold personal data: a finished job's file goes after ``keep_days``; the job stays listed
    (its ``stored_name`` emptied, so the page no longer offers the download)."""
    cutoff = timezone.now() - datetime.timedelta(days=keep_days)
    swept = 0
    for job_id, stored_name in (
        model._default_manager.filter(finished_at__lt=cutoff).exclude(stored_name="").values_list("pk", "stored_name")
    ):
        (folder / stored_name).unlink(missing_ok=True)
        model._default_manager.filter(pk=job_id).update(stored_name="")
        swept += 1
    return swept
