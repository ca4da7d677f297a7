"""上报盘 built in the background: a district with thousands of new students gets its ZIP from a worker (the
PDF of every student takes longer than a request should), with its step shown and a download link.

The package is the same as the small path's (``filing.package_build``); the worker recomputes the scope from
the job's user, so a user who has lost access since asking gets nothing.
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from xueji.jobs import job_claim, job_files_sweep, jobs_requeue_stale
from xueji.orgs.models import Region, Role, User
from xueji.orgs.selectors import schools_visible_to
from xueji.roster.filing import Scope, package_build, scope_of_district, scope_of_school
from xueji.roster.models import PackageJob
from xueji.storage import private_dir

logger = logging.getLogger(__name__)


def package_inline_limit() -> int:
    """Above this many students of the scope and grade the package is built in the background."""
    return int(getattr(settings, "XUEJI_PACKAGE_INLINE_ROWS", 2000))


def package_jobs_dir() -> Path:
    return private_dir("filings_out")


def package_jobs_visible_to(user: User) -> QuerySet[PackageJob]:
    """A package job is its user's alone (as an export is)."""
    return PackageJob.objects.filter(user=user)


def package_job_create(*, user: User, scope: Scope, grade: int, total: int) -> PackageJob:
    with transaction.atomic():
        job = PackageJob.objects.create(
            user=user,
            scope_kind=scope.kind,
            scope_code=scope.code,
            scope_name=scope.name,
            grade=grade,
            total_rows=total,
        )
        transaction.on_commit(lambda: enqueue_package(job.pk))
    return job


def enqueue_package(job_id: int) -> None:
    from xueji.roster.tasks import run_package

    run_package.enqueue(job_id)


def package_jobs_requeue_stale() -> int:
    """Queue again every running build whose worker went silent (a build only reads: running it again is safe)."""
    return jobs_requeue_stale(PackageJob, running=[PackageJob.Status.RUNNING], enqueue=enqueue_package)


def package_files_sweep(keep_days: int = 7) -> int:
    """Finished packages hold names of students: their files go after ``keep_days``; the job stays listed."""
    return job_files_sweep(PackageJob, folder=package_jobs_dir(), keep_days=keep_days)


def _scope_for(job: PackageJob) -> Scope | None:
    """The job's scope, if its user may still file it: a district reviewer their district (or one of its
    schools), a school's user their school."""
    user = job.user
    if job.scope_kind == "district":
        if user.role != Role.DISTRICT_REVIEWER or user.region_id is None:
            return None
        district = Region.objects.select_related("parent").filter(pk=user.region_id, code=job.scope_code).first()
        return scope_of_district(district) if district else None
    school = schools_visible_to(user).select_related("district__parent").filter(code=job.scope_code).first()
    return scope_of_school(school) if school else None


def _step(job_id: int, label: str) -> None:
    PackageJob.objects.filter(pk=job_id).update(step=label, heartbeat_at=timezone.now())


def package_job_run(job_id: int) -> None:
    """Claim the job (a conditional update: two workers never both build it), build, keep the file, finish."""
    running = [PackageJob.Status.RUNNING]
    if not job_claim(PackageJob, job_id, running=running, status=PackageJob.Status.RUNNING):
        return
    job = PackageJob.objects.select_related("user").get(pk=job_id)
    scope = _scope_for(job)
    if scope is None:
        PackageJob.objects.filter(pk=job_id).update(
            status=PackageJob.Status.FAILED, error_message="已无权导出该范围的上报盘", finished_at=timezone.now()
        )
        return
    stored = f"{uuid.uuid4().hex}.zip"
    path = package_jobs_dir() / stored
    try:
        data = package_build(user=job.user, scope=scope, grade=job.grade, step=lambda label: _step(job_id, label))
        path.write_bytes(data)
    except Exception as error:  # the user sees that it failed; the log has the cause
        logger.exception("package job %s failed", job_id)
        path.unlink(missing_ok=True)
        PackageJob.objects.filter(pk=job_id).update(
            status=PackageJob.Status.FAILED,
            error_message=f"生成失败：{type(error).__name__}",
            finished_at=timezone.now(),
        )
        return
    PackageJob.objects.filter(pk=job_id).update(
        status=PackageJob.Status.DONE, step="", stored_name=stored, finished_at=timezone.now()
    )


def package_job_file(job: PackageJob) -> Path | None:
    if job.status != PackageJob.Status.DONE or not job.stored_name:
        return None
    path = package_jobs_dir() / job.stored_name
    return path if path.is_file() else None
