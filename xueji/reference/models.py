"""Reference facts loaded from the files in ``data/`` (never edited by hand in the database)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AreaCode(models.Model):
    """One period of a GB/T 2260 division code. A code may appear in several periods under other names."""

    class Level(models.TextChoices):
        PROVINCE = "province", _("省级")
        PREFECTURE = "prefecture", _("地级")
        COUNTY = "county", _("县级")

    code = models.CharField(max_length=6, db_index=True)
    name = models.CharField(max_length=64)
    province = models.CharField(max_length=64, blank=True)
    prefecture = models.CharField(max_length=64, blank=True)
    level = models.CharField(max_length=16, choices=Level.choices)
    in_use = models.BooleanField(default=True)
    valid_from = models.PositiveSmallIntegerField()
    valid_until = models.PositiveSmallIntegerField(null=True, blank=True, help_text="exclusive")
    new_codes = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["code", "valid_from"], name="areacode_period_unique")]
        ordering = ["code", "valid_from"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class CatalogMajor(models.Model):
    """A major of the 2021 中职 catalog (职业教育专业目录)."""

    code = models.CharField(max_length=6, unique=True)
    name = models.CharField(max_length=64)
    category_code = models.CharField(max_length=2)
    category = models.CharField(max_length=64)
    subcategory_code = models.CharField(max_length=4)
    subcategory = models.CharField(max_length=64)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class CodeItem(models.Model):
    """One entry of a code table (字典): 民族, 政治面貌, 招生方式 …"""

    table = models.CharField(max_length=32)
    code = models.CharField(max_length=8)
    name = models.CharField(max_length=64)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["table", "code"], name="codeitem_unique")]
        ordering = ["table", "position"]

    def __str__(self) -> str:
        return f"{self.table}:{self.code} {self.name}"


class Country(models.Model):
    """GB/T 2659 (= ISO 3166-1) countries and regions with their Chinese names."""

    alpha3 = models.CharField(max_length=3, unique=True)
    numeric = models.CharField(max_length=3)
    name = models.CharField(max_length=100)
    name_en = models.CharField(max_length=100)

    class Meta:
        ordering = ["numeric"]

    def __str__(self) -> str:
        return self.name
