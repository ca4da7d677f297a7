"""Charts drawn on the server as SVG geometry (no JavaScript, no network): the template only places shapes.

A pie suits a handful of values that make up the whole (性别, 招生方式, 户口性质 …); a long list (schools,
majors, 民族) reads better as bars. Every slice carries its label, count and share in the legend, and the
share is printed on the slice itself when the slice is wide enough to hold it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

# Colour-blind-safe qualitative palette (Okabe-Ito) followed by neutral tones; "其他" takes the last one.
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#56B4E9",
    "#F0E442",
    "#8C6D31",
    "#6B6ECF",
    "#999999",
)
MAX_SLICES = len(PALETTE)  # beyond that the smallest values are merged into one "其他" slice
RADIUS = 110
CENTRE = 120  # the pie sits in a 240 × 240 box; the legend goes to its right
LABEL_MIN_SHARE = 0.05  # a narrower slice has no room for its percentage; the legend still gives it


@dataclass(frozen=True)
class Slice:
    label: str
    count: int
    percent: str  # "12.5%"
    colour: str
    path: str  # SVG path data of the wedge ("" when one slice is the whole pie: drawn as a circle)
    text_x: float
    text_y: float
    show_text: bool


def percent(part: int, whole: int) -> str:
    return f"{part * 100 / whole:.1f}%" if whole else "0.0%"


def _point(angle: float, radius: float) -> tuple[float, float]:
    # Angles run clockwise from twelve o'clock, as a reader expects a pie to start.
    return CENTRE + radius * math.sin(angle), CENTRE - radius * math.cos(angle)


def pie_slices(items: Sequence[tuple[str, int]]) -> list[Slice]:
    """Wedges for (label, count) pairs, largest first as given; zero counts are left out."""
    items = [(label, count) for label, count in items if count > 0]
    if len(items) > MAX_SLICES:
        kept = list(items[: MAX_SLICES - 1])
        kept.append(("其他", sum(count for _, count in items[MAX_SLICES - 1 :])))
        items = kept
    total = sum(count for _, count in items)
    slices = []
    start = 0.0
    for index, (label, count) in enumerate(items):
        share = count / total
        end = start + share * 2 * math.pi
        if len(items) == 1:
            path = ""
            text_x, text_y = float(CENTRE), float(CENTRE)
        else:
            x1, y1 = _point(start, RADIUS)
            x2, y2 = _point(end, RADIUS)
            large = 1 if end - start > math.pi else 0
            path = f"M{CENTRE},{CENTRE} L{x1:.2f},{y1:.2f} A{RADIUS},{RADIUS} 0 {large} 1 {x2:.2f},{y2:.2f} Z"
            text_x, text_y = _point((start + end) / 2, RADIUS * 0.65)
        colour = PALETTE[-1] if label == "其他" and index == MAX_SLICES - 1 else PALETTE[index % len(PALETTE)]
        slices.append(
            Slice(
                label=label,
                count=count,
                percent=percent(count, total),
                colour=colour,
                path=path,
                text_x=round(text_x, 2),
                text_y=round(text_y, 2),
                show_text=share >= LABEL_MIN_SHARE,
            )
        )
        start = end
    return slices
