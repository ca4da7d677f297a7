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

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        verbose_name = _("上报盘")
        indexes = [models.Index(fields=["city", "-uploaded_at"], name="filing_city_idx")]

    def __str__(self) -> str:
        return f"{self.scope_name or self.file_name}:{self.verdict}"
