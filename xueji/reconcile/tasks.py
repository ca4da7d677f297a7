from __future__ import annotations

from django_tasks import task

from xueji.reconcile.loadjobs import roster_load_job_run


@task()
def run_roster_load(job_id: int) -> None:
    """The background side of a large 录取名册 upload: the embedded worker (or an rq worker) picks it up."""
    roster_load_job_run(job_id)
