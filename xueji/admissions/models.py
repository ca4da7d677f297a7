"""招生信息 (admission records) and the import jobs that bring them in."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xueji.orgs.models import Direction, MajorOffering, School


class StoredJSONField(models.JSONField):  # type: ignore[type-arg]
    """JSON kept on PostgreSQL as ``json`` (the text as written) rather than ``jsonb``: for a document that is
    written and read whole and never searched by key. ``jsonb`` turns every value into its binary form on the
    way in, which cost a 100,000-row import about 0.3 s of the server's CPU (docs/decisions.md). Other
    databases keep JSONField's own type."""

    def db_type(self, connection):  # type: ignore[no-untyped-def]
        return "json" if connection.vendor == "postgresql" else super().db_type(connection)

    def from_db_value(self, value, expression, connection):  # type: ignore[no-untyped-def]
        # psycopg reads ``json`` into Python values itself (Django has it hand over ``jsonb`` as text).
        if isinstance(value, dict | list):
            return value
        return super().from_db_value(value, expression, connection)


class ImportJob(models.Model):
    """One uploaded workbook: its progress, counts and failure workbook."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("处理中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="import_jobs")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    original_name = models.CharField(_("文件名"), max_length=255)
    stored_name = models.CharField(max_length=255)  # under MEDIA_ROOT/imports/, kept until the job ends
    size = models.PositiveBigIntegerField(default=0)
    # The upload's SHA-256: with a row number it names a row for good (AdmissionRecord.import_row), so a
    # resumed job, or the same file imported again, is recognised.
    sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    total_rows = models.PositiveIntegerField(_("总数"), null=True, blank=True)
    processed_rows = models.PositiveIntegerField(default=0)
    # Rows (in file order, blank rows excluded) whose outcome is committed: a resumed job starts after them.
    committed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(_("新增"), default=0)
    updated_count = models.PositiveIntegerField(_("更新"), default=0)
    failed_count = models.PositiveIntegerField(_("失败数"), default=0)
    error_message = models.TextField(blank=True)
    failure_file = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("导入任务")

    def __str__(self) -> str:
        return self.original_name

    @property
    def succeeded_count(self) -> int:
        return self.created_count + self.updated_count

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.total_rows:
            return 0
        return min(99, int(self.processed_rows * 100 / self.total_rows))


class ImportFailure(models.Model):
    """A row of an import that was not saved, and why. Written in the same transaction as its batch."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="failures")
    row_number = models.PositiveIntegerField()  # the sheet row number, as Excel shows it
    reasons = models.JSONField()  # [{"field", "label", "value", "message", "severity"}]

    class Meta:
        ordering = ["row_number"]
        constraints = [models.UniqueConstraint(fields=["job", "row_number"], name="import_failure_unique")]

    def __str__(self) -> str:
        return f"{self.job_id}:{self.row_number}"


class AdmissionRecord(models.Model):
    """One admitted student as entered or imported (招生信息); becomes a student at check-in (报到注册)."""

    class State(models.TextChoices):
        PENDING = "pending", _("待报到")
        CHECKED_IN = "checked_in", _("已报到")

    # Indexes cost every imported row a write; the school is the first column of the list's index, and
    # the rarely followed foreign keys (direction, job, creator) are left without one of their own. The name
    # search (a prefix, within a school) has no index of its own: docs/decisions.md, "No index for the name".
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="admission_records", db_index=False)
    grade = models.PositiveSmallIntegerField(_("年级"))
    name = models.CharField(_("姓名"), max_length=50)
    id_type = models.CharField(_("身份证件类型"), max_length=2)
    id_number = models.CharField(_("身份证件号"), max_length=40)
    gender = models.CharField(_("性别"), max_length=1, blank=True)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    offering = models.ForeignKey(
        MajorOffering, verbose_name=_("专业"), on_delete=models.PROTECT, related_name="admission_records"
    )
    direction = models.ForeignKey(
        Direction,
        verbose_name=_("专业方向"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="admission_records",
        db_index=False,
    )
    admission_method = models.CharField(_("招生方式"), max_length=2)
    state = models.CharField(_("状态"), max_length=16, choices=State.choices, default=State.PENDING)
    # Every collected field's clean value keyed by the field catalog's key (codes, ISO dates, text): the
    # catalog stays the one declaration, and adding a field needs no migration. The columns above are the
    # ones queried, sorted and joined on; this is read whole (statistics count students, whose ``data`` is jsonb).
    data = StoredJSONField(default=dict)
    # Where the record came from, not what it depends on: no database constraint, so the import's rows are
    # not each checked against the job and user tables (docs/decisions.md); Django's on_delete still nulls them.
    import_job = models.ForeignKey(
        ImportJob, null=True, blank=True, on_delete=models.SET_NULL, db_index=False, db_constraint=False
    )
    import_row = models.PositiveIntegerField(null=True, blank=True)  # its row in import_job's file
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_index=False,
        db_constraint=False,
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("招生信息")
        ordering = ["-id"]
        constraints = [
            # 一人一籍 starts here: one admission record per person across the whole install. A second
            # school admitting the same person is a case for the district, never a silent duplicate.
            # id_number first: the same index answers lookups by number alone (search, the import's batches).
            models.UniqueConstraint(fields=["id_number", "id_type"], name="admission_one_per_person"),
        ]
        indexes = [
            # The registrar's list: by school and grade, newest first, paged by keyset on id.
            models.Index(fields=["school", "grade", "state", "-id"], name="admission_list_idx"),
        ]

    def __str__(self) -> str:
        return self.name
