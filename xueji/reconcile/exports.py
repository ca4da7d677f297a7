"""The reconciliation as an xlsx: a 汇总 sheet of counts, then one sheet per category."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence

from xueji.reconcile.matching import CATEGORY_LABELS, Category, Finding, counts
from xueji.records.check import neutralise
from xueji.records.workbook import new_workbook

COLUMNS = (
    "类别",
    "疑似笔误",
    "学校代码",
    "姓名",
    "身份证件号",
    "考生号",
    "准考证号",
    "名册姓名",
    "名册录取学校代码",
    "名册录取专业",
    "名册招生方式/批次",
    "是否报到",
    "说明",
)


def finding_cells(finding: Finding, show_id: Callable[[str], str]) -> list[str]:
    person, row = finding.registered, finding.roster
    note = "曾用名与名册一致（已改名）" if finding.resolved_by_former_name else ""
    return [
        finding.label,
        "是" if finding.likely_typo else "",
        person.school_code if person else "",
        person.name if person else "",
        show_id(person.id_number if person else (row.id_number if row else "")),
        (person.candidate_no if person else "") or (row.candidate_no if row else ""),
        (person.exam_ticket_no if person else "") or (row.exam_ticket_no if row else ""),
        row.name if row else "",
        row.school_code if row else "",
        row.major if row else "",
        row.method if row else "",
        ("已报到" if person.checked_in else "未报到") if person else "未报到",
        note,
    ]


def reconcile_workbook(findings: Sequence[Finding], show_id: Callable[[str], str], title: str) -> bytes:
    buffer = io.BytesIO()
    workbook = new_workbook(buffer)
    bold = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    summary = workbook.add_worksheet("汇总")
    summary.write_string(0, 0, neutralise(title), bold)
    totals = counts(findings)
    for i, category in enumerate(Category, start=2):
        summary.write_string(i, 0, CATEGORY_LABELS[category])
        summary.write_number(i, 1, totals[category])
    summary.set_column(0, 0, 40)
    for category in Category:
        sheet = workbook.add_worksheet(CATEGORY_LABELS[category])
        for col, header in enumerate(COLUMNS):
            sheet.write_string(0, col, header, bold)
        sheet.set_column(0, len(COLUMNS) - 1, 16)
        row_number = 1
        for finding in findings:
            if finding.category != category:
                continue
            for col, value in enumerate(finding_cells(finding, show_id)):
                sheet.write_string(row_number, col, neutralise(value))
            row_number += 1
    workbook.close()
    return buffer.getvalue()
