"""The pre-check (开始检查): validate a whole file without importing anything, and report.

``check_file`` gives a JSON-serialisable ``CheckReport``; ``write_annotated`` writes the file back with bad
cells highlighted and a last column 失败原因; ``run_check`` is what ``xueji check`` calls. ``check_rows`` is the
same loop for the background import, which also needs the clean values.
"""

from __future__ import annotations

import datetime
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from xueji.records.context import RowContext
from xueji.records.validator import ERROR, DuplicateIdTracker, FieldError, RowValidator
from xueji.records.workbook import DEFAULT_LIMITS, Limits, Table, WorkbookError, new_workbook, open_table

# Exit codes of run_check (and `xueji check`).
EXIT_OK = 0  # no errors (warnings allowed)
EXIT_ROW_ERRORS = 1  # some rows have errors
EXIT_FILE_ERROR = 2  # the file itself cannot be checked


@dataclass
class RowReport:
    row: int  # sheet row number, as Excel and WPS show it
    errors: list[FieldError]

    @property
    def has_errors(self) -> bool:
        return any(e.severity == ERROR for e in self.errors)

    def reason(self) -> str:
        """The 失败原因 text: "身份证件号：校验位错误…；民族：…", warnings marked 提示."""
        parts = []
        for e in self.errors:
            prefix = "" if e.severity == ERROR else "提示："
            parts.append(f"{prefix}{e.message}" if e.message.startswith(e.label) else f"{prefix}{e.label}：{e.message}")
        return "；".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "errors": [e.to_dict() for e in self.errors]}


@dataclass
class CheckReport:
    file: str
    format: str | None = None
    sheet: str | None = None
    header_row: int | None = None
    file_errors: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # e.g. columns that were not recognised
    rows_checked: int = 0
    rows_with_errors: int = 0
    rows_with_warnings: int = 0  # rows with warnings only
    rows: list[RowReport] = field(default_factory=list)  # only rows that have something to say

    @property
    def ok(self) -> bool:
        return not self.file_errors and self.rows_with_errors == 0

    @property
    def exit_code(self) -> int:
        if self.file_errors:
            return EXIT_FILE_ERROR
        return EXIT_ROW_ERRORS if self.rows_with_errors else EXIT_OK

    def errors_by_row(self) -> dict[int, RowReport]:
        return {r.row: r for r in self.rows}

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "format": self.format,
            "sheet": self.sheet,
            "header_row": self.header_row,
            "ok": self.ok,
            "file_errors": self.file_errors,
            "notices": self.notices,
            "summary": {
                "rows_checked": self.rows_checked,
                "rows_with_errors": self.rows_with_errors,
                "rows_with_warnings": self.rows_with_warnings,
                "rows_ok": self.rows_checked - self.rows_with_errors,
            },
            "rows": [r.to_dict() for r in self.rows],
        }

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, **kwargs)

    def to_text(self) -> str:
        """The report as the command line prints it."""
        lines = [f"文件：{self.file}"]
        if self.file_errors:
            lines += [f"无法检查：{message}" for message in self.file_errors]
            return "\n".join(lines)
        where = f"工作表“{self.sheet}”，" if self.sheet else ""
        lines.append(f"{where}表头在第{self.header_row}行")
        lines += [f"注意：{notice}" for notice in self.notices]
        for report in self.rows:
            for e in report.errors:
                mark = "错误" if e.severity == ERROR else "提示"
                value = f"“{e.value}”" if e.value else "（空）"
                lines.append(f"第{report.row}行  {mark}  {e.label}  {value}  {e.message}")
        lines.append(
            f"共检查{self.rows_checked}行：{self.rows_with_errors}行有错误，{self.rows_with_warnings}行只有提示，"
            f"{self.rows_checked - self.rows_with_errors}行可以导入。"
        )
        return "\n".join(lines)


def check_rows(table: Table, ctx: RowContext) -> Iterator[tuple[int, dict[str, object], list[FieldError]]]:
    """(row number, clean values, problems) for every non-blank row, duplicates in the file included.

    A duplicate ID is an error on every row after the first, naming the first."""
    for number, clean, errors, _cells in check_rows_with_cells(table, ctx):
        yield number, clean, errors


def check_rows_with_cells(
    table: Table, ctx: RowContext, *, duplicates: bool = True
) -> Iterator[tuple[int, dict[str, object], list[FieldError], list[object]]]:
    """``check_rows`` plus each row's cells as read: the import keeps the failed ones for its failure
    workbook instead of reading the file a second time. ``duplicates=False`` leaves the same ID number twice
    in the file to the caller (the import's reader, which may read a file in two parts: reader.py)."""
    # The validator reads the cells in place: no dict per row (100,000-row files, see bench/validate.py).
    keys: list[str | None] = [None] * (max((c.index for c in table.columns), default=-1) + 1)
    for column in table.columns:
        keys[column.index] = column.field.key if column.field else None
    validate = RowValidator(ctx).for_columns(keys)
    tracker = DuplicateIdTracker() if duplicates else None
    for number, cells in table.rows():
        clean, errors = validate(cells)
        if tracker is not None:
            duplicate = tracker.check(number, clean.get("id_number"))
            if duplicate is not None:
                errors.append(duplicate)
                del clean["id_number"]
        yield number, clean, errors, cells


def check_file(
    path: str | Path,
    ctx: RowContext,
    *,
    limits: Limits = DEFAULT_LIMITS,
    progress: Callable[[int], None] | None = None,
    progress_every: int = 5000,
) -> CheckReport:
    """Check a whole file. Never raises for a bad file: a file-level problem is in ``file_errors``."""
    report = CheckReport(file=Path(path).name)
    try:
        table = open_table(path, limits)
        report.format, report.sheet, report.header_row = table.format, table.sheet_name or None, table.header_row
        if table.unknown_headers:
            report.notices.append(f"以下列不是采集指标，已忽略：{'、'.join(table.unknown_headers)}")
        for number, _, errors, _cells in check_rows_with_cells(table, ctx):
            report.rows_checked += 1
            if errors:
                row = RowReport(number, errors)
                report.rows.append(row)
                if row.has_errors:
                    report.rows_with_errors += 1
                else:
                    report.rows_with_warnings += 1
            if progress and report.rows_checked % progress_every == 0:
                progress(report.rows_checked)
    except WorkbookError as error:
        report.file_errors.append(error.message)
        report.rows, report.rows_checked, report.rows_with_errors, report.rows_with_warnings = [], 0, 0, 0
    if not report.file_errors and report.rows_checked == 0:
        report.file_errors.append("文件中没有数据行")
    return report


# --- the annotated file -----------------------------------------------------------------------------------

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """A text cell that a spreadsheet would run as a formula gets a leading apostrophe (CSV/formula
    injection); xlsxwriter is also opened with strings_to_formulas=False, this covers other readers."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def write_annotated(
    source: str | Path,
    report: CheckReport,
    out: str | Path | IO[bytes],
    *,
    only_failed: bool = False,
    limits: Limits = DEFAULT_LIMITS,
) -> int:
    """Write the checked file back as xlsx: bad cells red, cells with warnings yellow, a last column 失败原因.

    ``only_failed`` writes just the header and the rows with errors (the import's failure workbook), with
    their original row numbers in a column 原行号; otherwise every row stays at its original row number, so
    that "第N行" in the report is row N in the file. Returns the number of data rows written."""
    table = open_table(source, limits)
    by_row = report.errors_by_row()
    writer = AnnotatedWriter(table, out, only_failed=only_failed)
    for number, cells in table.rows():
        row_report = by_row.get(number)
        if only_failed and (row_report is None or not row_report.has_errors):
            continue
        writer.row(number, cells, row_report)
    return writer.close()


class AnnotatedWriter:
    """The annotated workbook of ``write_annotated``, written one row at a time in the file's order: the
    import writes its failure workbook this way as its batches are written (admissions/imports.py)."""

    def __init__(self, table: Table, out: str | Path | IO[bytes], *, only_failed: bool):
        self.only_failed = only_failed
        self.column_of = {c.field.key: c.index for c in table.columns if c.field}
        self.width = width = max((c.index for c in table.columns), default=0) + 1
        self.offset = offset = 0 if only_failed else table.first_column
        self.written = 0
        self.workbook = workbook = new_workbook(out, constant_memory=True)
        self.red = workbook.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})
        self.yellow = workbook.add_format({"bg_color": "#FFEB9C", "font_color": "#9C5700"})
        header_format = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        self.reason_format = workbook.add_format({"font_color": "#9C0006", "text_wrap": False})
        self.date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
        self.sheet = sheet = workbook.add_worksheet(table.sheet_name or "数据")
        if only_failed:
            header_index = 0
        else:
            header_index = table.header_row - 1
            for index, cells in enumerate(table.preamble):
                for col, value in enumerate(cells):
                    self._cell(index, offset + col, value)
        headers: dict[int, str] = {c.index: c.header for c in table.columns}
        for col in range(width):
            sheet.write_string(header_index, offset + col, neutralise(headers.get(col, "")), header_format)
        self.number_col = offset + width  # 原行号, only_failed only
        self.reason_col = self.number_col + 1 if only_failed else self.number_col
        if only_failed:
            sheet.write_string(header_index, self.number_col, "原行号", header_format)
        sheet.write_string(header_index, self.reason_col, "失败原因", header_format)
        sheet.freeze_panes(header_index + 1, 0)
        sheet.set_column(self.reason_col, self.reason_col, 60)
        self.out_row = header_index

    def _cell(self, row: int, col: int, value: object, fmt: Any = None) -> None:
        sheet = self.sheet
        if value.__class__ is str and value:  # most cells: text, tested first (a failure workbook is 100,000s of them)
            sheet.write_string(row, col, neutralise(value), fmt)
            return
        if value is None or value == "":
            if fmt is not None:
                sheet.write_blank(row, col, None, fmt)
            return
        if isinstance(value, bool):
            sheet.write_boolean(row, col, value, fmt)
        elif isinstance(value, int | float):
            sheet.write_number(row, col, value, fmt)
        elif isinstance(value, datetime.datetime | datetime.date):
            sheet.write_datetime(row, col, value, fmt or self.date_format)
        else:
            sheet.write_string(row, col, neutralise(str(value)), fmt)

    def row(self, number: int, cells: Sequence[object], row_report: RowReport | None) -> None:
        """The file's row ``number`` as read, its bad cells marked and its reasons in the last column."""
        self.out_row = self.out_row + 1 if self.only_failed else number - 1
        out_row, offset = self.out_row, self.offset
        marks: dict[int, Any] = {}
        if row_report:
            for e in row_report.errors:
                marked = self.column_of.get(e.key)
                if marked is not None and marks.get(marked) is not self.red:
                    marks[marked] = self.red if e.severity == ERROR else self.yellow
        for col in range(min(len(cells), self.width)):
            self._cell(out_row, offset + col, cells[col], marks.get(col))
        if self.only_failed:
            self.sheet.write_number(out_row, self.number_col, number)
        if row_report:
            self.sheet.write_string(out_row, self.reason_col, neutralise(row_report.reason()), self.reason_format)
        self.written += 1

    def close(self) -> int:
        """Finish the file; the number of data rows written."""
        self.workbook.close()
        return self.written


def run_check(
    path: str | Path,
    ctx: RowContext,
    *,
    json_output: bool = False,
    annotated_out: str | Path | None = None,
    only_failed: bool = False,
    stdout: IO[str] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> int:
    """``xueji check FILE``: print the report (text or JSON), optionally write the annotated workbook, and
    return the exit code (0 no errors, 1 rows with errors, 2 file cannot be checked)."""
    out = stdout or sys.stdout
    report = check_file(path, ctx, limits=limits)
    if annotated_out and not report.file_errors:
        write_annotated(path, report, annotated_out, only_failed=only_failed, limits=limits)
    if json_output:
        out.write(report.to_json(indent=2) + "\n")
    else:
        out.write(report.to_text() + "\n")
        if annotated_out and not report.file_errors:
            out.write(f"已写出标注文件：{annotated_out}\n")
    return report.exit_code
