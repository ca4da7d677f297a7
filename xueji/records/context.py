"""What the validator and the template need to know about one school, as plain data.

The Django side builds these from the database (offerings, directions, grades, classes); tests and the
command line can build them by hand. Nothing here touches the database.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property


@dataclass(frozen=True, slots=True)
class MajorChoice:
    """A major the school offers (6-digit catalog code) and the school's own directions under it."""

    code: str
    name: str
    directions: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.name}({self.code})"


@dataclass(frozen=True, slots=True)
class ClassChoice:
    name: str
    grade: int
    major_code: str = ""


@dataclass(frozen=True)
class SchoolCatalog:
    """A school's choices. Empty tuples mean "not known": the value is then checked only for its form."""

    code: str = ""
    name: str = ""
    majors: tuple[MajorChoice, ...] = ()
    grades: tuple[int, ...] = ()
    classes: tuple[ClassChoice, ...] = ()

    @cached_property
    def major_by_code(self) -> dict[str, MajorChoice]:
        return {major.code: major for major in self.majors}

    @cached_property
    def all_directions(self) -> tuple[str, ...]:
        """Every direction name of the school once, in major order (the template's drop-down)."""
        seen: dict[str, None] = {}
        for major in self.majors:
            for direction in major.directions:
                seen.setdefault(direction, None)
        return tuple(seen)

    @classmethod
    def build(
        cls,
        *,
        code: str = "",
        name: str = "",
        majors: Iterable[tuple[str, str, Iterable[str]] | MajorChoice] = (),
        grades: Iterable[int] = (),
        classes: Iterable[ClassChoice] = (),
    ) -> SchoolCatalog:
        """Convenience constructor: majors as (code, name, directions) triples or MajorChoice objects."""
        choices = tuple(m if isinstance(m, MajorChoice) else MajorChoice(m[0], m[1], tuple(m[2])) for m in majors)
        return cls(code=code, name=name, majors=choices, grades=tuple(sorted(grades)), classes=tuple(classes))


@dataclass(frozen=True)
class RowContext:
    """Everything a row's validation depends on besides the row itself."""

    school: SchoolCatalog | None = None
    # Fixed per run so that a check started before midnight does not change its mind halfway; tests set it.
    today: datetime.date = field(default_factory=datetime.date.today)
