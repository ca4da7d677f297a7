"""Reading uploaded workbooks safely: xlsx, xls, ods (python-calamine) and csv (UTF-8 / GBK / GB18030).

Before anything parses a file: a size limit, and for zip-based formats (xlsx, ods) an archive check, since a
2.7 MB zip bomb that unpacks to 784 MB took calamine 12 s and 2.3 GB. Then the header row is found (in any of
the first rows, columns in any order, with or without ★) and rows are yielded one by one with their sheet
row numbers. Every problem with the file as a whole is a ``WorkbookError`` with one clear Chinese message.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import struct
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO, Literal, cast

from xueji.records.catalog import Field, field_for_header, normalise_header, required_columns

Format = Literal["xlsx", "xls", "ods", "csv"]

# Columns that our own files add and that carry no field: the annotated file's reasons, row numbers.
IGNORED_HEADERS = frozenset({"失败原因", "序号", "行号", "原行号", "错误信息"})
# Sheets of the template that never hold data.
NON_DATA_SHEETS = frozenset({"采集指标说明", "字典", "_lists"})


class WorkbookError(Exception):
    """The file as a whole cannot be checked; ``message`` says why, for the registrar."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Limits:
    """Bounds for uploaded files. A real 100,000-row xlsx is about 10 MB and unpacks to about 60 MB at a
    ratio under 10; the defaults leave room for that and refuse bombs."""

    max_file_bytes: int = 50 * 1024 * 1024
    max_zip_entries: int = 2_000
    max_unpacked_bytes: int = 600 * 1024 * 1024
    max_entry_ratio: int = 100
    ratio_applies_above: int = 1024 * 1024  # tiny entries compress at silly ratios and do no harm
    verify_unpacked: bool = True  # decompress once to check the declared sizes are true (forged headers)
    max_rows: int = 300_000
    header_search_rows: int = 10
    # The cell area python-calamine allocates for a sheet (from its first to its last cell, about 32 bytes a
    # cell, blank or not): one cell at A1 and one at XFD1048576 would ask for 17 billion cells and abort the
    # process. Checked on the sheets' XML before calamine reads them; a real file stays far below.
    max_sheet_rows: int = 300_100
    max_columns: int = 256
    max_cells: int = 16_000_000


DEFAULT_LIMITS = Limits()


# Programs, not documents: refused by their first bytes whatever the file is called (ELF, Windows PE, Mach-O).
EXECUTABLE_MAGIC = (b"\x7fELF", b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe")
ENCRYPTED_MESSAGE = "文件设有打开密码，请取消密码后再上传"
# The stream an encrypted xlsx keeps its content in, by its name in the OLE directory (UTF-16, NUL-terminated).
_ENCRYPTED_PACKAGE = "EncryptedPackage\x00".encode("utf-16-le")


def sniff_format(path: str | Path) -> Format:
    """By content, not by name: uploads arrive as temporary files, and people rename .xls to .xlsx."""
    with open(path, "rb") as handle:
        head = handle.read(8)
    if head.startswith(EXECUTABLE_MAGIC) or (head.startswith(b"MZ") and not _looks_like_text(path)):
        raise WorkbookError("文件是可执行程序，不是表格文件，已拒绝。请上传xlsx、xls、ods或csv格式的文件")
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
                if "mimetype" in names and b"opendocument.spreadsheet" in archive.read("mimetype"):
                    return "ods"
        except zipfile.BadZipFile:
            raise WorkbookError("文件已损坏：不是有效的Excel或ODS文件") from None
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        # An xlsx with an open password is an OLE container, like an xls: calamine cannot tell what it is.
        if _contains(path, _ENCRYPTED_PACKAGE):
            raise WorkbookError(ENCRYPTED_MESSAGE)
        return "xls"
    if not _looks_like_text(path):
        # A picture, a PDF or a Word file chosen by mistake: say so, rather than "cannot read the CSV".
        raise WorkbookError("文件不是表格文件：请上传xlsx、xls、ods或csv格式的文件")
    return "csv"


def _contains(path: str | Path, needle: bytes) -> bool:
    with open(path, "rb") as handle:
        tail = b""
        while chunk := handle.read(1 << 20):
            if needle in tail + chunk:
                return True
            tail = chunk[-len(needle) :]
    return False


def _looks_like_text(path: str | Path) -> bool:
    with open(path, "rb") as handle:
        head = handle.read(4096)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return True
    return b"\x00" not in head and not head.startswith((b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"Rar!"))


def check_size(path: str | Path, limits: Limits = DEFAULT_LIMITS) -> None:
    size = Path(path).stat().st_size
    if size == 0:
        raise WorkbookError("文件是空的")
    if size > limits.max_file_bytes:
        raise WorkbookError(
            f"文件太大（{size / 1024 / 1024:.1f} MB），上限为{limits.max_file_bytes // 1024 // 1024} MB，请分成几个文件"
        )


MACRO_MESSAGE = "文件含有宏（VBA代码），为安全起见不能上传。请在Excel或WPS中另存为“Excel工作簿（*.xlsx）”后再上传"


def check_archive(path: str | Path, limits: Limits = DEFAULT_LIMITS) -> None:
    """Refuse zip bombs, path tricks, macros, XML entity declarations and sheets too large for the reader,
    before a parser sees the archive."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            if len(entries) > limits.max_zip_entries:
                raise WorkbookError(f"文件结构异常：压缩包内有{len(entries)}个文件，不像是正常的表格文件")
            total = 0
            for entry in entries:
                name = entry.filename.replace("\\", "/")
                if name.startswith("/") or (len(name) > 1 and name[1] == ":") or ".." in name.split("/"):
                    raise WorkbookError("文件结构异常：压缩包内含有不安全的路径")
                lowered = name.lower()
                # xlsm/xlsb keep VBA in vbaProject.bin; an ods keeps Basic macros under Basic/.
                if lowered.endswith("vbaproject.bin") or lowered.startswith("basic/"):
                    raise WorkbookError(MACRO_MESSAGE)
                total += entry.file_size
                if total > limits.max_unpacked_bytes:
                    raise WorkbookError("文件解压后过大，可能是恶意文件，已拒绝")
                if entry.file_size > limits.ratio_applies_above and entry.file_size > limits.max_entry_ratio * max(
                    entry.compress_size, 1
                ):
                    raise WorkbookError("文件压缩比异常，可能是恶意文件，已拒绝")
            if limits.verify_unpacked:
                _verify_unpacked_sizes(path, entries, limits)
    except zipfile.BadZipFile:
        raise WorkbookError("文件已损坏：不是有效的Excel或ODS文件") from None
    except (NotImplementedError, RuntimeError):  # encrypted or unsupported compression
        raise WorkbookError("文件已加密或使用了不支持的压缩方式，请另存为普通的xlsx文件") from None


_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature, …, file name length, extra field length

# Parts that are pictures, documents or embedded binaries, by their first bytes (or a NUL byte early on, which
# UTF-8 XML never has): not XML, so not scanned.
_BINARY_MAGIC = (
    b"PK\x03\x04",
    b"%PDF",
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF8",
    b"BM",
    b"\xd0\xcf\x11\xe0",
    b"\x01\x00\x00\x00",
    b"\xd7\xcd\xc6\x9a",
)
# The cells of a typical sheet start with a near position: r="A1" to r="AZ99999". Anything else (a cell without
# its position first, a far column or row) is looked at closely; one pass of this expression over the XML
# costs about a tenth of what calamine then takes to read it.
_UNUSUAL_CELL = re.compile(rb'<c(?:>|/>|\s(?!r="A?[A-Z]\d{1,5}"))')
# A cell whose position is not its first attribute, or missing: every spreadsheet program writes it first, and
# the extent check below relies on it (calamine places a cell without one after the previous cell).
_UNPLACED_CELL = re.compile(rb'<c(?:>|/>|\s(?!r="))')
_FAR_CELL = re.compile(rb'<c r="((?:[B-Z][A-Z]|[A-Z]{3,})\d+|[A-Z]{1,2}\d{6,})"')
_ELEMENT = re.compile(rb"<[A-Za-z_]")
_NEAR_ROWS, _NEAR_COLUMNS = 99_999, 52
_SCAN_OVERLAP = 64


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number


def _column_letters(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _check_prolog(data: bytes) -> None:
    """A DTD can only come before the root element. calamine does not expand entities (it stops at the first
    unknown one), so this is for a clear message rather than a defence."""
    root = _ELEMENT.search(data)
    prolog = data[: root.start()] if root else data
    if b"<!DOCTYPE" in prolog or b"<!ENTITY" in prolog:
        raise WorkbookError("文件结构异常：含有XML实体声明（DTD），可能是恶意文件，已拒绝")


class _PartScan:
    """Follows one part's XML as it is inflated, piece by piece (with an overlap, so that nothing is missed
    at the seams), for entity declarations and the extent of its cells."""

    def __init__(self) -> None:
        self.tail = b""
        self.started = False
        self.binary = False
        self.max_row = 0
        self.max_column = 0

    def feed(self, data: bytes, final: bool = False) -> None:
        if not self.started:
            self.started = True
            self.binary = data.startswith(_BINARY_MAGIC) or b"\x00" in data[:1024]
            if not self.binary:
                _check_prolog(data)
        if self.binary or not (data or final):
            return
        window = self.tail + data
        # A match in the last bytes may be cut short by the end of the piece ("<c r="A1" before its quote):
        # the next piece sees those bytes again, and ``check`` the very end.
        end = len(window) if final else len(window) - 16
        unusual = _UNUSUAL_CELL.search(window, 0, len(window))
        if unusual is not None and unusual.start() < end:
            unplaced = _UNPLACED_CELL.search(window)
            if unplaced is not None and (final or unplaced.end() < end):
                raise WorkbookError("文件结构异常：单元格缺少位置信息。请用Excel或WPS打开后另存为xlsx再上传")
            for ref in _FAR_CELL.findall(window):
                text = ref.decode("ascii")
                split = len(text) - len(text.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
                self.max_column = max(self.max_column, _column_number(text[:split]))
                self.max_row = max(self.max_row, int(text[split:]))
        self.tail = window[-_SCAN_OVERLAP:]

    def check(self, limits: Limits) -> None:
        self.feed(b"", final=True)
        if self.max_column > limits.max_columns:
            raise WorkbookError(
                f"表格有{self.max_column}列（到{_column_letters(self.max_column)}列），超过上限{limits.max_columns}列。"
                "请删除多余的列（含空白但设置了格式的列）后再上传"
            )
        if self.max_row > limits.max_sheet_rows:
            raise WorkbookError(
                f"表格有{self.max_row}行，超过上限{limits.max_rows}行。"
                "请删除表格末尾多余的行（含空白但设置了格式的行），或分成几个文件"
            )
        rows = self.max_row or _NEAR_ROWS
        columns = self.max_column or _NEAR_COLUMNS
        if rows * columns > limits.max_cells:
            raise WorkbookError(f"表格的范围过大（{rows}行×{columns}列），请删除多余的行和列，或分成几个文件")


_ODS_ROW = re.compile(rb"<table:table-row(?=[\s/>])[^>]*?(/?)>|</table:table>")
_ODS_ROWS_REPEATED = re.compile(rb'number-rows-repeated="(\d+)"')
_ODS_COLUMNS_REPEATED = re.compile(rb'number-columns-repeated="(\d+)"')
_ODS_ROW_END = b"</table:table-row>"
_ODS_MAX_ROW_BYTES = 64 << 20


class _OdsScan(_PartScan):
    """The extent of an ods's tables (content.xml): rows and cells may be repeated (number-rows-repeated,
    number-columns-repeated), and calamine expands every repeat that a value follows; LibreOffice pads each
    table with repeated empty rows and cells, which calamine drops and which are not counted here. Row by row:
    where its last value is, counted in C (``bytes.count``), so that a cell costs no Python."""

    def __init__(self) -> None:
        super().__init__()
        self.buffer = b""
        self.row = 0

    def feed(self, data: bytes, final: bool = False) -> None:
        if not self.started:
            self.started = True
            _check_prolog(data)
        self.buffer += data
        position = 0
        while (tag := _ODS_ROW.search(self.buffer, position)) is not None:
            if tag.group() == b"</table:table>":
                self.row, position = 0, tag.end()
                continue
            repeated = _ODS_ROWS_REPEATED.search(tag.group())
            count = int(repeated.group(1)) if repeated else 1
            if tag.group(1) == b"/":  # an empty row
                self.row, position = self.row + count, tag.end()
                continue
            end = self.buffer.find(_ODS_ROW_END, tag.end())
            if end < 0:
                break  # the row goes on in the next piece
            row = self.buffer[tag.end() : end]
            last = max(row.rfind(b"office:value-type"), row.rfind(b"<text:p"))
            if last >= 0:
                last = row.find(b">", last) + 1 or len(row)  # the whole tag of the last value, repeats included
                columns = row.count(b"<table:table-cell", 0, last) + row.count(b"<table:covered-table-cell", 0, last)
                columns += sum(int(n) - 1 for n in _ODS_COLUMNS_REPEATED.findall(row, 0, last))
                self.max_row = max(self.max_row, self.row + count)
                self.max_column = max(self.max_column, columns)
            self.row += count
            position = end + len(_ODS_ROW_END)
        self.buffer = self.buffer[position:]
        if len(self.buffer) > _ODS_MAX_ROW_BYTES:
            raise WorkbookError("文件结构异常：表格中有一行过长，可能是恶意文件，已拒绝")


def _verify_unpacked_sizes(path: str | Path, entries: list[zipfile.ZipInfo], limits: Limits = DEFAULT_LIMITS) -> None:
    """Inflate every entry once and count what really comes out, so that the checks above, made on the
    declared sizes, hold. A reader that stops at the declared size (zipfile) is no proof: a bomb can declare a
    small size and the CRC of just that much, and calamine then inflates the whole stream. Inflating stops as
    soon as an entry passes its declared size, so a bomb costs no more than the declared total. The XML that
    comes out is scanned on the way (``_PartScan``)."""
    forged = "文件结构异常：压缩包内文件的实际大小与声明不符，可能是恶意文件，已拒绝"
    damaged = "文件已损坏：不是有效的Excel或ODS文件"
    with open(path, "rb") as handle:
        for entry in entries:
            if entry.flag_bits & 0x1:
                raise WorkbookError("文件已加密，请取消密码后再上传")
            handle.seek(entry.header_offset)
            header = handle.read(_LOCAL_HEADER.size)
            if len(header) < _LOCAL_HEADER.size:
                raise WorkbookError(damaged)
            signature, name_length, extra_length = _LOCAL_HEADER.unpack(header)
            if signature != b"PK\x03\x04":
                raise WorkbookError(damaged)
            handle.seek(name_length + extra_length, io.SEEK_CUR)
            scan = _OdsScan() if entry.filename == "content.xml" else _PartScan()
            if entry.compress_type == zipfile.ZIP_STORED:
                if entry.compress_size != entry.file_size:
                    raise WorkbookError(forged)
                left = entry.file_size
                while left > 0:
                    data = handle.read(min(left, 1 << 18))
                    if not data:
                        raise WorkbookError(damaged)
                    left -= len(data)
                    scan.feed(data)
                scan.check(limits)
                continue
            if entry.compress_type != zipfile.ZIP_DEFLATED:
                raise WorkbookError("文件使用了不支持的压缩方式，请另存为普通的xlsx文件")
            inflater = zlib.decompressobj(-zlib.MAX_WBITS)
            left, produced = entry.compress_size, 0
            try:
                while left > 0 and not inflater.eof:
                    data = handle.read(min(left, 1 << 16))
                    if not data:
                        raise WorkbookError(damaged)
                    left -= len(data)
                    while data and not inflater.eof:
                        # Small pieces stay in the CPU cache; never more than one byte past the declared size.
                        piece = inflater.decompress(data, min(1 << 18, entry.file_size - produced + 1))
                        produced += len(piece)
                        if produced > entry.file_size:
                            raise WorkbookError(forged)
                        scan.feed(piece)
                        data = inflater.unconsumed_tail
            except zlib.error:
                raise WorkbookError(damaged) from None
            scan.check(limits)


def detect_encoding(path: str | Path) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030 (a superset of GBK and GB2312)."""
    with open(path, "rb") as handle:
        head = handle.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        for encoding in ("utf-8", "gb18030"):
            handle.seek(0)
            decoder = codecs.getincrementaldecoder(encoding)()
            try:
                while chunk := handle.read(1 << 20):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
                return encoding
            except UnicodeDecodeError:
                continue
    from charset_normalizer import from_path

    best = from_path(path).best()
    if best is None:
        raise WorkbookError("无法识别CSV文件的编码，请另存为UTF-8或GBK编码")
    return best.encoding


@dataclass
class Column:
    index: int  # 0-based, relative to the first column read
    header: str
    field: Field | None


@dataclass
class Table:
    """The data sheet of an opened file: its columns and a one-pass iterator over its non-blank rows."""

    format: Format
    sheet_name: str
    header_row: int  # 1-based sheet row number
    columns: list[Column]
    first_column: int = 0  # 0-based sheet column of the first cell read (calamine trims empty columns)
    unknown_headers: list[str] = field(default_factory=list)
    preamble: list[list[object]] = field(default_factory=list)  # rows above the header (titles, notes)
    _rows: Iterator[tuple[int, list[object]]] | None = None
    # Rows below the header as the sheet's dimensions give them (blank rows included; None for CSV): lets
    # the import show progress without reading the file twice.
    estimated_rows: int | None = None
    last_row: int | None = None  # the sheet row number of the last row with a cell (None for CSV)

    @property
    def keys(self) -> list[str | None]:
        return [c.field.key if c.field else None for c in self.columns]

    @property
    def fields(self) -> list[Field]:
        return [c.field for c in self.columns if c.field]

    def rows(self) -> Iterator[tuple[int, list[object]]]:
        """(sheet row number, cells) for every non-blank row after the header; one pass only."""
        if self._rows is None:
            raise RuntimeError("rows already read")
        rows, self._rows = self._rows, None
        return rows

    def records(self) -> Iterator[tuple[int, dict[str, object]]]:
        """(sheet row number, {field key: cell}) for every non-blank row: what ``validate_row`` takes."""
        pairs = [(c.index, c.field.key) for c in self.columns if c.field]
        for number, cells in self.rows():
            width = len(cells)
            yield number, {key: cells[index] for index, key in pairs if index < width}


def _is_blank(cells: list[object]) -> bool:
    for cell in cells:
        if cell is None or cell == "":
            continue
        if isinstance(cell, str) and not cell.strip():
            continue
        return False
    return True


def _find_header(rows: Iterator[list[object]], limits: Limits) -> tuple[int, list[object], list[list[object]]] | None:
    """(0-based index of the header row, its cells, rows read before it) or None.

    The header is the first of the first few rows where at least three cells name catalog fields: files from
    other systems often put a title or a note above the header."""
    seen: list[list[object]] = []
    for index, cells in enumerate(rows):
        matches = sum(1 for cell in cells if isinstance(cell, str) and field_for_header(cell))
        if matches >= 3:
            return index, cells, seen
        seen.append(cells)
        if index + 1 >= limits.header_search_rows:
            return None
    return None


def _build_columns(header: list[object]) -> tuple[list[Column], list[str]]:
    columns: list[Column] = []
    unknown: list[str] = []
    seen: dict[str, str] = {}
    for index, cell in enumerate(header):
        text = str(cell).strip() if cell is not None else ""
        if not text:
            continue
        f = field_for_header(text)
        if f is None:
            if normalise_header(text) not in IGNORED_HEADERS:
                unknown.append(text)
            columns.append(Column(index, text, None))
            continue
        if f.key in seen:
            raise WorkbookError(f"表头中“{f.label}”出现了两次（“{seen[f.key]}”和“{text}”），请删除多余的一列")
        seen[f.key] = text
        columns.append(Column(index, text, f))
    missing = [f for f in required_columns() if f.key not in seen]
    if missing:
        names = "、".join(f.label for f in missing)
        raise WorkbookError(f"缺少必填列：{names}。请使用系统下载的导入模板，或把表头改成模板中的列名")
    return columns, unknown


def cell_name(row: int, column: int) -> str:
    """A1-style name of a 0-based cell."""
    return f"{_column_letters(column + 1)}{row + 1}"


def check_header_merges(merged: object, header_row: int) -> None:
    """Merged cells over the header row (a name spread over two columns, or a two-row header whose names sit on
    different rows) leave columns without a name or data under the wrong one: refused, naming the range.
    ``merged`` is calamine's ``merged_cell_ranges`` (0-based ((row, col), (row, col)) pairs, absolute)."""
    for (top, left), (bottom, right) in cast(list[tuple[tuple[int, int], tuple[int, int]]], merged or []):
        if top <= header_row <= bottom and (top, left) != (bottom, right):
            raise WorkbookError(
                f"表头有合并单元格（{cell_name(top, left)}:{cell_name(bottom, right)}），"
                "请取消合并，让每一列在表头行都有自己的列名后再上传"
            )


def _numbered(rows: Iterator[list[object]], start_number: int, limits: Limits) -> Iterator[tuple[int, list[object]]]:
    count = 0
    for number, cells in enumerate(rows, start=start_number):
        if _is_blank(cells):
            continue
        count += 1
        if count > limits.max_rows:
            raise WorkbookError(f"数据超过{limits.max_rows}行，请分成几个文件")
        yield number, cells


def _open_calamine(path: str | Path, fmt: Format, limits: Limits) -> Table:
    import python_calamine

    try:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    except python_calamine.PasswordError:
        raise WorkbookError("文件设有打开密码，请取消密码后再上传") from None
    except Exception:  # calamine raises several unrelated types for damaged files
        raise WorkbookError("文件已损坏或格式不受支持，请用Excel或WPS另存为xlsx后再试") from None
    visible = [
        m.name
        for m in workbook.sheets_metadata
        if str(m.visible).endswith("Visible") and str(m.typ).endswith("WorkSheet")
    ]
    candidates = [name for name in visible if name not in NON_DATA_SHEETS] or workbook.sheet_names
    for name in candidates:
        try:
            sheet = workbook.get_sheet_by_name(name)
        except Exception:
            raise WorkbookError(f"工作表“{name}”无法读取，文件可能已损坏") from None
        rows = cast(Iterator[list[object]], iter(sheet.iter_rows()))
        found = _find_header(rows, limits)
        if found is None:
            continue
        index, header, preamble = found
        check_header_merges(sheet.merged_cell_ranges, index)
        columns, unknown = _build_columns(header)
        first_column = sheet.start[1] if sheet.start else 0
        # calamine's iter_rows counts rows from the top of the sheet, so row numbers are absolute.
        return Table(
            format=fmt,
            sheet_name=name,
            header_row=index + 1,
            columns=columns,
            first_column=first_column,
            unknown_headers=unknown,
            preamble=preamble,
            _rows=_numbered(rows, index + 2, limits),
            estimated_rows=max(0, sheet.height - index - 1),
            last_row=sheet.end[0] + 1 if sheet.end else None,
        )
    raise WorkbookError(
        f"在文件的前{limits.header_search_rows}行中没有找到表头（如“姓名”“身份证件号”），请使用系统下载的导入模板"
    )


def open_text(path: str | Path) -> IO[str]:
    """A CSV file opened for reading in its encoding, after its byte order mark if it has one (GB18030 has its
    own, which Python decodes as U+FEFF and would otherwise glue to the first column's name)."""
    handle = open(path, encoding=detect_encoding(path), newline="")
    try:
        if handle.read(1) != "\ufeff":
            handle.seek(0)
    except UnicodeDecodeError:
        handle.seek(0)
    return handle


def _csv_rows(handle: IO[str]) -> Iterator[list[object]]:
    start = handle.tell()
    first = handle.readline()
    handle.seek(start)
    delimiter = max(",\t;", key=first.count)
    yield from csv.reader(handle, delimiter=delimiter)


def _open_csv(path: str | Path, limits: Limits) -> Table:
    handle = open_text(path)
    try:
        rows = _csv_rows(handle)
        found = _find_header(rows, limits)
        if found is None:
            raise WorkbookError(f"在CSV文件的前{limits.header_search_rows}行中没有找到表头（如“姓名”“身份证件号”）")
        index, header, preamble = found
        columns, unknown = _build_columns(header)
    except BaseException:
        handle.close()
        raise

    def numbered() -> Iterator[tuple[int, list[object]]]:
        try:
            yield from _numbered(rows, index + 2, limits)
        except (UnicodeDecodeError, csv.Error):
            raise WorkbookError("CSV文件内容有误（编码或引号不正确），请用Excel另存为xlsx后再试") from None
        finally:
            handle.close()

    return Table("csv", "", index + 1, columns, 0, unknown, preamble, numbered())


def open_table(path: str | Path, limits: Limits = DEFAULT_LIMITS) -> Table:
    """Open an uploaded file for checking. Raises WorkbookError for anything wrong with the file as a whole."""
    check_size(path, limits)
    fmt = sniff_format(path)
    if fmt in ("xlsx", "ods"):
        check_archive(path, limits)
    if fmt == "csv":
        return _open_csv(path, limits)
    return _open_calamine(path, fmt, limits)


def save_upload(stream: BinaryIO, target: str | Path, limits: Limits = DEFAULT_LIMITS) -> Path:
    """Copy an upload to ``target`` in chunks, stopping as soon as it passes the size limit."""
    written = 0
    target = Path(target)
    with target.open("wb") as out:
        while chunk := stream.read(1 << 20):
            written += len(chunk)
            if written > limits.max_file_bytes:
                out.close()
                target.unlink(missing_ok=True)
                raise WorkbookError(f"文件太大，上限为{limits.max_file_bytes // 1024 // 1024} MB，请分成几个文件")
            out.write(chunk)
    return target


def new_workbook(out: str | Path | IO[bytes], *, constant_memory: bool = False) -> Any:
    """An xlsxwriter workbook for anything the system writes (exports, failure and check workbooks, account
    sheets, statistics, filing packages): user text stays text — never turned into a formula, a number or a
    link — and a stream is written in memory. ``constant_memory`` for large sheets written row by row."""
    import xlsxwriter

    return xlsxwriter.Workbook(
        out,
        {
            "constant_memory": constant_memory,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
            "in_memory": not isinstance(out, str | Path),
        },
    )


def write_text_sheet(
    out: str | Path | IO[bytes],
    *,
    sheet_name: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    widths: Sequence[float],
) -> int:
    """One sheet of text: a bold, frozen header row and ``rows`` streamed below it; returns the number of rows.

    For the large exports (学籍管理 导出): rust_xlsxwriter through rustpy-xlsxwriter writes about 50,000 rows of
    47 columns a second here, xlsxwriter about 5,000 (its per-cell Python path, which no option of it avoids).
    The guarantee of ``new_workbook`` holds: every cell is a Python ``str`` and is written as an inline string,
    never as a formula, a number or a link (tests/records/test_text_sheet.py); blank cells are left empty. Memory
    stays flat: the rows are consumed one by one (constant-memory mode). The library takes rows as dicts keyed by
    the header, so the headers must be distinct; an export of no rows still gets its header row."""
    import rustpy_xlsxwriter

    keys = list(headers)
    if len(set(keys)) != len(keys):
        raise ValueError("write_text_sheet: headers must be distinct")
    count = 0

    def records() -> Iterator[dict[str, str]]:
        nonlocal count
        for row in rows:
            count += 1
            yield dict(zip(keys, row, strict=True))
        if not count:
            yield dict.fromkeys(keys, "")  # blank cells are not written: the header row alone

    header_format = rustpy_xlsxwriter.Format().set_bold().set_background_color("#DDEBF7").set_border("thin")
    rustpy_xlsxwriter.write_worksheet(
        records(),
        out if isinstance(out, str | Path) else cast(BinaryIO, out),
        sheet_name=sheet_name,
        freeze_row=1,
        header_format=header_format,
        column_widths=list(widths),
    )
    return count
