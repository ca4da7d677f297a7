from __future__ import annotations

from django_tasks import task

from xueji.admissions.imports import import_job_run


@task()
def run_import(job_id: int) -> None:
    """The background side of 导入名单: the embedded worker (or an rq worker) picks it up within seconds."""
    import_job_run(job_id)
