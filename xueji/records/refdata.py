"""Read-only access to the packaged reference files, without Django.

The Django side loads the same files into the database (``xueji.reference.services``); the validator reads
them straight from the package so that it runs without settings, in a worker or in the command line, and
gives the same answers as the database. Everything here is parsed once per process and cached.
"""

from __future__ import annotations

import csv
import gettext
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / "reference" / "data"

# GB/T 2659 shows these three as parts of China, not as countries (same labels as xueji.reference.services).
COUNTRY_LABELS = {"HKG": "中国香港", "MAC": "中国澳门", "TWN": "中国台湾"}


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA_DIR / name).open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@dataclass(frozen=True, slots=True)
class AreaPeriod:
    """One period of a GB/T 2260 code: a code may name different divisions in different years."""

    code: str
    name: str
    province: str
    prefecture: str
    level: str  # 省级 / 地级 / 县级
    in_use: bool
    valid_from: int
    valid_until: int | None  # exclusive
    new_codes: tuple[str, ...]

    @property
    def full_name(self) -> str:
        parts = [self.province]
        if self.prefecture and self.prefecture not in ("直辖", self.province) and self.level == "县级":
            parts.append(self.prefecture)
        if self.name != self.province:
            parts.append(self.name)
        return "".join(parts)


def _new_codes(raw: str) -> tuple[str, ...]:
    # "220106[1995]" means "became 220106 in 1995"; several successors are ";"-separated.
    return tuple(part.split("[", 1)[0].strip() for part in raw.split(";") if part.strip())


@cache
def area_periods() -> dict[str, tuple[AreaPeriod, ...]]:
    """Every code that ever existed (1981-2024) → its periods, oldest first."""
    periods: dict[str, list[AreaPeriod]] = {}
    for row in _rows("gbt2260-areacodes.csv"):
        until = row["变更/弃用时间"].strip()
        period = AreaPeriod(
            code=row["代码"],
            name=row["名称"],
            province=row["一级行政区"],
            prefecture=row["二级行政区"],
            level=row["级别"],
            in_use=row["状态"] == "在用",
            valid_from=int(row["启用时间"]),
            valid_until=int(until) if until else None,
            new_codes=_new_codes(row["新代码"]),
        )
        periods.setdefault(period.code, []).append(period)
    return {code: tuple(sorted(items, key=lambda p: p.valid_from)) for code, items in periods.items()}


@cache
def current_area_codes() -> frozenset[str]:
    """Codes in use today: the only ones a 户口所在地 / 生源地 may take."""
    return frozenset(
        code for code, periods in area_periods().items() if periods[-1].in_use and periods[-1].valid_until is None
    )


def area_label(code: str) -> str:
    """ "110101 北京市东城区" style label for messages, from the code's latest period."""
    periods = area_periods().get(code)
    return f"{code} {periods[-1].full_name}" if periods else code


def current_successor(code: str) -> str | None:
    """The code in use today for a code, following renumberings while each step has a single successor.

    An abolished code split between several successors (石家庄 郊区 → five districts) has no single answer,
    so it gives None and the registrar chooses.
    """
    current = current_area_codes()
    seen: set[str] = set()
    while code not in current:
        if code in seen:
            return None
        seen.add(code)
        periods = area_periods().get(code)
        if not periods or len(periods[-1].new_codes) != 1:
            return None
        code = periods[-1].new_codes[0]
    return code


@dataclass(frozen=True, slots=True)
class CatalogMajor:
    code: str
    name: str
    category: str
    subcategory: str


@cache
def catalog_majors() -> dict[str, CatalogMajor]:
    """The 2021 中职 major catalog, code → major."""
    return {
        row["专业代码"]: CatalogMajor(row["专业代码"], row["专业名称"], row["专业大类"], row["专业类"])
        for row in _rows("zhongzhi-majors-2021.csv")
    }


@cache
def code_table_rows() -> dict[str, tuple[tuple[str, str], ...]]:
    """字典 name → ((code, name), …) in file order."""
    tables: dict[str, list[tuple[str, str]]] = {}
    for row in _rows("code-tables.csv"):
        tables.setdefault(row["字典"], []).append((row["代码"], row["名称"]))
    return {table: tuple(items) for table, items in tables.items()}


@dataclass(frozen=True, slots=True)
class Country:
    alpha3: str
    alpha2: str
    numeric: str
    name: str  # Chinese label shown to users
    name_en: str
    aliases: tuple[str, ...]


@cache
def countries() -> tuple[Country, ...]:
    """GB/T 2659 (= ISO 3166-1) countries with their zh_CN names from pycountry's translations."""
    import warnings

    with warnings.catch_warnings():
        # pycountry emits a DeprecationWarning from pkg_resources on some installs.
        warnings.simplefilter("ignore", DeprecationWarning)
        import pycountry

    zh = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["zh_CN"], fallback=True)
    result = []
    for country in pycountry.countries:
        aliases = {zh.gettext(country.name), country.name}
        for attribute in ("official_name", "common_name"):
            value = getattr(country, attribute, None)
            if value:
                aliases.update({value, zh.gettext(value)})
        result.append(
            Country(
                alpha3=country.alpha_3,
                alpha2=country.alpha_2,
                numeric=country.numeric,
                name=COUNTRY_LABELS.get(country.alpha_3, zh.gettext(country.name)),
                name_en=country.name,
                aliases=tuple(sorted(aliases)),
            )
        )
    # China first: by far the most frequent answer, and first in the template's drop-down.
    result.sort(key=lambda c: (c.alpha3 != "CHN", c.alpha3 not in COUNTRY_LABELS, c.numeric))
    return tuple(result)
