"""录取名册 (the exam authority's admission roster, loaded by the city), its rows and their corrections."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xueji.orgs.models import Region


class RosterLoad(models.Model):
    """One uploaded roster file. Every load is kept; the latest of a city's intake is the current one."""

    city = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="roster_loads")
    intake_year = models.PositiveSmallIntegerField(_("年级"))
    file_name = models.CharField(_("文件名"), max_length=255)
    loaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, db_index=False)
    loaded_at = models.DateTimeField(_("导入时间"), default=timezone.now)
    row_count = models.PositiveIntegerField(_("行数"), default=0)
    is_current = models.BooleanField(_("当前名册"), default=True)

    class Meta:
        ordering = ["-loaded_at", "-id"]
        verbose_name = _("录取名册")
        constraints = [
            # Reconciliation reads "the" roster of a city's intake: a corrected load replaces the previous one.
            models.UniqueConstraint(
                fields=["city", "intake_year"], condition=Q(is_current=True), name="roster_one_current_per_intake"
            )
        ]

    def __str__(self) -> str:
        return self.file_name


class RosterLoadJob(models.Model):
    """A large roster file loaded in the background: the city sees it checked and written, then the load it
    made or the reasons it was refused. The upload waits under MEDIA_ROOT/roster_uploads/ until then."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        CHECKING = "checking", _("检查中")
        WRITING = "writing", _("写入中")
        DONE = "done", _("已导入")
        FAILED = "failed", _("未导入")

    city = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="roster_load_jobs")
    intake_year = models.PositiveSmallIntegerField(_("年级"))
    file_name = models.CharField(_("文件名"), max_length=255)
    stored_name = models.CharField(max_length=64, blank=True)  # removed once the job has finished
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    processed_rows = models.PositiveIntegerField(default=0)
    error_messages = models.JSONField(default=list)
    load = models.ForeignKey(RosterLoad, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    # Refreshed while the file is read: a job whose worker died goes stale and is run again (all or nothing).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("名册导入任务")
        indexes = [models.Index(fields=["city", "-created_at"], name="roster_job_city_idx")]

    def __str__(self) -> str:
        return f"{self.file_name}:{self.status}"

    @property
    def active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.CHECKING, self.Status.WRITING)


class RosterEntry(models.Model):
    """One admitted candidate as the roster lists them."""

    load = models.ForeignKey(RosterLoad, on_delete=models.CASCADE, related_name="entries")
    row_number = models.PositiveIntegerField()  # the row in the file, as Excel shows it
    candidate_no = models.CharField(_("考生号"), max_length=30, blank=True)
    exam_ticket_no = models.CharField(_("准考证号"), max_length=30, blank=True)
    name = models.CharField(_("姓名"), max_length=50)
    id_number = models.CharField(_("身份证件号"), max_length=40, blank=True)
    school_code = models.CharField(_("录取学校代码"), max_length=10)
    major = models.CharField(_("录取专业"), max_length=100, blank=True)
    method = models.CharField(_("招生方式/批次"), max_length=50, blank=True)

    class Meta:
        ordering = ["load", "row_number"]
        indexes = [
            # The school's and the district's reconciliation read one load's rows by school.
            models.Index(fields=["load", "school_code"], name="roster_entry_school_idx"),
            # The approval check finds a student's row by 考生号 or by ID number.
            models.Index(fields=["load", "candidate_no"], name="roster_entry_candidate_idx"),
            models.Index(fields=["load", "id_number"], name="roster_entry_idno_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class RosterCorrection(models.Model):
    """A correction the admissions office made to a roster row (a name mistyped at admission), with its
    document. The row keeps the value as loaded; reconciliation uses the latest correction of each field."""

    class Field(models.TextChoices):
        NAME = "name", _("姓名")
        ID_NUMBER = "id_number", _("身份证件号")
        SCHOOL_CODE = "school_code", _("录取学校代码")

    entry = models.ForeignKey(RosterEntry, on_delete=models.CASCADE, related_name="corrections")
    field = models.CharField(_("更正项"), max_length=16, choices=Field.choices)
    old_value = models.CharField(_("原值"), max_length=100)
    new_value = models.CharField(_("更正后"), max_length=100)
    document_ref = models.CharField(_("更正文件文号"), max_length=100)
    note = models.CharField(_("说明"), max_length=500, blank=True)
    # The scanned document (PDF/JPG/PNG) under MEDIA_ROOT/name_changes/, served only to the city's administrator.
    evidence_name = models.CharField(_("扫描件"), max_length=255, blank=True)
    evidence_stored = models.CharField(max_length=255, blank=True)
    evidence_type = models.CharField(max_length=32, blank=True)
    corrected_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, db_index=False)
    corrected_at = models.DateTimeField(_("更正时间"), default=timezone.now)

    class Meta:
        ordering = ["corrected_at", "id"]
        verbose_name = _("名册更正")

    def __str__(self) -> str:
        return f"{self.entry_id}:{self.field}"


class NameChange(models.Model):
    """改名: filed by the school's registrar with its evidence, approved or returned by the district."""

    class Evidence(models.TextChoices):
        POLICE = "police", _("派出所改名证明")
        HOUSEHOLD = "household", _("户口卡及复印件")

    class Status(models.TextChoices):
        PENDING = "pending", _("待审核")
        APPROVED = "approved", _("已通过")
        RETURNED = "returned", _("已退回")

    student = models.ForeignKey("students.Student", on_delete=models.CASCADE, related_name="name_changes")
    old_name = models.CharField(_("原姓名"), max_length=50)
    new_name = models.CharField(_("新姓名"), max_length=50)
    evidence_kind = models.CharField(_("证明材料"), max_length=16, choices=Evidence.choices)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.PENDING)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    filed_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    return_reason = models.CharField(_("退回原因"), max_length=500, blank=True)

    class Meta:
        ordering = ["-filed_at", "-id"]
        verbose_name = _("改名")
        constraints = [
            # One open request per student: a second would race the first to rename the same record.
            models.UniqueConstraint(fields=["student"], condition=Q(status="pending"), name="name_change_one_pending")
        ]

    def __str__(self) -> str:
        return f"{self.old_name}→{self.new_name}"


class NameChangeFile(models.Model):
    """An evidence file, stored under MEDIA_ROOT/name_changes/ and served only through a scoped view."""

    name_change = models.ForeignKey(NameChange, on_delete=models.CASCADE, related_name="files")
    original_name = models.CharField(max_length=255)
    stored_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=32)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)

    def __str__(self) -> str:
        return self.original_name
