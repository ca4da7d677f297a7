"""Cutting a data sheet in two for two reader processes (records/split.py): the two parts together give
exactly the rows of the whole sheet, and a sheet the cutter does not fully understand is not cut."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
import xlsxwriter

from tests.records.helpers import headers_for, soffice_convert, valid_row, write_xlsx
from xueji.records.split import sheet_part
from xueji.records.workbook import WorkbookError, open_table

KEYS = list(valid_row().keys())


def rows_of(path: Path) -> tuple[tuple[object, ...], list[tuple[int, list[object]]]]:
    table = open_table(path)
    return (table.sheet_name, table.header_row, table.preamble, table.keys), list(table.rows())


def parts(path: Path, tmp_path: Path) -> tuple[int | None, int | None]:
    """Where each of the two parts is cut (the row number the second part's data starts at), or None."""
    made = [sheet_part(path, tmp_path / f"part{n}.xlsx", part=n, head_rows=10, max_rows=300_000) for n in (0, 1)]
    return tuple(cut.row if cut else None for cut in made)  # type: ignore[return-value]


def data_rows(count: int) -> list[list[object]]:
    rows = []
    for serial in range(1, count + 1):
        row = valid_row(serial, name=f"学生{serial}", address=f"北京市东城区建国路{serial}号\t2单元")
        rows.append([row.get(k, "") for k in KEYS])
    return rows


def inline_strings_xlsx(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    """As streaming writers save: every string inline in the sheet, no shared strings part."""
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False})
    sheet = workbook.add_worksheet("招生信息")
    sheet.write_row(0, 0, header)
    for index, row in enumerate(rows, start=1):
        for col, value in enumerate(row):
            if value != "":
                sheet.write(index, col, value)
    workbook.add_worksheet("字典").write(0, 0, "代码")  # the template's own sheets are not data sheets
    workbook.close()
    return path


def edit_sheet(path: Path, change) -> Path:  # type: ignore[no-untyped-def]
    """The same workbook with its first sheet's XML passed through ``change``."""
    out = path.with_name(f"edited-{path.name}")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            content = source.read(entry)
            if entry.filename == "xl/worksheets/sheet1.xml":
                content = change(content)
            target.writestr(entry.filename, content)
    return out


@pytest.mark.parametrize(
    "kind", ["shared strings", "inline strings", "title rows above the header", "saved by LibreOffice"]
)
def test_the_two_parts_give_exactly_the_rows_of_the_whole_sheet(tmp_path: Path, kind: str) -> None:
    rows = data_rows(60)
    header = headers_for(KEYS)
    if kind == "inline strings":
        path = inline_strings_xlsx(tmp_path / "a.xlsx", header, rows)
    elif kind == "saved by LibreOffice":  # as an office suite saves what the registrar filled in
        written = write_xlsx(tmp_path / "source.xlsx", header, rows)
        (path,) = soffice_convert([written], "xlsx", tmp_path / "saved")
    else:
        start = 2 if kind == "title rows above the header" else 0
        path = write_xlsx(tmp_path / "a.xlsx", header, rows, start_row=start)
    whole_info, whole_rows = rows_of(path)
    cut, cut_again = parts(path, tmp_path)
    assert cut is not None and cut == cut_again and 20 < cut < 50
    first_info, first_rows = rows_of(tmp_path / "part0.xlsx")
    second_info, second_rows = rows_of(tmp_path / "part1.xlsx")
    assert first_info == second_info == whole_info  # the header is found in both, in the same place
    assert all(number < cut for number, _ in first_rows)
    assert first_rows + [(n, cells) for n, cells in second_rows if n >= cut] == whole_rows


def test_a_sheet_the_cutter_does_not_fully_understand_is_not_cut(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "a.xlsx", headers_for(KEYS), data_rows(60))
    unnumbered = edit_sheet(path, lambda xml: re.sub(rb'(<row) r="\d+"', rb"\1", xml))
    assert parts(unnumbered, tmp_path) == (None, None)  # a row's place would come from the rows before it
    commented = edit_sheet(path, lambda xml: xml.replace(b"</sheetData>", b"<!-- <row r='9'> --></sheetData>"))
    assert parts(commented, tmp_path)[1] is None
    few = write_xlsx(tmp_path / "few.xlsx", headers_for(KEYS), data_rows(5))
    assert parts(few, tmp_path) == (None, None)
    csv = tmp_path / "a.csv"
    csv.write_text("姓名,身份证件号\n", encoding="utf-8")
    assert parts(csv, tmp_path) == (None, None)
    over = sheet_part(path, tmp_path / "p.xlsx", part=1, head_rows=10, max_rows=30)
    assert over is None  # more rows than allowed: the whole-file reader refuses the file with its message


@pytest.mark.parametrize(
    "markup",
    [
        b"<!-- a comment -->",
        b"<?xueji note?>",
        b"<c r='AZ{n}' t='inlineStr'><is><t><![CDATA[<row r='3'>]]></t></is></c>",
    ],
    ids=["comment", "processing instruction", "CDATA"],
)
@pytest.mark.parametrize("row", [5, 20, 55], ids=["in the header area", "in the first part", "in the second part"])
def test_markup_where_a_row_tag_could_be_text_anywhere_in_the_sheet_stops_the_cut(
    tmp_path: Path, markup: bytes, row: int
) -> None:
    path = write_xlsx(tmp_path / "a.xlsx", headers_for(KEYS), data_rows(60))
    assert parts(path, tmp_path)[1] is not None
    start = f'<row r="{row}"'.encode()

    def insert(xml: bytes) -> bytes:
        at = xml.index(start)
        close = xml.index(b">", at) + 1
        assert xml[close - 2 : close] != b"/>", "the row must have cells for the markup to go among them"
        return xml[:close] + markup.replace(b"{n}", str(row).encode()) + xml[close:]

    # Each part checks what it reads (the first up to the cut, the second its header area and the rest); the
    # reader cuts only when both parts were made.
    assert None in parts(edit_sheet(path, insert), tmp_path)


def test_exclamation_and_question_marks_in_cells_do_not_stop_the_cut(tmp_path: Path) -> None:
    rows = data_rows(60)
    for row in rows:
        row[KEYS.index("guardian_name")] = "张三?! <!-- 不是注释 --> <?也不是?> <![CDATA[x]]>"
    # Inline strings, so that the text is in the sheet's XML itself (escaped: "&lt;!--").
    path = inline_strings_xlsx(tmp_path / "a.xlsx", headers_for(KEYS), rows)
    assert b"?!" in zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")
    first, second = (tmp_path / "part0.xlsx"), (tmp_path / "part1.xlsx")
    whole = rows_of(path)[1]
    cut, cut_again = parts(path, tmp_path)
    assert cut is not None and cut == cut_again
    halves = list(open_table(first).rows()) + [r for r in open_table(second).rows() if r[0] >= cut]
    assert halves == whole


def test_the_first_part_keeps_only_the_shared_strings_its_rows_can_use(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "a.xlsx", headers_for(KEYS), data_rows(60))
    cut, _ = parts(path, tmp_path)
    assert cut is not None
    original = zipfile.ZipFile(path).read("xl/sharedStrings.xml")
    kept = zipfile.ZipFile(tmp_path / "part0.xlsx").read("xl/sharedStrings.xml")
    assert 0 < kept.count(b"<si>") < original.count(b"<si>")
    assert original.startswith(kept[: kept.rindex(b"</si>")])  # the first strings, as they were
    # Exactly the rows of the whole sheet, before the cut (the strings they use are all kept).
    assert list(open_table(tmp_path / "part0.xlsx").rows()) == [r for r in rows_of(path)[1] if r[0] < cut]
    whole = zipfile.ZipFile(tmp_path / "part1.xlsx").read("xl/sharedStrings.xml")
    assert whole == original  # the second part's rows use strings from anywhere in the table


def test_a_copied_row_at_the_cut_does_not_stop_the_first_part_keeping_only_the_strings_it_uses(
    tmp_path: Path,
) -> None:
    """The row at the cut brings no new string (a copy of row 2, as a registrar may paste one twice): the rows
    after it still bound the first part's strings, and the first part reads exactly its rows."""
    rows = data_rows(60)
    probe = write_xlsx(tmp_path / "probe.xlsx", headers_for(KEYS), rows)
    cut, _ = parts(probe, tmp_path)
    assert cut is not None
    rows[cut - 2] = list(rows[0])  # sheet row ``cut`` (the header is row 1) repeats sheet row 2
    path = write_xlsx(tmp_path / "a.xlsx", headers_for(KEYS), rows)
    assert parts(path, tmp_path)[0] == cut
    kept = zipfile.ZipFile(tmp_path / "part0.xlsx").read("xl/sharedStrings.xml")
    assert kept.count(b"<si>") < zipfile.ZipFile(path).read("xl/sharedStrings.xml").count(b"<si>")
    assert list(open_table(tmp_path / "part0.xlsx").rows()) == [r for r in rows_of(path)[1] if r[0] < cut]


def reorder_shared_strings(path: Path) -> Path:
    """The same workbook with its shared strings in reverse order (and the sheet's indexes to match): a valid
    workbook, but not numbered in the order the sheet first uses its strings, as Excel and LibreOffice do."""
    out = path.with_name(f"reordered-{path.name}")
    with zipfile.ZipFile(path) as source:
        table = source.read("xl/sharedStrings.xml")
        strings = re.findall(rb"<si>.*?</si>", table, re.S)
        last = len(strings) - 1
        first_si, end = table.index(b"<si>"), table.rindex(b"</si>") + len(b"</si>")
        reordered = table[:first_si] + b"".join(reversed(strings)) + table[end:]
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
            for entry in source.infolist():
                content = source.read(entry)
                if entry.filename == "xl/sharedStrings.xml":
                    content = reordered
                elif entry.filename == "xl/worksheets/sheet1.xml":
                    content = re.sub(
                        rb'(t="s"[^>]*><v>)(\d+)(</v>)',
                        lambda m: m.group(1) + str(last - int(m.group(2))).encode() + m.group(3),
                        content,
                    )
                target.writestr(entry.filename, content)
    return out


def test_shared_strings_numbered_otherwise_make_the_first_part_unreadable_never_wrong(tmp_path: Path) -> None:
    """When the strings are not numbered in the order of use, the first part's rows refer past the strings it
    kept: python-calamine refuses the part (the reader then reads the whole file), it does not misread it."""
    path = reorder_shared_strings(write_xlsx(tmp_path / "a.xlsx", headers_for(KEYS), data_rows(60)))
    assert rows_of(path) == rows_of(write_xlsx(tmp_path / "b.xlsx", headers_for(KEYS), data_rows(60)))
    assert parts(path, tmp_path)[0] is not None
    with pytest.raises(WorkbookError):
        list(open_table(tmp_path / "part0.xlsx").rows())


def test_a_workbook_with_two_data_sheets_is_not_cut(tmp_path: Path) -> None:
    path = tmp_path / "two.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    for name in ("一班", "二班"):
        sheet = workbook.add_worksheet(name)
        sheet.write_row(0, 0, headers_for(KEYS))
        for index, row in enumerate(data_rows(30), start=1):
            sheet.write_row(index, 0, row)
    workbook.close()
    assert parts(path, tmp_path) == (None, None)


def move_row(number: int, to_end: bool):  # type: ignore[no-untyped-def]
    """An edit for ``edit_sheet``: row ``number``'s element moved to the end of the sheet's rows (or to just
    after the header row), keeping its row number: a row written out of its place."""

    def change(xml: bytes) -> bytes:
        row = re.search(rb'<row r="%d"[ >].*?</row>' % number, xml, re.S)
        assert row is not None
        xml = xml[: row.start()] + xml[row.end() :]
        if to_end:
            return xml.replace(b"</sheetData>", row.group(0) + b"</sheetData>")
        header_end = xml.index(b"</row>") + len(b"</row>")
        return xml[:header_end] + row.group(0) + xml[header_end:]

    return change


@pytest.mark.parametrize(("number", "to_end"), [(5, True), (15, True), (55, False)])
def test_a_row_out_of_its_place_is_not_lost_or_repeated(tmp_path: Path, number: int, to_end: bool) -> None:
    """Spreadsheet programs write rows in order; a file that does not (row 5 or 15 written last, row 55 first)
    is read whole: its rows are all there, once, as calamine reads the whole sheet."""
    from tests.records.helpers import make_ctx
    from xueji.records.reader import BatchReader

    path = edit_sheet(write_xlsx(tmp_path / "a.xlsx", headers_for(KEYS), data_rows(60)), move_row(number, to_end))
    _info, whole_rows = rows_of(path)
    assert len(whole_rows) == 60
    with BatchReader(path, make_ctx(), columns=("name",), split_from_bytes=0, batch_size=7) as reader:
        got = []
        for batch, _failed in reader:
            got.extend(number for number, *_rest in batch)
            reader.ack(())
        assert reader.finish()[0] == 60
    assert reader.info.cut is None
    assert got == [n for n, _cells in whole_rows]
