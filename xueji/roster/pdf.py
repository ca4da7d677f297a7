"""新生名单 as an A4 PDF: a table with repeated header rows, page N of M, totals, and the 主管校长签字 line and
校章 box at the end.

ReportLab with embedded TrueType fonts (DESIGN.md, facts checked): the built-in STSong-Light is not
embedded and shows blank in some viewers. A name may hold characters the main font lacks (CJK Extension
A and beyond); each such character is set in the first fallback font that has it, so the printed name is
the registered name in every viewer. Needs no database: the caller hands in the rows.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics, ttfonts
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle


def _to_unicode_cmap(fontname: str, subset: Sequence[int]) -> str:
    """ReportLab's ToUnicode map writes each code point as ``%04X``, which is wrong past U+FFFF: a name with
    𠮷 (U+20BB7, CJK Extension B) would be drawn right but copied and searched as ``₻``. PDF wants UTF-16BE,
    a surrogate pair for those."""
    lines = [
        "/CIDInit /ProcSet findresource begin",
        "12 dict begin",
        "begincmap",
        f"/CIDSystemInfo\n<< /Registry ({fontname})\n/Ordering ({fontname})\n/Supplement 0\n>> def",
        f"/CMapName /{fontname} def",
        "/CMapType 2 def",
        "1 begincodespacerange",
        f"<00> <{len(subset) - 1:02X}>",
        "endcodespacerange",
        f"{len(subset)} beginbfchar",
        *(f"<{i:02X}> <{chr(v).encode('utf-16-be', 'surrogatepass').hex().upper()}>" for i, v in enumerate(subset)),
        "endbfchar",
        "endcmap",
        "CMapName currentdict /CMap defineresource pop",
        "end",
        "end",
    ]
    return "\n".join(lines)


ttfonts.makeToUnicodeCMap = _to_unicode_cmap


class FontMissing(RuntimeError):
    """The main font file is not there: the PDF cannot be made (install fonts-wqy-microhei)."""


@dataclass(frozen=True)
class Fonts:
    main: str
    # (registered name, code points it covers), in the order they are tried
    fallbacks: tuple[tuple[str, frozenset[int]], ...]
    main_covers: frozenset[int]


@cache
def load_fonts(paths: tuple[str, ...]) -> Fonts:
    """Register the fonts once per process. The first path is required; missing fallbacks are skipped."""
    if not paths or not Path(paths[0]).is_file():
        raise FontMissing(f"找不到打印字体：{paths[0] if paths else '（未设置）'}")
    registered: list[tuple[str, frozenset[int]]] = []
    for index, path in enumerate(paths):
        if not Path(path).is_file():
            continue
        name = f"XuejiFont{index}"
        # A .ttc holds several faces; ReportLab takes the one at subfontIndex (0: the proportional face).
        font = TTFont(name, path, subfontIndex=0) if path.lower().endswith(".ttc") else TTFont(name, path)
        pdfmetrics.registerFont(font)
        registered.append((name, frozenset(font.face.charToGlyph)))
    main, covers = registered[0]
    return Fonts(main=main, fallbacks=tuple(registered[1:]), main_covers=covers)


def markup(text: str, fonts: Fonts) -> str:
    """``text`` as Paragraph markup, escaped, with characters the main font lacks set in a fallback font."""
    if all(ord(ch) in fonts.main_covers or ch.isspace() for ch in text):
        return escape(text)
    parts: list[str] = []
    for ch in text:
        code = ord(ch)
        if code in fonts.main_covers or ch.isspace():
            parts.append(escape(ch))
            continue
        name = next((n for n, covers in fonts.fallbacks if code in covers), None)
        parts.append(f'<font name="{name}">{escape(ch)}</font>' if name else escape(ch))
    return "".join(parts)


@dataclass(frozen=True)
class RosterDocument:
    title: str  # e.g. 东城职业教育中心 2026级新生名单
    school: str
    grade: int
    printed_on: str  # 2026年9月1日
    headers: Sequence[str]
    rows: Sequence[Sequence[str]]
    widths: Sequence[float]  # relative column widths
    scope_note: str = ""  # 专业：… 班级：…
    totals: Sequence[str] = field(default_factory=tuple)  # lines under the table


class _NumberedCanvas(Canvas):
    """Holds every page until the end so that each can say 第 N 页 共 M 页 (ReportLab's usual two-pass trick)."""

    font_name = "Helvetica"
    footer_left = ""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._pages: list[dict[str, object]] = []

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self.setFont(self.font_name, 9)
            self.drawCentredString(A4[0] / 2, 10 * mm, f"第 {self._pageNumber} 页 共 {total} 页")
            if self.footer_left:
                self.drawString(18 * mm, 10 * mm, self.footer_left)
            super().showPage()
        super().save()


def render_roster(document: RosterDocument, font_paths: Sequence[str]) -> bytes:
    fonts = load_fonts(tuple(font_paths))
    body = ParagraphStyle("cell", fontName=fonts.main, fontSize=9, leading=11.5)
    head = ParagraphStyle("head", parent=body, alignment=TA_CENTER)
    title = ParagraphStyle("title", fontName=fonts.main, fontSize=18, leading=24, alignment=TA_CENTER)
    meta = ParagraphStyle("meta", fontName=fonts.main, fontSize=10.5, leading=15)
    sign = ParagraphStyle("sign", fontName=fonts.main, fontSize=12, leading=18)

    width = A4[0] - 36 * mm
    scale = width / sum(document.widths)
    table_rows = [[Paragraph(markup(h, fonts), head) for h in document.headers]]
    table_rows += [[Paragraph(markup(cell, fonts), body) for cell in row] for row in document.rows]
    table = Table(table_rows, colWidths=[w * scale for w in document.widths], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EEEEEE")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    info = f"学校：{document.school}　　年级：{document.grade}级"
    if document.scope_note:
        info += f"　　{document.scope_note}"
    info += f"　　打印日期：{document.printed_on}"
    story: list[object] = [
        Paragraph(markup(document.title, fonts), title),
        Spacer(1, 4 * mm),
        Paragraph(markup(info, fonts), meta),
        Spacer(1, 3 * mm),
        table,
        Spacer(1, 4 * mm),
        *[Paragraph(markup(line, fonts), meta) for line in document.totals],
    ]
    # The signature and the seal box stay together on the last page: a seal on a page of its own proves
    # nothing about the list above it.
    seal = Table(
        [[Paragraph("（校章）", ParagraphStyle("seal", parent=meta, alignment=TA_CENTER, textColor=colors.grey))]],
        colWidths=[42 * mm],
        rowHeights=[42 * mm],
    )
    seal.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 0.8, colors.black), ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    signature = Table(
        [
            [
                [
                    Paragraph("主管校长签字：____________________", sign),
                    Spacer(1, 8 * mm),
                    Paragraph("日期：________年____月____日", sign),
                ],
                seal,
            ]
        ],
        colWidths=[width - 50 * mm, 50 * mm],
    )
    signature.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    story.append(KeepTogether([Spacer(1, 10 * mm), signature]))

    buffer = io.BytesIO()
    canvas_class = type(
        "RosterCanvas", (_NumberedCanvas,), {"font_name": fonts.main, "footer_left": f"{document.school}"}
    )
    pdf = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=15 * mm,
        bottomMargin=18 * mm,
        title=document.title,
        author=document.school,
        creator="xueji",
    )
    pdf.build(story, canvasmaker=canvas_class)
    return buffer.getvalue()
