"""Loading the reference files into the database (idempotent: rerunning changes nothing)."""

from __future__ import annotations

import csv
import gettext
from dataclasses import dataclass
from pathlib import Path

import pycountry
from django.db import transaction

from xueji.reference.models import AreaCode, CatalogMajor, CodeItem, Country

DATA_DIR = Path(__file__).resolve().parent / "data"

# GB/T 2659 shows these three as parts of China, not as countries.
COUNTRY_LABELS = {"HKG": "中国香港", "MAC": "中国澳门", "TWN": "中国台湾"}

LEVELS = {"省级": AreaCode.Level.PROVINCE, "地级": AreaCode.Level.PREFECTURE, "县级": AreaCode.Level.COUNTY}


@dataclass(frozen=True)
class LoadSummary:
    area_codes: int
    majors: int
    code_items: int
    countries: int


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA_DIR / name).open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _year(raw: str) -> int | None:
    return int(raw) if raw.strip() else None


def reference_load() -> LoadSummary:
    """Upsert every reference table from the packaged files in one transaction."""
    areas = [
        AreaCode(
            code=row["代码"],
            name=row["名称"],
            province=row["一级行政区"],
            prefecture=row["二级行政区"],
            level=LEVELS[row["级别"]],
            in_use=row["状态"] == "在用",
            valid_from=int(row["启用时间"]),
            valid_until=_year(row["变更/弃用时间"]),
            new_codes=row["新代码"],
        )
        for row in _rows("gbt2260-areacodes.csv")
    ]
    majors = [
        CatalogMajor(
            code=row["专业代码"],
            name=row["专业名称"],
            category_code=row["大类代码"],
            category=row["专业大类"],
            subcategory_code=row["专业类代码"],
            subcategory=row["专业类"],
            note=row.get("备注") or "",
        )
        for row in _rows("zhongzhi-majors-2021.csv")
    ]
    items = []
    positions: dict[str, int] = {}
    for row in _rows("code-tables.csv"):
        position = positions.get(row["字典"], 0)
        positions[row["字典"]] = position + 1
        items.append(CodeItem(table=row["字典"], code=row["代码"], name=row["名称"], position=position))

    zh = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["zh_CN"])
    countries = [
        Country(
            alpha3=country.alpha_3,
            numeric=country.numeric,
            name=COUNTRY_LABELS.get(country.alpha_3, zh.gettext(country.name)),
            name_en=country.name,
        )
        for country in pycountry.countries
    ]

    with transaction.atomic():
        AreaCode.objects.bulk_create(
            areas,
            update_conflicts=True,
            unique_fields=["code", "valid_from"],
            update_fields=["name", "province", "prefecture", "level", "in_use", "valid_until", "new_codes"],
            batch_size=1000,
        )
        CatalogMajor.objects.bulk_create(
            majors,
            update_conflicts=True,
            unique_fields=["code"],
            update_fields=["name", "category_code", "category", "subcategory_code", "subcategory", "note"],
        )
        CodeItem.objects.bulk_create(
            items, update_conflicts=True, unique_fields=["table", "code"], update_fields=["name", "position"]
        )
        Country.objects.bulk_create(
            countries, update_conflicts=True, unique_fields=["alpha3"], update_fields=["numeric", "name", "name_en"]
        )
    return LoadSummary(len(areas), len(majors), len(items), len(countries))
