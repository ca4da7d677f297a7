"""学籍: students made from admission records at check-in (报到注册), and every review step they take."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xueji.admissions.models import AdmissionRecord
from xueji.orgs.models import Direction, MajorOffering, School, SchoolClass


class State(models.TextChoices):
    """学籍状态 with the review level folded in: one column, so a bulk action is one conditional UPDATE."""

    UNSUBMITTED = "unsubmitted", _("未提交")
    REVIEW_SCHOOL = "review_school", _("审核中（学校）")
    REVIEW_DISTRICT = "review_district", _("审核中（区县）")
    REVIEW_CITY = "review_city", _("审核中（市级）")
    APPROVED = "approved", _("审核通过")


IN_REVIEW = (State.REVIEW_SCHOOL, State.REVIEW_DISTRICT, State.REVIEW_CITY)
# States in which a person holds the student status for 一人一籍.
HOLDING = (*IN_REVIEW, State.APPROVED)


class Student(models.Model):
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="students", db_index=False)
    admission = models.OneToOneField(AdmissionRecord, on_delete=models.PROTECT, related_name="student")
    grade = models.PositiveSmallIntegerField(_("年级"))
    school_class = models.ForeignKey(
        SchoolClass, verbose_name=_("班级"), null=True, blank=True, on_delete=models.PROTECT, related_name="students"
    )
    name = models.CharField(_("姓名"), max_length=50)
    id_type = models.CharField(_("身份证件类型"), max_length=2)
    id_number = models.CharField(_("身份证件号"), max_length=40)
    gender = models.CharField(_("性别"), max_length=1, blank=True)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    offering = models.ForeignKey(
        MajorOffering, verbose_name=_("专业"), on_delete=models.PROTECT, related_name="students"
    )
    direction = models.ForeignKey(
        Direction, verbose_name=_("专业方向"), null=True, blank=True, on_delete=models.PROTECT, db_index=False
    )
    admission_method = models.CharField(_("招生方式"), max_length=2)
    data = models.JSONField(default=dict)  # the collected fields by catalog key, as in AdmissionRecord.data
    state = models.CharField(_("学籍状态"), max_length=16, choices=State.choices, default=State.UNSUBMITTED)

    class Source(models.TextChoices):
        CHECKIN = "checkin", _("新生报到")
        LEGACY = "legacy", _("原系统迁入")

    # Students migrated from the old system (档案管理) come in already registered, with their 学籍号.
    source = models.CharField(_("来源"), max_length=8, choices=Source.choices, default=Source.CHECKIN)
    student_no = models.CharField(_("学籍号"), max_length=32, null=True, blank=True, unique=True)
    return_reason = models.CharField(_("退回原因"), max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("学生")
        ordering = ["-id"]
        constraints = [
            # 一人一籍: one person, at most one student status in review or approved, across the install.
            models.UniqueConstraint(
                fields=["id_number", "id_type"], condition=Q(state__in=HOLDING), name="student_one_status_per_person"
            ),
        ]
        indexes = [
            models.Index(fields=["school", "state", "grade", "-id"], name="student_list_idx"),
            models.Index(fields=["id_number"], name="student_idno_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def level_label(self) -> str:
        return {State.REVIEW_SCHOOL: "学校", State.REVIEW_DISTRICT: "区县", State.REVIEW_CITY: "市级"}.get(
            State(self.state), ""
        )


class ReviewAction(models.Model):
    """One step of one student: who did what, from which state to which, and why (退回 needs a reason)."""

    # No database-level foreign keys here (db_constraint=False): the checks cost a fifth of approving 49,000
    # students on PostgreSQL (one lookup per history row per key, docs/decisions.md). The one writer,
    # workflow._move, takes the ids from student rows it holds locked and the actor from the request; Django
    # still cascades and nulls on delete. (student, at) is the index; a second one on student alone is not needed.
    student = models.ForeignKey(
        Student, on_delete=models.CASCADE, related_name="actions", db_constraint=False, db_index=False
    )
    action = models.CharField(max_length=16)
    from_state = models.CharField(max_length=16)
    to_state = models.CharField(max_length=16)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, db_index=False, db_constraint=False
    )
    reason = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["student", "at"], name="review_action_student_idx")]

    def __str__(self) -> str:
        return f"{self.student_id}:{self.action}"


class ExportJob(models.Model):
    """A large 导出 (more rows than a request should write): its filters, columns, progress and file. Only
    the user who asked sees it; the worker applies that user's scope and masking again when it runs."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("导出中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="student_exports")
    filters = models.JSONField(default=dict)
    columns = models.JSONField(default=list)
    file_format = models.CharField(max_length=8, default="xlsx")
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    stored_name = models.CharField(max_length=255, blank=True)  # under MEDIA_ROOT/exports/
    error_message = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Refreshed as rows are written: a running export whose worker died goes stale and is run again.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("导出任务")
        indexes = [models.Index(fields=["user", "-created_at"], name="student_export_user_idx")]

    def __str__(self) -> str:
        return f"{self.pk}:{self.file_format}"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.total_rows:
            return 0
        return min(99, int(self.processed_rows * 100 / self.total_rows))

    @property
    def download_name(self) -> str:
        return f"学籍导出-{timezone.localtime(self.created_at):%Y%m%d-%H%M}.{self.file_format}"
