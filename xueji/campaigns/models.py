"""年度学籍备案工作: the city's campaign for one intake grade, its notice and attachments, who has read it, the
materials each school hands to its district and each district to the city, and the filed record frozen when
the campaign closes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xueji.orgs.models import Region, School


class Campaign(models.Model):
    """One city's filing campaign for one intake grade. Deadlines are calendar days in Asia/Shanghai: a stage
    is due by the end of its day there (see ``deadlines.py``)."""

    class Status(models.TextChoices):
        OPEN = "open", _("进行中")
        CLOSED = "closed", _("已结束")

    city = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="campaigns")
    intake_year = models.PositiveSmallIntegerField(_("年级"))
    title = models.CharField(_("标题"), max_length=100)
    notice = models.TextField(_("通知正文"))
    # [{"name": "张老师", "phone": "010-12345678", "note": "数据采集"}]: parsed from one line per contact.
    contacts = models.JSONField(_("联系人"), default=list, blank=True)
    school_submit_by = models.DateField(_("学校完成提交"))
    school_materials_by = models.DateField(_("学校材料报送区县"))
    district_review_by = models.DateField(_("区县完成审核"))
    district_filing_from = models.DateField(_("区县向市级报送开始"))
    district_filing_until = models.DateField(_("区县向市级报送截止"))
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default=Status.OPEN)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    opened_at = models.DateTimeField(_("发布时间"), default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    # The summary report's figures as they stood at closing (per district and school); the xlsx and the PDF
    # are drawn from this, so the report never changes after the close.
    summary = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-intake_year", "-opened_at", "-id"]
        verbose_name = _("备案工作")
        constraints = [
            # One open campaign per intake grade of a city: two would give schools two sets of deadlines.
            models.UniqueConstraint(
                fields=["city", "intake_year"], condition=Q(status="open"), name="campaign_one_open_per_intake"
            ),
            models.CheckConstraint(
                condition=Q(district_filing_until__gte=F("district_filing_from")), name="campaign_filing_window_ordered"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class CampaignAttachment(models.Model):
    """A file of the notice (the data-entry requirements, a form to print), stored under
    MEDIA_ROOT/campaigns/ and served only through a scoped view."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="attachments")
    original_name = models.CharField(max_length=255)
    stored_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, db_index=False)
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name


class CampaignRead(models.Model):
    """An account has read the notice (标记已读)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "user"], name="campaign_read_once")]

    def __str__(self) -> str:
        return f"{self.campaign_id}:{self.user_id}"


class Material(models.TextChoices):
    """What a school hands to its district, and a district to the city (the same four kinds)."""

    PRINTED_ROSTER = "printed_roster", _("签字盖章的新生名单（一式三份）")
    PACKAGE = "package", _("上报盘")
    ADMISSION_PAGES = "admission_pages", _("录取名册页")
    NAME_CHANGE_EVIDENCE = "name_change_evidence", _("改名证明材料")


class MaterialReceipt(models.Model):
    """One material received: from a school by its district, or from a district by the city. No row means
    not received yet; clearing a tick deletes the row (the audit log keeps it)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="receipts")
    school = models.ForeignKey(School, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    district = models.ForeignKey(Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("材料"), max_length=32, choices=Material.choices)
    received_on = models.DateField(_("接收日期"))
    note = models.CharField(_("备注"), max_length=200, blank=True)
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, db_index=False)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kind"]
        constraints = [
            # A receipt is a school's (kept by its district) or a district's (kept by the city), never both.
            models.CheckConstraint(
                condition=Q(school__isnull=False, district__isnull=True)
                | Q(school__isnull=True, district__isnull=False),
                name="receipt_school_or_district",
            ),
            models.UniqueConstraint(
                fields=["campaign", "school", "kind"], condition=Q(school__isnull=False), name="receipt_school_once"
            ),
            models.UniqueConstraint(
                fields=["campaign", "district", "kind"],
                condition=Q(district__isnull=False),
                name="receipt_district_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}:{self.kind}"


class FiledStudent(models.Model):
    """The filed record: an approved student of the campaign's grade as it stood when the city closed the
    campaign. Written once, set-based, at the close; later edits to the student (an approved 改名, a
    correction) leave it as filed, so printed rosters and packages can be checked against it."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="filed")
    # Indexed: deleting a never-submitted student (撤销报到) checks this PROTECT by student.
    student = models.ForeignKey("students.Student", on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+", db_index=False)
    district = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", db_index=False)
    student_no = models.CharField(_("学籍号"), max_length=32, blank=True)
    name = models.CharField(_("姓名"), max_length=50)
    id_type = models.CharField(_("身份证件类型"), max_length=2)
    id_number = models.CharField(_("身份证件号"), max_length=40)
    gender = models.CharField(_("性别"), max_length=1, blank=True)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    offering_id_filed = models.IntegerField()  # the offering as filed; majors are never deleted while used
    direction_id_filed = models.IntegerField(null=True)
    class_id_filed = models.IntegerField(null=True)
    admission_method = models.CharField(_("招生方式"), max_length=2)
    data = models.JSONField(default=dict)  # every collected field as filed

    class Meta:
        ordering = ["school_id", "id"]
        verbose_name = _("备案学籍")
        constraints = [models.UniqueConstraint(fields=["campaign", "student"], name="filed_student_once")]
        indexes = [models.Index(fields=["campaign", "school"], name="filed_campaign_school_idx")]

    def __str__(self) -> str:
        return self.name
