from __future__ import annotations

from django_tasks import task

from xueji.roster.packagejobs import package_job_run


@task()
def run_package(job_id: int) -> None:
    """The background side of a large 上报盘: the embedded worker (or an rq worker) picks it up."""
    package_job_run(job_id)
