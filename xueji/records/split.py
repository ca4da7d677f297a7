"""Cutting a large xlsx data sheet in two, so that two reader processes can parse it at the same time.

python-calamine parses a whole sheet before the first row exists and cannot start in the middle of one; for a
100,000-row import that parse is half of the reader's time, spent on one core while the other waits. No
library splits a sheet, so this does it by hand, as plainly as it can, on the sheet's XML:

- the first part is the sheet up to a ``<row>`` start tag near the middle, closed as the original closes;
- the second part is the sheet's opening (everything before its first rows), its first ``head_rows`` rows
  (so that the header is found there exactly as in the whole sheet) and every row from that tag on.

Every row keeps its absolute row number (the ``r`` attributes; every cell's own position is required on
upload), so both parts give the rows of the whole sheet at their true numbers; the second part's rows before
``Cut.row`` are the header area, read again and not to be used as data. Every other part of the archive
(shared strings, styles, the workbook) is copied to both, stored without compression so that the readers need
not inflate it again; the first part's shared strings end after the last one its rows can use (as Excel and
LibreOffice number them in the order of use, about half of them: see ``_strings_used_after``).

Anything unusual gives ``None`` and the caller reads the whole file in one process, as it always could: a
sheet without row numbers where the cut falls, CDATA, comments or processing instructions in the sheet (where
a ``<row`` could be text), more than one data sheet, an archive that is not laid out as expected. The readers
also check that no row was written out of its place, and the caller compares what each part makes of its
header and falls back when they differ (reader.py), so a file this code does not understand is never read
wrongly, only more slowly.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import cast
from xml.etree import ElementTree

from xueji.records.workbook import NON_DATA_SHEETS

# The sheet XML is held in memory while it is cut (the simplest correct way); beyond this it is not cut.
MAX_SHEET_BYTES = 400 * 1024 * 1024
_ROW_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s>/]")
_SHEET_DATA_START = re.compile(rb"<((?:[A-Za-z_][\w.-]*:)?sheetData)\s*>")
_ROOT_START = re.compile(rb"<((?:[A-Za-z_][\w.-]*:)?worksheet)[\s>]")
_ROW_NUMBER = re.compile(rb'\sr\s*=\s*["\'](\d+)["\']')
_WORKSHEET_REL = "/worksheet"
# CDATA, comments and processing instructions (where "<row" can be text) all start with "<!" or "<?". They are
# found by their second byte: "<" starts every tag, and bytes.find of a short needle whose last byte is common
# steps a few bytes at a time (0.17 s for "<!" in a 219 MB sheet), where one rare byte is found by memchr (8 ms).
_MARKUP_SECOND = (b"!", b"?")
_LT = ord("<")


# Where the cut falls, as a share of the sheet's XML: the second part's reader also inflates the first half
# (a deflate stream is read from its start) and reads the header area again, so it gets the smaller share.
CUT_AT = 0.52
# With shared strings the second part also reads all of them, the first about half (``_strings_used_after``):
# the first part gets more rows. 100,000 rows saved by LibreOffice: 14,300 rows/s at 0.52, 15,400 at 0.58 and
# 14,900 at 0.62 (means of 4-6 runs on PostgreSQL); sheets with inline strings: the same at 0.52 and 0.56.
CUT_AT_SHARED_STRINGS = 0.58


@dataclass(frozen=True)
class Cut:
    row: int  # the sheet row number of the first row after the cut: the second part's data starts there
    head: frozenset[int]  # the row numbers of the header area, which the second part reads too


def sheet_part(path: str | Path, out: Path, *, part: int, head_rows: int, max_rows: int) -> Cut | None:
    """Write part ``part`` (0 or 1) of the workbook's data sheet, cut in two (see the module docstring), as the
    xlsx ``out``; return where it is cut, or None (nothing written) when the file is not one to cut. Both parts
    find the same cut from the same bytes; the first part inflates only as far as the cut, and only the second
    checks the rest of the sheet (its row count, CDATA), so the caller uses the cut only when both parts were
    made. The reader of each part also checks that no row was written out of its place (reader.py)."""
    try:
        with zipfile.ZipFile(path) as archive:
            relations = _workbook_relations(archive)
            member = _data_sheet(archive, relations)
            if member is None:
                return None
            size = archive.getinfo(member).file_size
            if size > MAX_SHEET_BYTES:
                return None
            strings = _shared_strings(relations)
            target = int(size * (CUT_AT_SHARED_STRINGS if strings else CUT_AT))
            xml = _read_to_cut(archive, member, target) if part == 0 else _read_all(archive, member)
            cut = _cut(xml, head_rows, target)
            if cut is None:
                return None
            head, middle, found = cut
            view = memoryview(xml)
            declared = xml.find(b"?>") + 2 if xml.lstrip(b"\xef\xbb\xbf").startswith(b"<?xml") else 0
            spans = [(declared, middle)] if part == 0 else [(declared, head), (middle, len(xml))]
            if any(_has_markup(xml, start, end) for start, end in spans):
                return None  # a "<row" inside one of these would be text, not a tag: not worth telling apart
            if part == 1 and not _rows_at_most(xml, max_rows):
                return None  # the whole-file reader refuses it with its message
            pieces: list[bytes | memoryview] = (
                [view[:middle], _closing(xml)] if part == 0 else [view[:head], view[middle:]]
            )
            # The first part needs only the shared strings its rows use (see _strings_head).
            needed = _strings_used_after(xml, middle) if part == 0 and strings else None
            with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as written:
                for entry in archive.infolist():
                    if entry.filename == strings and needed is not None:
                        content = _strings_head(archive, entry.filename, needed)
                        written.writestr(_stored(entry.filename), content or _read_all(archive, entry.filename))
                    elif entry.filename != member:
                        written.writestr(_stored(entry.filename), _read_all(archive, entry.filename))
                with written.open(_stored(member), "w", force_zip64=True) as stream:
                    for piece in pieces:
                        stream.write(piece)
            return found
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, NotImplementedError, RuntimeError, ValueError):
        out.unlink(missing_ok=True)
        return None


def _stored(name: str) -> zipfile.ZipInfo:
    entry = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    entry.compress_type = zipfile.ZIP_STORED
    return entry


# Inflated a megabyte at a time, the zip module's own reads being 4 KB: reading a whole 219 MB sheet took 0.43-0.54 s
# in one read() and 0.34 s in these chunks.
_CHUNK = 1 << 20


def _open_member(archive: zipfile.ZipFile, member: str) -> zipfile.ZipExtFile:
    stream = cast(zipfile.ZipExtFile, archive.open(member))
    stream.MIN_READ_SIZE = _CHUNK
    return stream


def _read_all(archive: zipfile.ZipFile, member: str) -> bytes:
    with _open_member(archive, member) as stream:
        return b"".join(iter(lambda: stream.read(_CHUNK), b""))


def _read_to_cut(archive: zipfile.ZipFile, member: str, target: int) -> bytes:
    """The sheet's XML from its start to past the first row start tag at or after ``target`` and the next
    ``_PROBE_ROWS`` (so that the rows after the cut are whole: see _strings_used_after), or to its end."""
    with _open_member(archive, member) as stream:
        chunks = [stream.read(target)]
        # Searched from ``target`` on; a tag cut by a chunk's end is found in the next, with its start kept.
        tail, searched, wanted = chunks[0][-64:], min(64, len(chunks[0])), 1 + _PROBE_ROWS
        while chunk := stream.read(_CHUNK):
            chunks.append(chunk)
            tail += chunk
            while wanted:
                found = _ROW_START.search(tail, searched)
                if found is None or tail.find(b">", found.start()) < 0:
                    break
                wanted -= 1
                searched = found.end()
            if not wanted:
                break
            # Kept: where a row start tag may still be completed (the unfinished one, or the last bytes).
            start = found.start() if found is not None else max(searched, len(tail) - 64)
            tail, searched = tail[start:], 0
    return b"".join(chunks)


# A shared-string cell's index: <c ... t="s" ...><v>12</v> (attributes in any order, either quote).
_STRING_CELL = re.compile(
    rb"""<(?:[A-Za-z_][\w.-]*:)?c\s[^>]*?\bt\s*=\s*["']s["'][^>]*>\s*<(?:[A-Za-z_][\w.-]*:)?v>\s*(\d+)"""
)
_SST_START = re.compile(rb"<((?:[A-Za-z_][\w.-]*:)?)sst[\s>]")
_SHARED_STRINGS_REL = "/sharedStrings"
_PROBE_ROWS = 8  # rows after the cut whose string indexes bound the first part's (_strings_used_after)


def _strings_used_after(xml: bytes, middle: int) -> int | None:
    """How many shared strings the first part can use at most: one more than the largest string index in the
    first rows after the cut (up to ``_PROBE_ROWS`` of them, whole in ``xml``), or None when they have none.

    Excel and LibreOffice number the shared strings in the order the sheet first uses them, row by row. A
    row of admitted students almost always brings new strings (a name, an ID number), so every string the rows
    before it use has a lower index than its own; a few rows are looked at in case one is a copy of an earlier
    row. Should a workbook be numbered otherwise, a row of the first part refers past the strings it was given,
    python-calamine refuses the part ("Cell string index not found in shared strings table") and the file is
    read whole (reader.py): slower, never wrong."""
    end = None
    for count, found in enumerate(_ROW_START.finditer(xml, middle + 1), start=1):
        end = found.start()
        if count == _PROBE_ROWS:
            break
    if end is None:
        return None
    indexes = [int(found.group(1)) for found in _STRING_CELL.finditer(xml, middle, end)]
    return max(indexes) + 1 if indexes else None


def _strings_head(archive: zipfile.ZipFile, member: str, count: int) -> bytes | None:
    """The shared-strings part with only its first ``count`` strings (inflated only as far as those), or None
    to copy it whole: fewer strings than that, or markup where a closing tag could be text."""
    with _open_member(archive, member) as stream:
        first = stream.read(_CHUNK)
        root = _SST_START.search(first)
        if root is None:
            return None
        closing = b"</" + root.group(1) + b"si>"
        chunks, seen, carry = [first], 0, b""
        chunk = first
        while chunk:
            window = carry + chunk
            found = window.count(closing)
            if seen + found >= count:
                at = -1
                for _ in range(count - seen):
                    at = window.find(closing, at + 1)
                # The end of the count-th string, as an offset into the chunks read so far.
                end = sum(len(c) for c in chunks) - len(window) + at + len(closing)
                head = b"".join(chunks)[:end]
                if _has_markup(head, head.find(b"?>") + 2, len(head)):
                    return None
                return head + b"</" + root.group(1) + b"sst>"
            seen += found
            carry = window[-(len(closing) - 1) :]
            chunk = stream.read(_CHUNK)
            chunks.append(chunk)
    return None


def _has_markup(xml: bytes, start: int, end: int) -> bool:
    """Whether a CDATA section, a comment or a processing instruction begins within ``xml[start:end]``."""
    for second in _MARKUP_SECOND:
        at = xml.find(second, start + 1, end)
        while at >= 0:
            if xml[at - 1] == _LT:
                return True
            at = xml.find(second, at + 1, end)
    return False


def _cut(xml: bytes, head_rows: int, target: int) -> tuple[int, int, Cut] | None:
    """(where the header area's rows end, where the second part's rows start, the row numbers there) or None."""
    opening = _SHEET_DATA_START.search(xml)
    if opening is None:
        return None
    head = None
    head_numbers: set[int] = set()
    for count, row in enumerate(_ROW_START.finditer(xml, opening.end())):
        if count == head_rows:
            head = row.start()
            break
        head_number = _row_number(xml, row.start())
        if head_number is None:
            return None  # a row's number would be counted from the rows before it
        head_numbers.add(head_number)
    if head is None:
        return None  # not even a header area's worth of rows
    found = _ROW_START.search(xml, max(head, target))
    if found is None:
        return None
    middle = found.start()
    number = _row_number(xml, middle)
    if number is None or number <= max(head_numbers):
        return None  # the second part's first row would be counted from the rows before it, which it lacks
    if xml.find(b"sheetData", opening.end(), middle) >= 0:  # (a long needle: found quickly)
        return None  # the cut must fall among the rows
    return head, middle, Cut(number, frozenset(head_numbers))


def _row_number(xml: bytes, start: int) -> int | None:
    """The ``r`` of the row start tag at ``start``."""
    end = xml.find(b">", start)
    number = _ROW_NUMBER.search(xml, start, end) if end > 0 else None
    return int(number.group(1)) if number else None


def _rows_at_most(xml: bytes, limit: int) -> bool:
    """Whether the sheet's last row number (so its count of rows, blank ones included) is within ``limit``."""
    end = xml.rfind(b"sheetData>")
    starts = [found.start() for found in _ROW_START.finditer(xml, max(0, end - 65536), end)]
    if not starts:
        return False
    last = starts[-1]
    number = _row_number(xml, last)
    return number is not None and number <= limit


def _closing(xml: bytes) -> bytes:
    """The end tags that close the first part: its sheetData and root element, spelled as they open."""
    root = _ROOT_START.search(xml)
    data = _SHEET_DATA_START.search(xml)
    if root is None or data is None:
        raise ValueError("no root or sheetData tag")
    return b"</" + data.group(1) + b"></" + root.group(1) + b">"


def _shared_strings(relations: dict[str, tuple[str, str]]) -> str | None:
    """The archive path of the workbook's shared-strings part, if it has one."""
    for relation_type, target in relations.values():
        if relation_type.endswith(_SHARED_STRINGS_REL):
            return target
    return None


def _workbook_relations(archive: zipfile.ZipFile) -> dict[str, tuple[str, str]]:
    """The workbook's relationships by id: (type, archive path of the target); none for external targets, and
    none at all when the archive has no workbook relationships part."""
    relations: dict[str, tuple[str, str]] = {}
    if "xl/_rels/workbook.xml.rels" not in archive.namelist():
        return relations
    for element in ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels")):
        if element.get("TargetMode") != "External":
            target = element.get("Target", "")
            resolved = target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")
            relations[element.get("Id", "")] = (element.get("Type", ""), resolved)
    return relations


def _data_sheet(archive: zipfile.ZipFile, relations: dict[str, tuple[str, str]]) -> str | None:
    """The archive path of the workbook's one visible data worksheet (the template's own sheets of notes and
    codes aside), or None when there is not exactly one. ``relations``: ``_workbook_relations(archive)``."""
    names = set(archive.namelist())
    if "xl/workbook.xml" not in names or not relations:
        return None
    targets = {key: target for key, (kind, target) in relations.items() if kind.endswith(_WORKSHEET_REL)}
    found = []
    for element in ElementTree.fromstring(archive.read("xl/workbook.xml")).iter():
        if not element.tag.endswith("}sheet") and element.tag != "sheet":
            continue
        relation = next((value for key, value in element.attrib.items() if key.endswith("}id")), None)
        if relation not in targets or element.get("state", "visible") != "visible":
            continue
        if element.get("name") not in NON_DATA_SHEETS:
            found.append(targets[relation])
    if len(found) != 1 or found[0] not in names:
        return None
    return found[0]
