"""Code tables (字典) and countries: resolve what a registrar typed to a code, or say what was meant.

Every accepted spelling of every entry is precomputed into one dict, so resolving a value in the common
case is a single lookup; the slow paths (combined "01 汉族" forms, suggestions) run only on a miss.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from functools import cache

from xueji.records.refdata import COUNTRY_LABELS, code_table_rows, countries

# "01汉族", "01 汉族", "01-汉族", "01:汉族" as written by other systems' exports and some drop-downs.
_CODE_THEN_NAME = re.compile(r"^\s*([0-9A-Za-z.]{1,4})\s*[-:：、.\s]?\s*(\S.*?)\s*$")
# "汉族(01)" / "汉族（01）".
_NAME_THEN_CODE = re.compile(r"^\s*(\S.*?)\s*[(（]\s*([0-9A-Za-z.]{1,4})\s*[)）]\s*$")
_SPACES = str.maketrans({" ": None, "\u3000": None, "\t": None, "\u00a0": None})


def cell_text(value: object) -> str:
    """A cell value as the text a person would read: 1.0 → "1", 1.5 → "1.5", None → ""."""
    if value is None:
        return ""
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, str):
        return value.strip()
    return str(value).strip()


class CodeTable:
    """One 字典: an ordered list of (code, name) with a precomputed lookup of accepted spellings."""

    def __init__(self, name: str, items: Iterable[tuple[str, str]], aliases: dict[str, str] | None = None):
        self.name = name
        self.items: tuple[tuple[str, str], ...] = tuple(items)
        self.names: tuple[str, ...] = tuple(label for _, label in self.items)
        self._name_by_code = dict(self.items)
        lookup: dict[str, str] = {}
        for code, label in self.items:
            lookup[code] = code
            lookup[code.lower()] = code
            # Number cells lose leading zeros: 民族 "01" arrives as 1.0 → "1".
            if code.isdigit():
                lookup.setdefault(str(int(code)), code)
            for spelling in (f"{code}{label}", f"{code} {label}", f"{code}-{label}", f"{label}({code})"):
                lookup[spelling] = code
        # Names win over codes on a clash: a name is what the drop-down shows.
        for code, label in self.items:
            lookup[label] = code
            lookup[label.translate(_SPACES)] = code
        for alias, code in (aliases or {}).items():
            lookup.setdefault(alias, code)
        self._lookup = lookup
        self._unknown: dict[tuple[str, str], str] = {}

    def __contains__(self, code: object) -> bool:
        return code in self._name_by_code

    def name_of(self, code: str) -> str:
        return self._name_by_code.get(code, code)

    def resolve(self, value: object) -> str | None:
        """The code for a value given as code, name or "code name"; None if it is none of them."""
        text = value if isinstance(value, str) else cell_text(value)
        code = self._lookup.get(text)
        if code is not None:
            return code
        return self._resolve_slow(text)

    def _resolve_slow(self, text: str) -> str | None:
        text = text.strip().translate(_SPACES)
        code = self._lookup.get(text) or self._lookup.get(text.upper())
        if code is not None:
            return code
        for pattern, code_group, name_group in ((_CODE_THEN_NAME, 1, 2), (_NAME_THEN_CODE, 2, 1)):
            match = pattern.match(text)
            if match:
                code = self._lookup.get(match.group(code_group))
                if code is not None and self._lookup.get(match.group(name_group)) == code:
                    return code
        return None

    def nearest(self, value: object, n: int = 3) -> list[str]:
        text = cell_text(value)
        return difflib.get_close_matches(text, self.names, n=n, cutoff=0.3)

    def unknown_message(self, value: object, label: str | None = None) -> str:
        """ "“汉足”不是有效的民族，最接近的有：汉族、满族" — or the whole list when it is short."""
        label = label or self.name
        # The same wrong value tends to repeat down a file, and finding the nearest names is slow (difflib).
        key = (cell_text(value), label)
        message = self._unknown.get(key)
        if message is None:
            message = self._unknown_message(value, label)
            if len(self._unknown) < 10_000:
                self._unknown[key] = message
        return message

    def _unknown_message(self, value: object, label: str) -> str:
        nearest = self.nearest(value)
        if nearest:
            return f"“{cell_text(value)}”不是有效的{label}，最接近的有：{'、'.join(nearest)}"
        if len(self.names) <= 12:
            return f"“{cell_text(value)}”不是有效的{label}，可选：{'、'.join(self.names)}"
        return f"“{cell_text(value)}”不是有效的{label}，请按字典表填写代码或名称"


def _ethnicity_aliases(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    # "汉" for 汉族, "维吾尔" for 维吾尔族: the short form is common in older records.
    return {label[:-1]: code for code, label in items if label.endswith("族") and len(label) >= 2}


_ALIASES: dict[str, dict[str, str]] = {
    "性别": {"男性": "1", "女性": "2", "M": "1", "F": "2", "m": "1", "f": "2"},
    "是否": {"Y": "1", "N": "0", "y": "1", "n": "0", "TRUE": "1", "FALSE": "0", "True": "1", "False": "0"},
    "学制": {"3年": "3", "三年": "3", "2年": "2", "二年": "2", "两年": "2", "4年": "4", "5年": "5", "1年": "1"},
    "港澳台侨外": {"无": "00", "非港澳台侨外": "00"},
    "健康状况": {"健康": "1", "良好": "1", "一般": "2", "较弱": "2", "残疾人": "6"},
}


@cache
def code_table(name: str) -> CodeTable:
    """The named 字典 from code-tables.csv; KeyError for a table that does not exist."""
    items = code_table_rows()[name]
    aliases = dict(_ALIASES.get(name, {}))
    if name == "民族":
        aliases.update(_ethnicity_aliases(items))
    return CodeTable(name, items, aliases)


def code_table_names() -> tuple[str, ...]:
    return tuple(code_table_rows())


# Everyday names registrars write that are not the ISO/zh_CN names.
_COUNTRY_ALIASES = {
    "中国": "CHN",
    "中华人民共和国": "CHN",
    "中国大陆": "CHN",
    "香港": "HKG",
    "中国香港特别行政区": "HKG",
    "香港特别行政区": "HKG",
    "澳门": "MAC",
    "中国澳门特别行政区": "MAC",
    "澳门特别行政区": "MAC",
    "台湾": "TWN",
    "中国台湾省": "TWN",
    "台湾省": "TWN",
    "韩国": "KOR",
    "南韩": "KOR",
    "朝鲜": "PRK",
    "北朝鲜": "PRK",
    "俄罗斯联邦": "RUS",
    "美国": "USA",
    "英国": "GBR",
    "越南": "VNM",
    "老挝": "LAO",
    "缅甸": "MMR",
}


@cache
def country_table() -> CodeTable:
    """国籍/地区 (GB/T 2659 = ISO 3166-1), codes are alpha-3; accepts alpha-2, numeric, Chinese and English."""
    items = [(country.alpha3, country.name) for country in countries()]
    aliases: dict[str, str] = {}
    for country in countries():
        aliases[country.alpha2] = country.alpha3
        aliases[country.alpha2.lower()] = country.alpha3
        aliases[country.numeric] = country.alpha3
        aliases[str(int(country.numeric))] = country.alpha3
        for alias in country.aliases:
            aliases[alias] = country.alpha3
            aliases[alias.lower()] = country.alpha3
    aliases.update(_COUNTRY_ALIASES)
    for alpha3, label in COUNTRY_LABELS.items():
        aliases[label] = alpha3
    table = CodeTable("国籍/地区", items, aliases)
    return table
