from __future__ import annotations

from django_tasks import task

from xueji.students.exports import export_job_run


@task()
def run_export(job_id: int) -> None:
    """The background side of a large 导出: the embedded worker (or an rq worker) picks it up within seconds."""
    export_job_run(job_id)
