"""上报盘 received by the city: every upload is logged, received or rejected, with the exact reason."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class FilingPackage(models.Model):
    class Verdict(models.TextChoices):
        RECEIVED = "received", _("已接收")
        REJECTED = "rejected", _("已拒收")

    city = models.ForeignKey("orgs.Region", on_delete=models.PROTECT, related_name="filing_packages")
    # The scope the manifest names (a district or a school); empty when the package could not be read.
    scope_kind = models.CharField(_("范围类型"), max_length=16, blank=True)
    scope_code = models.CharField(_("范围代码"), max_length=16, blank=True)
    scope_name = models.CharField(_("范围"), max_length=100, blank=True)
    grade = models.PositiveSmallIntegerField(_("年级"), null=True, blank=True)
    file_name = models.CharField(_("文件名"), max_length=255)
    file_sha256 = models.CharField(max_length=64)
    file_bytes = models.PositiveBigIntegerField(default=0)
    # The uploaded ZIP as received, under MEDIA_ROOT/filings/ (never served directly: the city's download view
    # checks scope first). Empty for an upload over the size limit, which is not kept.
    stored_name = models.CharField(max_length=64, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, db_index=False)
    uploaded_at = models.DateTimeField(_("上传时间"), default=timezone.now)
    verdict = models.CharField(_("结果"), max_length=16, choices=Verdict.choices)
    reason = models.TextField(_("原因"), blank=True)
    manifest = models.JSONField(null=True, blank=True)
    # Where the package's approved students differ from the filed record of the grade's closed campaign
    # (xueji.campaigns.filed), one sentence each; notes for the city, not part of the verdict.
    filed_notes = models.JSONField(_("与备案记录的差异"), default=list, blank=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        verbose_name = _("上报盘")
        indexes = [models.Index(fields=["city", "-uploaded_at"], name="filing_city_idx")]

    def __str__(self) -> str:
        return f"{self.scope_name or self.file_name}:{self.verdict}"


class PackageJob(models.Model):
    """A large 上报盘 (more students than a request should print) built by a worker. Only the user who asked
    sees it; the worker checks that user's scope again when it runs. The ZIP waits under
    MEDIA_ROOT/filings_out/ for a week."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("生成中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="package_jobs")
    scope_kind = models.CharField(max_length=16)  # "district" or "school"
    scope_code = models.CharField(max_length=16)
    scope_name = models.CharField(_("范围"), max_length=100)
    grade = models.PositiveSmallIntegerField(_("年级"))
    total_rows = models.PositiveIntegerField(default=0)
    step = models.CharField(_("步骤"), max_length=32, blank=True)  # what the worker is doing now
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    stored_name = models.CharField(max_length=64, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("上报盘生成任务")
        indexes = [models.Index(fields=["user", "-created_at"], name="package_job_user_idx")]

    def __str__(self) -> str:
        return f"{self.scope_name}:{self.status}"

    @property
    def active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def download_name(self) -> str:
        return f"上报盘-{self.scope_name}-{self.grade}级-{timezone.localtime(self.created_at):%Y%m%d%H%M}.zip"
