from __future__ import annotations

from django.db import models


class WorkerHeartbeat(models.Model):
    """One row per running `xueji worker` process, touched every sweep round, so `xueji doctor` can tell
    whether any worker is alive: neither django-tasks-db nor an idle RQ queue records that."""

    worker = models.CharField(max_length=255, unique=True)  # host:pid
    backend = models.CharField(max_length=16)
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.worker
