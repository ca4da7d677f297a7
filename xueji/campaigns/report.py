"""The summary report of a closed campaign, as xlsx and PDF, drawn from the figures frozen at the close
(``Campaign.summary``): counts per district and school, each stage on time or late, reconciliation outcome."""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from xueji.records.check import neutralise
from xueji.records.workbook import new_workbook
from xueji.roster.pdf import _NumberedCanvas, load_fonts, markup

SCHOOL_HEAD = ["区县", "学校代码", "学校", "学生数", "已备案", "未提交", "审核中"]
DISTRICT_HEAD = ["区县代码", "区县", "学校数", "学生数", "已备案"]
# Relative column widths on the landscape page: a 10-digit 学校标识码 must fit on one line.
SCHOOL_WIDTHS = (3.0, 4.5, 7.0, 2.0, 2.0, 2.0, 2.0)
DISTRICT_WIDTHS = (3.0, 4.0, 2.0, 2.0, 2.0)


def _stage_cells(entry: dict[str, Any]) -> list[str]:
    return [s["text"] for s in entry["stages"]]


def _stage_labels(summary: dict[str, Any], key: str) -> list[str]:
    for district in summary["districts"]:
        rows = [district] if key == "district" else district["schools"]
        if rows:
            return [s["label"] for s in rows[0]["stages"]]
    return []


def school_rows(summary: dict[str, Any]) -> list[list[Any]]:
    return [
        [
            d["name"],
            s["code"],
            s["name"],
            s["students"],
            s["filed"],
            s["unsubmitted"],
            s["in_review"],
            *_stage_cells(s),
            *(s["reconcile"][c] for c in summary["categories"]),
        ]
        for d in summary["districts"]
        for s in d["schools"]
    ]


def district_rows(summary: dict[str, Any]) -> list[list[Any]]:
    return [
        [
            d["code"],
            d["name"],
            d["schools_count"],
            d["students"],
            d["filed"],
            *_stage_cells(d),
            *(d["reconcile"][c] for c in summary["categories"]),
        ]
        for d in summary["districts"]
    ]


def report_xlsx(summary: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    workbook = new_workbook(buffer)
    bold = workbook.add_format({"bold": True})
    info = workbook.add_worksheet("说明")
    lines = [
        summary["title"],
        f"年级：{summary['intake_year']}级",
        f"结束时间：{summary['closed_at']}（北京时间）",
        *(f"{label}：{day}" for label, day in summary["deadlines"].items()),
        f"合计：{summary['totals']['districts']} 个区县，{summary['totals']['schools']} 所学校，"
        f"学生 {summary['totals']['students']} 人，已备案 {summary['totals']['filed']} 人",
        "录取名册核对：" + ("按结束时的当前录取名册" if summary["roster_loaded"] else "未导入录取名册，未核对"),
    ]
    for row, line in enumerate(lines):
        info.write_string(row, 0, neutralise(line), bold if row == 0 else None)
    info.set_column(0, 0, 80)
    for name, head, rows, key in (
        ("区县", DISTRICT_HEAD, district_rows(summary), "district"),
        ("学校", SCHOOL_HEAD, school_rows(summary), "school"),
    ):
        sheet = workbook.add_worksheet(name)
        sheet.write_row(0, 0, [*head, *_stage_labels(summary, key), *summary["categories"]], bold)
        for r, values in enumerate(rows, start=1):
            for c, value in enumerate(values):
                if isinstance(value, int):
                    sheet.write_number(r, c, value)
                else:
                    sheet.write_string(r, c, neutralise(str(value)))
        sheet.freeze_panes(1, 0)
        sheet.set_column(0, len(head) - 1, 12)
        sheet.set_column(len(head), len(head) + 4, 24)
    workbook.close()
    return buffer.getvalue()


class _LandscapeCanvas(_NumberedCanvas):
    """The roster's page-numbering canvas, with the footer centred on a landscape page."""

    def save(self) -> None:
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self.setFont(self.font_name, 8)
            self.drawCentredString(landscape(A4)[0] / 2, 8 * mm, f"第 {self._pageNumber} 页 共 {total} 页")
            if self.footer_left:
                self.drawString(12 * mm, 8 * mm, self.footer_left)
            Canvas.showPage(self)
        Canvas.save(self)


def report_pdf(summary: dict[str, Any]) -> bytes:
    """A4 landscape: the facts, the districts' table, the schools' table; page N of M."""
    fonts = load_fonts(tuple(getattr(settings, "XUEJI_PDF_FONTS", ())))
    cell = ParagraphStyle("cell", fontName=fonts.main, fontSize=7.5, leading=9.5)
    title = ParagraphStyle("title", fontName=fonts.main, fontSize=16, leading=22, alignment=TA_CENTER)
    meta = ParagraphStyle("meta", fontName=fonts.main, fontSize=9.5, leading=14)
    heading = ParagraphStyle("heading", fontName=fonts.main, fontSize=12, leading=18)
    totals = summary["totals"]
    story: list[Any] = [
        Paragraph(markup(f"{summary['title']} 工作总结", fonts), title),
        Spacer(1, 3 * mm),
        Paragraph(
            markup(f"年级：{summary['intake_year']}级　　结束时间：{summary['closed_at']}（北京时间）", fonts), meta
        ),
        Paragraph(markup("　".join(f"{label}：{day}" for label, day in summary["deadlines"].items()), fonts), meta),
        Paragraph(
            markup(
                f"合计：{totals['districts']} 个区县，{totals['schools']} 所学校，学生 {totals['students']} 人，"
                f"已备案 {totals['filed']} 人。录取名册核对："
                + (
                    "，".join(f"{label} {n}" for label, n in totals["reconcile"].items())
                    if summary["roster_loaded"]
                    else "未导入录取名册，未核对"
                ),
                fonts,
            ),
            meta,
        ),
    ]
    width = landscape(A4)[0] - 24 * mm
    for label, head, rows, key in (
        ("各区县", DISTRICT_HEAD, district_rows(summary), "district"),
        ("各学校", SCHOOL_HEAD, school_rows(summary), "school"),
    ):
        headers = [*head, *_stage_labels(summary, key), *summary["categories"]]
        data = [[Paragraph(markup(str(h), fonts), cell) for h in headers]]
        data += [[Paragraph(markup(str(v), fonts), cell) for v in row] for row in rows]
        stage_count = len(headers) - len(head) - len(summary["categories"])
        weights = [*(SCHOOL_WIDTHS if key == "school" else DISTRICT_WIDTHS), *[6.0] * stage_count]
        weights += [2.5] * len(summary["categories"])
        scale = width / sum(weights)
        table = Table(data, colWidths=[w * scale for w in weights], repeatRows=1)
        table.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EEEEEE")),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ]
            )
        )
        story += [Spacer(1, 5 * mm), Paragraph(markup(label, fonts), heading), table]
    buffer = io.BytesIO()
    canvas_class = type("ReportCanvas", (_LandscapeCanvas,), {"font_name": fonts.main, "footer_left": summary["title"]})
    doc = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=16 * mm,
        title=summary["title"],
        creator="xueji",
    )
    doc.build(story, canvasmaker=canvas_class)
    return buffer.getvalue()
