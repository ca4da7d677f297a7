"""Worker liveness: every `xueji worker` touches its heartbeat row each sweep round; `xueji doctor` reads them."""

from __future__ import annotations

import datetime as dt
import os
import socket

from django.conf import settings
from django.utils import timezone

from xueji.ops.models import WorkerHeartbeat

_STARTED_AT = timezone.now()


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def worker_heartbeat() -> None:
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(
        worker=worker_name(),
        defaults={"backend": settings.TASK_BACKEND, "seen_at": now},
        create_defaults={"backend": settings.TASK_BACKEND, "seen_at": now, "started_at": _STARTED_AT},
    )
    # Rows of workers gone for a day are only noise for the doctor.
    WorkerHeartbeat.objects.filter(seen_at__lt=now - dt.timedelta(days=1)).delete()


def workers_alive() -> list[WorkerHeartbeat]:
    cutoff = timezone.now() - dt.timedelta(seconds=settings.XUEJI_WORKER_SILENT_SECONDS)
    return list(WorkerHeartbeat.objects.filter(seen_at__gte=cutoff).order_by("worker"))
