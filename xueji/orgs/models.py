"""Organisations (regions, schools, their majors, grades, classes, terms) and accounts."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from xueji.reference.models import CatalogMajor


class Region(models.Model):
    """A city (市, or a municipality such as 北京市) or one of its districts (区县), by GB/T 2260 code."""

    class Kind(models.TextChoices):
        CITY = "city", _("市")
        DISTRICT = "district", _("区县")

    code = models.CharField(_("行政区划代码"), max_length=6, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    kind = models.CharField(_("级别"), max_length=16, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="city", parent__isnull=True) | Q(kind="district", parent__isnull=False),
                name="region_district_has_city",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def city(self) -> Region:
        return self if self.kind == self.Kind.CITY else self.parent  # type: ignore[return-value]


school_code_validator = RegexValidator(r"^\d{10}$", _("学校标识码应为10位数字"))


class School(models.Model):
    class Ownership(models.TextChoices):
        PUBLIC = "public", _("公办")
        PRIVATE = "private", _("民办")

    code = models.CharField(_("学校标识码"), max_length=10, unique=True, validators=[school_code_validator])
    name = models.CharField(_("学校名称"), max_length=100)
    district = models.ForeignKey(Region, verbose_name=_("所属区县"), on_delete=models.PROTECT, related_name="schools")
    ownership = models.CharField(_("办学性质"), max_length=16, choices=Ownership.choices)
    address = models.CharField(_("学校地址"), max_length=200, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=40, blank=True)
    is_active = models.BooleanField(_("在用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class MajorOffering(models.Model):
    """A catalog major that a school offers (开设专业)."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="offerings")
    major = models.ForeignKey(CatalogMajor, verbose_name=_("专业"), on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["major__code"]
        constraints = [models.UniqueConstraint(fields=["school", "major"], name="offering_unique")]

    def __str__(self) -> str:
        return self.major.name


class Direction(models.Model):
    """The school's own 专业方向 under one of its majors."""

    offering = models.ForeignKey(MajorOffering, on_delete=models.CASCADE, related_name="directions")
    name = models.CharField(_("专业方向"), max_length=64)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["offering", "name"], name="direction_unique")]

    def __str__(self) -> str:
        return self.name


class Grade(models.Model):
    """年级: the intake year, e.g. 2014."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="grades")
    year = models.PositiveSmallIntegerField(_("年级"))

    class Meta:
        ordering = ["-year"]
        constraints = [models.UniqueConstraint(fields=["school", "year"], name="grade_unique")]

    def __str__(self) -> str:
        return f"{self.year}级"


class SchoolClass(models.Model):
    """班级: one class of a grade studying one of the school's majors."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="classes")
    grade = models.ForeignKey(Grade, verbose_name=_("年级"), on_delete=models.PROTECT, related_name="classes")
    offering = models.ForeignKey(
        MajorOffering, verbose_name=_("专业"), on_delete=models.PROTECT, related_name="classes"
    )
    name = models.CharField(_("班级名称"), max_length=64)
    head_teacher = models.CharField(_("班主任"), max_length=32, blank=True)

    class Meta:
        ordering = ["-grade__year", "name"]
        constraints = [models.UniqueConstraint(fields=["school", "grade", "name"], name="class_unique")]

    def __str__(self) -> str:
        return self.name


class Term(models.Model):
    """学年学期: e.g. 2014-2015学年 第一学期."""

    class Half(models.IntegerChoices):
        FIRST = 1, _("第一学期")
        SECOND = 2, _("第二学期")

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="terms")
    start_year = models.PositiveSmallIntegerField(_("学年起始年份"))
    half = models.PositiveSmallIntegerField(_("学期"), choices=Half.choices)
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    is_current = models.BooleanField(_("当前学期"), default=False)

    class Meta:
        ordering = ["-start_year", "-half"]
        constraints = [
            models.UniqueConstraint(fields=["school", "start_year", "half"], name="term_unique"),
            models.UniqueConstraint(
                fields=["school"], condition=Q(is_current=True), name="term_one_current_per_school"
            ),
            models.CheckConstraint(condition=Q(ends_on__gt=models.F("starts_on")), name="term_dates_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.start_year}-{self.start_year + 1}学年 {self.get_half_display()}"


class Role(models.TextChoices):
    CITY_ADMIN = "city_admin", _("市级管理员")
    DISTRICT_REVIEWER = "district_reviewer", _("区县审核人")
    SCHOOL_LEADER = "school_leader", _("校领导")
    REGISTRAR = "registrar", _("学籍管理员")


REGION_ROLES = (Role.CITY_ADMIN, Role.DISTRICT_REVIEWER)
SCHOOL_ROLES = (Role.SCHOOL_LEADER, Role.REGISTRAR)


class User(AbstractUser):
    """An account bound to exactly one region (city/district roles) or one school (school roles)."""

    role = models.CharField(_("角色"), max_length=32, choices=Role.choices, blank=True)
    region = models.ForeignKey(
        Region, verbose_name=_("所属区域"), null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    school = models.ForeignKey(
        School, verbose_name=_("所属学校"), null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    full_name = models.CharField(_("姓名"), max_length=64, blank=True)
    phone = models.CharField(_("联系电话"), max_length=40, blank=True)
    must_change_password = models.BooleanField(_("须修改密码"), default=True)
    created_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="issued_accounts"
    )

    class Meta:
        ordering = ["username"]
        constraints = [
            # A role account is bound to exactly the organisation its role works on; superusers made
            # with createsuperuser for maintenance have no role and no binding.
            models.CheckConstraint(
                condition=Q(role="", region__isnull=True, school__isnull=True)
                | Q(role__in=["city_admin", "district_reviewer"], region__isnull=False, school__isnull=True)
                | Q(role__in=["school_leader", "registrar"], region__isnull=True, school__isnull=False),
                name="user_role_binding",
            )
        ]

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def is_city_admin(self) -> bool:
        return self.role == Role.CITY_ADMIN

    @property
    def is_district_reviewer(self) -> bool:
        return self.role == Role.DISTRICT_REVIEWER

    @property
    def is_school_leader(self) -> bool:
        return self.role == Role.SCHOOL_LEADER

    @property
    def is_registrar(self) -> bool:
        return self.role == Role.REGISTRAR

    @property
    def organisation_name(self) -> str:
        if self.school_id:
            return self.school.name  # type: ignore[union-attr]
        if self.region_id:
            return self.region.name  # type: ignore[union-attr]
        return ""
