"""Reconciling registered 统一招生 students with the exam authority's admission roster (录取名册).

Plain Python with no Django import, so the rules are tested on their own. Every registered record and every
roster row ends in exactly one category:

    一致          found on the roster for the same school, names agree, checked in
    姓名不符      same 考生号 or ID number, a different name (flagged 疑似笔误 when one character apart)
    无录取记录    registered as 统一招生, absent from the roster
    录取学校不符  on the roster, but for another school
    录取未报到    on the roster for this school, never checked in

A roster row is found by 考生号 first, then by ID number. Names compare after NFKC (full-width letters and
digits become half-width) with every kind of space and the middle dot removed. A name the student held before
an approved 改名 (曾用名), or the roster's name as corrected by the admissions office, counts as agreeing.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum


class Category(StrEnum):
    MATCH = "match"
    NAME_MISMATCH = "name_mismatch"
    NO_ROSTER = "no_roster"
    WRONG_SCHOOL = "wrong_school"
    NOT_CHECKED_IN = "not_checked_in"


CATEGORY_LABELS: dict[Category, str] = {
    Category.MATCH: "一致",
    Category.NAME_MISMATCH: "姓名不符",
    Category.NO_ROSTER: "无录取记录",
    Category.WRONG_SCHOOL: "录取学校不符",
    Category.NOT_CHECKED_IN: "录取未报到",
}

# The categories that keep a district from approving a student without a written reason (issue 6).
BLOCKING = (Category.NAME_MISMATCH, Category.NO_ROSTER)

# Dots people type inside names of ethnic minorities (买买提·艾力): "·", "•", "・", "．" and the like.
_NAME_DOTS = frozenset("·•‧・･.．")


@dataclass(frozen=True)
class Registered:
    """A 统一招生 admission record of the intake, with its student when checked in."""

    admission_id: int
    student_id: int | None
    school_code: str
    name: str
    id_number: str
    candidate_no: str = ""
    exam_ticket_no: str = ""
    checked_in: bool = False
    former_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class RosterRow:
    entry_id: int
    school_code: str
    name: str
    id_number: str = ""
    candidate_no: str = ""
    exam_ticket_no: str = ""
    major: str = ""
    method: str = ""


@dataclass(frozen=True)
class Finding:
    category: Category
    registered: Registered | None
    roster: RosterRow | None
    likely_typo: bool = False
    # The names agree only through a 曾用名 (an approved 改名): shown, but no longer a mismatch.
    resolved_by_former_name: bool = False

    @property
    def label(self) -> str:
        return CATEGORY_LABELS[self.category]

    def school_codes(self) -> set[str]:
        codes = set()
        if self.registered is not None:
            codes.add(self.registered.school_code)
        if self.roster is not None:
            codes.add(self.roster.school_code)
        return codes


def normalise_name(name: str) -> str:
    """Full-width → half-width (NFKC), spaces of every kind and middle dots removed, Latin letters upper-cased."""
    text = unicodedata.normalize("NFKC", name or "")
    return "".join(ch for ch in text if not ch.isspace() and ch not in _NAME_DOTS).upper()


def normalise_key(value: str) -> str:
    """考生号, 准考证号 and ID numbers: NFKC, no spaces, upper-case X."""
    return "".join(unicodedata.normalize("NFKC", value or "").split()).upper()


def names_agree(a: str, b: str) -> bool:
    return normalise_name(a) == normalise_name(b)


def likely_typo(a: str, b: str) -> bool:
    """Two different names one edit apart (one character replaced, as with a homophone typed by pinyin; one
    added or dropped; two neighbours swapped): most likely a mistake in typing, not another person."""
    a, b = normalise_name(a), normalise_name(b)
    if a == b or not a or not b:
        return False
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diffs) == 1:
            return True
        return (
            len(diffs) == 2 and diffs[1] == diffs[0] + 1 and a[diffs[0]] == b[diffs[1]] and a[diffs[1]] == b[diffs[0]]
        )
    if abs(len(a) - len(b)) != 1:
        return False
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


@dataclass
class _Index:
    by_candidate: dict[str, RosterRow] = field(default_factory=dict)
    by_id_number: dict[str, RosterRow] = field(default_factory=dict)

    def find(self, person: Registered) -> RosterRow | None:
        if person.candidate_no and (row := self.by_candidate.get(normalise_key(person.candidate_no))):
            return row
        if person.id_number:
            return self.by_id_number.get(normalise_key(person.id_number))
        return None


def _index(roster: Iterable[RosterRow]) -> _Index:
    index = _Index()
    for row in roster:
        if row.candidate_no:
            index.by_candidate.setdefault(normalise_key(row.candidate_no), row)
        if row.id_number:
            index.by_id_number.setdefault(normalise_key(row.id_number), row)
    return index


def _judge(person: Registered, row: RosterRow) -> Finding:
    if row.school_code != person.school_code:
        return Finding(Category.WRONG_SCHOOL, person, row)
    if not names_agree(person.name, row.name):
        if any(names_agree(former, row.name) for former in person.former_names):
            return Finding(
                Category.MATCH if person.checked_in else Category.NOT_CHECKED_IN,
                person,
                row,
                resolved_by_former_name=True,
            )
        return Finding(Category.NAME_MISMATCH, person, row, likely_typo=likely_typo(person.name, row.name))
    if not person.checked_in:
        return Finding(Category.NOT_CHECKED_IN, person, row)
    return Finding(Category.MATCH, person, row)


def reconcile(registered: Sequence[Registered], roster: Sequence[RosterRow]) -> list[Finding]:
    """Sort every registered record and every roster row into one category each.

    Pass the whole city's intake and roster (a student registered at a school of another district must still
    find the row the roster holds for them); narrow the findings to a scope afterwards (``in_scope``)."""
    index = _index(roster)
    findings: list[Finding] = []
    matched: set[int] = set()
    for person in registered:
        row = index.find(person)
        if row is None:
            findings.append(Finding(Category.NO_ROSTER, person, None))
            continue
        matched.add(row.entry_id)
        findings.append(_judge(person, row))
    findings.extend(Finding(Category.NOT_CHECKED_IN, None, row) for row in roster if row.entry_id not in matched)
    return findings


def in_scope(findings: Iterable[Finding], school_codes: set[str]) -> list[Finding]:
    """The findings that concern one of ``school_codes``: as the registering school or as the roster's."""
    return [f for f in findings if f.school_codes() & school_codes]


def counts(findings: Iterable[Finding]) -> dict[Category, int]:
    result = dict.fromkeys(Category, 0)
    for finding in findings:
        result[finding.category] += 1
    return result
