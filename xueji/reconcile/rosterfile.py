"""Reading the exam authority's roster file (xlsx, xls, ods or csv). No Django import.

The roster's columns are not the admission template's, so they have their own header map, here and only here.
The file checks (size, zip bomb, format by content, CSV encoding) are the template import's.
"""

from __future__ import annotations

import csv
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from xueji.records.idnumber import normalise_id_number
from xueji.records.workbook import (
    DEFAULT_LIMITS,
    Limits,
    WorkbookError,
    check_archive,
    check_header_merges,
    check_size,
    open_text,
    sniff_format,
)

# Roster column → the headers exam authorities use for it (compared after removing spaces and ★).
ROSTER_COLUMNS: dict[str, tuple[str, ...]] = {
    "candidate_no": ("考生号", "考生编号"),
    "exam_ticket_no": ("准考证号", "准考证号码"),
    "name": ("姓名", "考生姓名"),
    "id_number": ("身份证件号", "身份证号", "身份证号码", "证件号码", "身份证件号码"),
    "school_code": ("录取学校代码", "学校代码", "学校标识码", "录取学校标识码"),
    "major": ("录取专业", "专业", "录取专业名称"),
    "method": ("招生方式/批次", "招生方式", "批次", "录取批次", "招生批次"),
}
COLUMN_LABELS = {key: headers[0] for key, headers in ROSTER_COLUMNS.items()}
MAX_LENGTHS = {"candidate_no": 30, "exam_ticket_no": 30, "name": 50, "id_number": 40, "major": 100, "method": 50}
MAX_ERRORS = 50  # reported per load; a file with more has a systematic problem that the first ones show
PROGRESS_EVERY = 5000  # rows between two progress reports of a background load


def _header_key(cell: object) -> str | None:
    text = "".join(unicodedata.normalize("NFKC", str(cell or "")).split()).replace("★", "").replace("*", "")
    for key, headers in ROSTER_COLUMNS.items():
        if text in headers:
            return key
    return None


def _text(cell: object) -> str:
    """Cell as text. Numbers typed into number cells come back as floats: 14110105000123.0 → "14110105000123"."""
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return unicodedata.normalize("NFKC", str(cell)).strip()


@dataclass(frozen=True)
class RosterLine:
    row_number: int
    candidate_no: str
    exam_ticket_no: str
    name: str
    id_number: str
    school_code: str
    major: str
    method: str


class RosterFileError(Exception):
    """The file cannot be loaded; ``messages`` say why (for the file as a whole, or per row)."""

    def __init__(self, messages: list[str]):
        super().__init__("；".join(messages))
        self.messages = messages


def _rows(path: Path, limits: Limits, merged: list[object] | None = None) -> Iterator[list[object]]:
    """The rows of the roster's sheet: the first visible worksheet whose first rows hold a roster header (the
    sheet may have any name, and a cover sheet may come first), else the first sheet. ``merged`` receives the
    sheet's merged cell ranges."""
    fmt = sniff_format(path)
    if fmt in ("xlsx", "ods"):
        check_archive(path, limits)
    if fmt == "csv":
        with open_text(path) as handle:
            start = handle.tell()
            first = handle.readline()
            handle.seek(start)
            try:
                yield from csv.reader(handle, delimiter=max(",\t;", key=first.count))
            except (UnicodeDecodeError, csv.Error):
                raise WorkbookError("CSV文件内容有误（编码或引号不正确），请用Excel另存为xlsx后再试") from None
        return
    import python_calamine

    try:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
        sheet = _roster_sheet(workbook, limits)
    except python_calamine.PasswordError:
        raise WorkbookError("文件设有打开密码，请取消密码后再上传") from None
    except Exception:  # calamine raises several unrelated types for damaged files
        raise WorkbookError("文件已损坏或格式不受支持，请用Excel或WPS另存为xlsx后再试") from None
    if merged is not None:
        merged.extend(sheet.merged_cell_ranges or [])
    yield from cast(Iterator[list[object]], iter(sheet.iter_rows()))


def _roster_sheet(workbook: Any, limits: Limits) -> Any:
    first = workbook.get_sheet_by_index(0)
    if _has_header(first.iter_rows(), limits):
        return first
    for meta in workbook.sheets_metadata[1:]:
        if str(meta.visible).endswith("Visible") and str(meta.typ).endswith("WorkSheet"):
            sheet = workbook.get_sheet_by_name(meta.name)
            if _has_header(sheet.iter_rows(), limits):
                return sheet
    return first


def _has_header(rows: Iterator[list[object]], limits: Limits) -> bool:
    for number, cells in enumerate(rows, start=1):
        if len({key for cell in cells if (key := _header_key(cell))}) >= 3:
            return True
        if number >= limits.header_search_rows:
            break
    return False


def _check_line(number: int, values: dict[str, str]) -> tuple[RosterLine | None, list[str]]:
    errors = []
    where = f"第{number}行"
    name = values.get("name", "")
    if not name:
        errors.append(f"{where}：姓名为空")
    school_code = values.get("school_code", "")
    if not (len(school_code) == 10 and school_code.isdigit()):
        errors.append(f"{where}：录取学校代码“{school_code}”应为10位数字")
    id_number = normalise_id_number(values.get("id_number", "")) if values.get("id_number") else ""
    if "E+" in values.get("id_number", "").upper():
        errors.append(f"{where}：身份证件号“{values['id_number']}”被Excel存成了数字，请把该列设为文本后重新录入")
    if not values.get("candidate_no") and not id_number:
        errors.append(f"{where}：考生号和身份证件号不能都为空")
    for key, limit in MAX_LENGTHS.items():
        if len(values.get(key, "")) > limit:
            errors.append(f"{where}：{COLUMN_LABELS[key]}超过{limit}个字符")
    if errors:
        return None, errors
    return (
        RosterLine(
            row_number=number,
            candidate_no=values.get("candidate_no", "").upper(),
            exam_ticket_no=values.get("exam_ticket_no", "").upper(),
            name=name,
            id_number=id_number,
            school_code=school_code,
            major=values.get("major", ""),
            method=values.get("method", ""),
        ),
        [],
    )


def roster_read(
    path: str | Path,
    limits: Limits = DEFAULT_LIMITS,
    *,
    progress: Callable[[int], None] | None = None,
    progress_every: int = PROGRESS_EVERY,
) -> list[RosterLine]:
    """Every row of the roster, or RosterFileError listing what is wrong: a roster loads whole or not at all.
    ``progress`` is told the number of rows read so far every ``progress_every`` rows (a background load)."""
    path = Path(path)
    try:
        check_size(path, limits)
        merged: list[object] = []
        rows = _rows(path, limits, merged)
        header: dict[int, str] | None = None
        header_number = 0
        for number, cells in enumerate(rows, start=1):
            keys = {i: key for i, cell in enumerate(cells) if (key := _header_key(cell))}
            if len(set(keys.values())) >= 3:
                header, header_number = keys, number
                break
            if number >= limits.header_search_rows:
                break
        if header is not None:
            check_header_merges(merged, header_number - 1)
        if header is None:
            raise RosterFileError(
                [f"在文件的前{limits.header_search_rows}行中没有找到录取名册的表头（考生号、姓名、录取学校代码等）"]
            )
        found = list(header.values())
        duplicated = sorted({COLUMN_LABELS[k] for k in found if found.count(k) > 1})
        if duplicated:
            raise RosterFileError([f"表头中“{'、'.join(duplicated)}”出现了不止一次，请删除多余的列"])
        missing = [COLUMN_LABELS[k] for k in ("name", "school_code") if k not in found]
        if "candidate_no" not in found and "id_number" not in found:
            missing.append("考生号或身份证件号")
        if missing:
            raise RosterFileError([f"缺少必需的列：{'、'.join(missing)}"])
        lines: list[RosterLine] = []
        errors: list[str] = []
        seen_candidates: dict[str, int] = {}
        for number, cells in enumerate(rows, start=header_number + 1):
            values = {key: _text(cells[i]) for i, key in header.items() if i < len(cells)}
            if not any(values.values()):
                continue
            if len(lines) + len(errors) >= limits.max_rows:
                raise RosterFileError([f"数据超过{limits.max_rows}行，请联系系统管理员"])
            line, problems = _check_line(number, values)
            if line is not None and line.candidate_no:
                if (first := seen_candidates.get(line.candidate_no)) is not None:
                    problems = [f"第{number}行：考生号{line.candidate_no}与第{first}行重复"]
                    line = None
                else:
                    seen_candidates[line.candidate_no] = number
            errors.extend(problems)
            if line is not None:
                lines.append(line)
            if progress is not None and (len(lines) + len(errors)) % progress_every == 0:
                progress(len(lines) + len(errors))
            if len(errors) >= MAX_ERRORS:
                errors.append(f"错误超过{MAX_ERRORS}条，其余未列出")
                break
    except WorkbookError as error:
        raise RosterFileError([error.message]) from None
    if errors:
        raise RosterFileError(errors)
    if not lines:
        raise RosterFileError(["文件中没有数据行"])
    return lines
