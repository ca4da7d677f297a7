"""The hostile-upload corpus: files a registrar (or an attacker) may upload, each with what the system must say.

    python -m tests.corpus.make_corpus            # (re)writes the small files into tests/corpus/files/
    python -m tests.corpus.make_corpus --big DIR  # writes the big ones (zip bombs) into DIR

The small files are committed and written deterministically (fixed zip timestamps and document properties),
so running this again gives the same bytes; the big ones are written by the tests into a temporary folder.
The one exception is ``encrypted.xlsx``: encryption salts at random, so it is written only when missing, and
only if msoffcrypto-tool is installed (it is not a dependency of the project; the committed file is what the
tests use). It is the same workbook as ``header_row3.xlsx``'s data, encrypted with the password ``xueji``.

Every case has the exact outcome expected on the admission template's paths (开始检查, 导入名单 on the web
and ``xueji import``, 档案管理's legacy import) and on the 录取名册 load, whose columns differ: content cases
have a roster twin (``roster_…``) with the roster's columns. The data rows fit the ``world`` fixture's school A.
"""

from __future__ import annotations

import argparse
import codecs
import csv
import datetime
import io
import struct
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import xlsxwriter

from tests.admissions.helpers import KEYS, school_a_row
from tests.records.helpers import headers_for

FILES = Path(__file__).resolve().parent / "files"
FIXED_TIME = (2026, 1, 1, 0, 0, 0)
CREATED = datetime.datetime(2026, 1, 1)
SCHOOL_A = "3111010001"
ROSTER_HEADER = ["考生号", "准考证号", "姓名", "身份证件号", "录取学校代码", "录取专业", "招生方式/批次"]
LONG_NAME = "张" * 32767  # the most characters an Excel cell holds

# Outcomes ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refused:
    """The file as a whole is refused with this message; nothing is written."""

    message: str


@dataclass(frozen=True)
class Loaded:
    """The file is read: ``rows`` data rows, of which the ones in ``errors`` ({sheet row: reason}) fail; the
    others are loaded under ``names`` (in file order)."""

    rows: int
    names: tuple[str, ...]
    errors: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    name: str  # the file under tests/corpus/files/ (or the big folder)
    what: str
    admission: Refused | Loaded
    roster: Refused | Loaded
    roster_file: str | None = None  # the roster's twin, for cases that depend on the columns
    big: bool = False


# Builders -----------------------------------------------------------------------------------------------------


def _rows(serials: Sequence[int]) -> list[dict[str, object]]:
    return [school_a_row(n) for n in serials]


def admission_table(rows: Sequence[dict[str, object]]) -> list[list[object]]:
    return [headers_for(KEYS), *[[row.get(k, "") for k in KEYS] for row in rows]]


def roster_row(serial: int, **overrides: object) -> list[object]:
    row = school_a_row(serial)
    values = {
        "考生号": f"2611010100{serial:04d}",
        "准考证号": f"202611010{serial:04d}",
        "姓名": row["name"],
        "身份证件号": row["id_number"],
        "录取学校代码": SCHOOL_A,
        "录取专业": "计算机应用",
        "招生方式/批次": "统一招生/第一批",
    }
    values.update(overrides)
    return [values[h] for h in ROSTER_HEADER]


def roster_table(rows: Sequence[list[object]]) -> list[list[object]]:
    return [list(ROSTER_HEADER), *rows]


def _workbook(path: Path) -> xlsxwriter.Workbook:
    workbook = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False})
    workbook.set_properties({"created": CREATED, "author": "xueji corpus"})
    return workbook


def _write_rows(sheet: object, rows: Sequence[Sequence[object]], start: int = 0) -> None:
    for r, cells in enumerate(rows, start=start):
        for c, value in enumerate(cells):
            if value is None or value == "":
                continue
            sheet.write_string(r, c, str(value))  # type: ignore[attr-defined]


def xlsx(
    path: Path,
    table: Sequence[Sequence[object]],
    *,
    sheet_name: str = "学生",
    before: Sequence[Sequence[object]] = (),
    cover: Sequence[str] = (),
    extra: Callable[[object], None] | None = None,
) -> Path:
    """A workbook with ``table`` on ``sheet_name`` below the ``before`` rows, after an optional cover sheet."""
    workbook = _workbook(path)
    if cover:
        notes = workbook.add_worksheet("填表说明")
        for r, line in enumerate(cover):
            notes.write_string(r, 0, line)
    sheet = workbook.add_worksheet(sheet_name)
    _write_rows(sheet, before)
    _write_rows(sheet, table, start=len(before))
    if extra is not None:
        extra(sheet)
    workbook.close()
    return path


def _info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def rezip(source: Path, target: Path, change: Callable[[str, bytes], bytes | None], add: dict[str, bytes]) -> Path:
    """Copy a zip entry by entry, letting ``change`` rewrite (or drop, with None) each one, then add entries."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for entry in old.infolist():
            data = change(entry.filename, old.read(entry))
            if data is not None:
                new.writestr(_info(entry.filename), data)
        for name, data in add.items():
            new.writestr(_info(name), data)
    return target


_MINIMAL = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="学生" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
    ),
}


def minimal_xlsx(path: Path, sheet_xml: str | bytes, entries: dict[str, bytes] | None = None) -> Path:
    """A hand-written xlsx (one sheet, inline strings) for XML no spreadsheet program would write."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in _MINIMAL.items():
            archive.writestr(_info(name), text)
        archive.writestr(_info("xl/worksheets/sheet1.xml"), sheet_xml)
        for name, data in (entries or {}).items():
            archive.writestr(_info(name), data)
    return path


def raw_zip(path: Path, entries: Sequence[tuple[str, bytes, int, int]]) -> Path:
    """A zip written byte by byte: (name, deflated data, CRC-32, declared unpacked size) per entry, so that the
    declared size can lie."""
    local = bytearray()
    central = bytearray()
    for name, data, crc, size in entries:
        encoded = name.encode()
        offset = len(local)
        local += struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, len(data), size, len(encoded), 0)
        local += encoded + data
        central += struct.pack(
            "<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 8, 0, 0x21, crc, len(data), size, len(encoded),
            0, 0, 0, 0, 0, offset,
        )  # fmt: skip
        central += encoded
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(central), len(local), 0)
    path.write_bytes(bytes(local + central + end))
    return path


def _deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


# The files ----------------------------------------------------------------------------------------------------

GOOD = (901, 902)
GOOD_NAMES = tuple(str(school_a_row(n)["name"]) for n in GOOD)


def build_not_a_workbook(path: Path) -> Path:
    path.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n" * 20)
    return path


def build_program_elf(path: Path) -> Path:
    header = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + struct.pack("<HHI", 2, 0x3E, 1) + bytes(40)
    path.write_bytes(header + bytes(range(256)) * 16)
    return path


def build_program_exe(path: Path) -> Path:
    dos = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(44) + struct.pack("<I", 64)
    path.write_bytes(dos + b"PE\x00\x00" + struct.pack("<HH", 0x8664, 3) + bytes(range(256)) * 16)
    return path


VBA_CONTENT_TYPE = b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
# A VBA project is an OLE file: its signature, then a module that would run on opening.
VBA = (
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    + bytes(504)
    + b'Attribute VB_Name = "ThisWorkbook"\r\nSub Workbook_Open()\r\nShell "calc.exe"\r\nEnd Sub\r\n'
)


def build_macros(path: Path) -> Path:
    plain = xlsx(path.with_suffix(".plain.xlsx"), admission_table(_rows(GOOD)))

    def macro_enabled(name: str, data: bytes) -> bytes:
        if name == "[Content_Types].xml":
            return data.replace(
                b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
            ).replace(b"</Types>", VBA_CONTENT_TYPE + b"</Types>")
        return data

    rezip(plain, path, macro_enabled, {"xl/vbaProject.bin": VBA})
    plain.unlink()
    return path


def build_billion_laughs(path: Path) -> Path:
    entities = ['<!ENTITY lol "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">' for i in range(1, 10)
    ]
    sheet = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f"<!DOCTYPE lolz [{''.join(entities)}]>"
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        '<row r="1"><c r="A1" t="inlineStr"><is><t>姓名</t></is></c><c r="B1" t="inlineStr"><is><t>身份证件号</t></is>'
        '</c><c r="C1" t="inlineStr"><is><t>民族</t></is></c></row>'
        '<row r="2"><c r="A2" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>'
    )
    return minimal_xlsx(path, sheet)


def build_rows_1048576(path: Path) -> Path:
    return xlsx(path, admission_table(_rows(GOOD)), extra=lambda sheet: sheet.write_string(1048575, 0, "."))  # type: ignore[attr-defined]


def build_columns_16384(path: Path) -> Path:
    return xlsx(path, admission_table(_rows(GOOD)), extra=lambda sheet: sheet.write_string(0, 16383, "备注"))  # type: ignore[attr-defined]


_ODS_CONTENT = (
    '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body>'
    '<office:spreadsheet><table:table table:name="学生">{rows}</table:table></office:spreadsheet></office:body>'
    "</office:document-content>"
)
_ODS_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
    'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry '
    'manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>'
)


def _ods_row(cells: Sequence[object], repeat_before_last: int = 0) -> str:
    texts = [f'<table:table-cell office:value-type="string"><text:p>{c}</text:p></table:table-cell>' for c in cells]
    if repeat_before_last:
        texts.insert(-1, f'<table:table-cell table:number-columns-repeated="{repeat_before_last}"/>')
    return "<table:table-row>" + "".join(texts) + "</table:table-row>"


def ods(path: Path, rows: str) -> Path:
    """A hand-written ods: LibreOffice writes the same repeats, but only for empty padding at the end."""
    with zipfile.ZipFile(path, "w") as archive:
        stored = zipfile.ZipInfo("mimetype", date_time=FIXED_TIME)  # first and uncompressed, as the format asks
        archive.writestr(stored, "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr(_info("content.xml"), _ODS_CONTENT.format(rows=rows))
        archive.writestr(_info("META-INF/manifest.xml"), _ODS_MANIFEST)
    return path


def build_ods_rows_1048576(path: Path) -> Path:
    """Three rows, a million empty ones in one repeated row, and a value in the sheet's last row."""
    header, *data = ADMISSION
    rows = "".join(_ods_row(r) for r in [header, *data])
    rows += '<table:table-row table:number-rows-repeated="1048572"><table:table-cell/></table:table-row>'
    return ods(path, rows + _ods_row(["."]))


def build_ods_columns_16384(path: Path) -> Path:
    """A header whose last cell is pushed to the sheet's last column by one repeated empty cell."""
    header, *data = ADMISSION
    width = len(header) + 1
    rows = _ods_row([*header, "备注"], repeat_before_last=16384 - width)
    return ods(path, rows + "".join(_ods_row(r) for r in data))


def build_cell_32767(path: Path) -> Path:
    rows = _rows(GOOD)
    rows[1]["name"] = LONG_NAME
    return xlsx(path, admission_table(rows))


def build_roster_cell_32767(path: Path) -> Path:
    return xlsx(path, roster_table([roster_row(GOOD[0]), roster_row(GOOD[1], 姓名=LONG_NAME)]), sheet_name="录取名册")


def _merged_header(table: list[list[object]], sheet_name: str) -> Callable[[Path], Path]:
    def build(path: Path) -> Path:
        header, *data = table
        workbook = _workbook(path)
        sheet = workbook.add_worksheet(sheet_name)
        # A two-row header as forms are often drawn: the first column's name merged over both rows.
        sheet.merge_range(0, 0, 1, 0, str(header[0]))
        sheet.merge_range(0, 1, 0, 3, "基本信息")
        _write_rows(sheet, [["", *header[1:]]], start=1)
        _write_rows(sheet, data, start=2)
        workbook.close()
        return path

    return build


def _formulas(table: list[list[object]], sheet_name: str, name_column: int) -> Callable[[Path], Path]:
    def build(path: Path) -> Path:
        header, *data = table
        workbook = _workbook(path)
        sheet = workbook.add_worksheet(sheet_name)
        _write_rows(sheet, [header, *data])
        for r, row in enumerate(data, start=1):
            name = str(row[name_column])
            # What the registrar sees is the value Excel saved with the formula: that is what is read.
            sheet.write_formula(r, name_column, f'="{name[0]}"&"{name[1:]}"', None, name)
        workbook.close()
        return path

    return build


def build_empty(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def _gb18030_csv(table: list[list[object]]) -> Callable[[Path], Path]:
    def build(path: Path) -> Path:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n").writerows(table)
        path.write_bytes(codecs.BOM_GB18030 if hasattr(codecs, "BOM_GB18030") else b"\x84\x31\x95\x33")
        with path.open("ab") as out:
            out.write(buffer.getvalue().encode("gb18030"))
        return path

    return build


def _other_sheet(table: list[list[object]]) -> Callable[[Path], Path]:
    return lambda path: xlsx(path, table, sheet_name="Sheet1 (2)", cover=["填写说明：", "1. 身份证件号请设为文本格式"])


def _header_row3(table: list[list[object]]) -> Callable[[Path], Path]:
    before = [["东城职业教育中心2026级新生名单"], ["填表人：招生办  日期：2026年8月20日"]]
    return lambda path: xlsx(path, table, before=before)


def build_zip_bomb_size(path: Path) -> Path:
    """700 entries of 1 MB of zeros each (under the per-entry ratio rule's threshold): 700 MB unpacked."""
    block = bytes(1 << 20)
    data, crc = _deflate(block), zlib.crc32(block)
    entries = [(f"xl/media/part{i}.xml", data, crc, len(block)) for i in range(700)]
    return raw_zip(path, entries)


def build_zip_bomb_ratio(path: Path) -> Path:
    """One sheet of 100 MB of zeros, about 100 KB packed: a ratio of about 1000."""
    block = bytes(100 << 20)
    return raw_zip(path, [("xl/worksheets/sheet1.xml", _deflate(block), zlib.crc32(block), len(block))])


def build_zip_bomb_forged(path: Path) -> Path:
    """Declares 1,000 bytes (with their CRC) and inflates to 100 MB."""
    block = bytes(100 << 20)
    return raw_zip(path, [("xl/worksheets/sheet1.xml", _deflate(block), zlib.crc32(block[:1000]), 1000)])


ADMISSION = admission_table(_rows(GOOD))
ROSTER = roster_table([roster_row(n) for n in GOOD])
NAME_COLUMN = KEYS.index("name")

BUILDERS: dict[str, Callable[[Path], Path]] = {
    "not_a_workbook.xlsx": build_not_a_workbook,
    "program_elf.xlsx": build_program_elf,
    "program_exe.xlsx": build_program_exe,
    "macros.xlsm": build_macros,
    "billion_laughs.xlsx": build_billion_laughs,
    "rows_1048576.xlsx": build_rows_1048576,
    "columns_16384.xlsx": build_columns_16384,
    "ods_rows_1048576.ods": build_ods_rows_1048576,
    "ods_columns_16384.ods": build_ods_columns_16384,
    "cell_32767.xlsx": build_cell_32767,
    "roster_cell_32767.xlsx": build_roster_cell_32767,
    "merged_header.xlsx": _merged_header(ADMISSION, "学生"),
    "roster_merged_header.xlsx": _merged_header(ROSTER, "录取名册"),
    "formulas.xlsx": _formulas(ADMISSION, "学生", NAME_COLUMN),
    "roster_formulas.xlsx": _formulas(ROSTER, "录取名册", ROSTER_HEADER.index("姓名")),
    "empty.xlsx": build_empty,
    "gb18030_bom.csv": _gb18030_csv(ADMISSION),
    "roster_gb18030_bom.csv": _gb18030_csv(ROSTER),
    "other_sheet_name.xlsx": _other_sheet(ADMISSION),
    "roster_other_sheet_name.xlsx": _other_sheet(ROSTER),
    "header_row3.xlsx": _header_row3(ADMISSION),
    "roster_header_row3.xlsx": _header_row3(ROSTER),
}
BIG_BUILDERS: dict[str, Callable[[Path], Path]] = {
    "zip_bomb_size.xlsx": build_zip_bomb_size,
    "zip_bomb_ratio.xlsx": build_zip_bomb_ratio,
    "zip_bomb_forged.xlsx": build_zip_bomb_forged,
}

NOT_A_TABLE = "文件不是表格文件：请上传xlsx、xls、ods或csv格式的文件"
PROGRAM = "文件是可执行程序，不是表格文件，已拒绝。请上传xlsx、xls、ods或csv格式的文件"
MACROS = "文件含有宏（VBA代码），为安全起见不能上传。请在Excel或WPS中另存为“Excel工作簿（*.xlsx）”后再上传"
MERGED = "表头有合并单元格（A1:A2），请取消合并，让每一列在表头行都有自己的列名后再上传"
ALL_LOADED = Loaded(2, GOOD_NAMES)


def _same(message: str) -> tuple[Refused, Refused]:
    return Refused(message), Refused(message)


CASES: list[Case] = [
    Case("not_a_workbook.xlsx", "a PDF named .xlsx", *_same(NOT_A_TABLE)),
    Case("program_elf.xlsx", "a Linux program named .xlsx", *_same(PROGRAM)),
    Case("program_exe.xlsx", "a Windows program named .xlsx", *_same(PROGRAM)),
    Case("macros.xlsm", "a macro-enabled workbook (vbaProject.bin)", *_same(MACROS)),
    Case("zip_bomb_size.xlsx", "700 MB unpacked", *_same("文件解压后过大，可能是恶意文件，已拒绝"), big=True),
    Case("zip_bomb_ratio.xlsx", "a ratio of 1000", *_same("文件压缩比异常，可能是恶意文件，已拒绝"), big=True),
    Case(
        "zip_bomb_forged.xlsx",
        "declares 1 KB, inflates to 100 MB",
        *_same("文件结构异常：压缩包内文件的实际大小与声明不符，可能是恶意文件，已拒绝"),
        big=True,
    ),
    Case(
        "billion_laughs.xlsx",
        "nested XML entities",
        *_same("文件结构异常：含有XML实体声明（DTD），可能是恶意文件，已拒绝"),
    ),
    Case(
        "rows_1048576.xlsx",
        "a cell in the sheet's last row",
        *_same("表格有1048576行，超过上限300000行。请删除表格末尾多余的行（含空白但设置了格式的行），或分成几个文件"),
    ),
    Case(
        "columns_16384.xlsx",
        "a cell in the sheet's last column",
        *_same("表格有16384列（到XFD列），超过上限256列。请删除多余的列（含空白但设置了格式的列）后再上传"),
    ),
    Case(
        "ods_rows_1048576.ods",
        "an ods with a million repeated empty rows before a value",
        *_same("表格有1048576行，超过上限300000行。请删除表格末尾多余的行（含空白但设置了格式的行），或分成几个文件"),
    ),
    Case(
        "ods_columns_16384.ods",
        "an ods whose header's last cell is in the last column",
        *_same("表格有16384列（到XFD列），超过上限256列。请删除多余的列（含空白但设置了格式的列）后再上传"),
    ),
    Case(
        "cell_32767.xlsx",
        "a name of 32,767 characters",
        Loaded(2, GOOD_NAMES[:1], {3: "姓名不能超过50个字（现为32767个）"}),
        Loaded(2, GOOD_NAMES[:1], {3: "第3行：姓名超过50个字符"}),
        roster_file="roster_cell_32767.xlsx",
    ),
    Case(
        "merged_header.xlsx",
        "a two-row header with merged cells",
        Refused(MERGED),
        Refused(MERGED),
        roster_file="roster_merged_header.xlsx",
    ),
    Case(
        "formulas.xlsx",
        "names computed by formulas",
        ALL_LOADED,
        ALL_LOADED,
        roster_file="roster_formulas.xlsx",
    ),
    Case("empty.xlsx", "no bytes at all", *_same("文件是空的")),
    Case("encrypted.xlsx", "an open password (OLE-encrypted xlsx)", *_same("文件设有打开密码，请取消密码后再上传")),
    Case(
        "gb18030_bom.csv",
        "GB18030 with its byte order mark",
        ALL_LOADED,
        ALL_LOADED,
        roster_file="roster_gb18030_bom.csv",
    ),
    Case(
        "other_sheet_name.xlsx",
        "data on a second sheet, after a cover sheet",
        ALL_LOADED,
        ALL_LOADED,
        roster_file="roster_other_sheet_name.xlsx",
    ),
    Case(
        "header_row3.xlsx",
        "a title and a note above the header",
        ALL_LOADED,
        ALL_LOADED,
        roster_file="roster_header_row3.xlsx",
    ),
]


def write_small(folder: Path = FILES) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, build in BUILDERS.items():
        build(folder / name)
    encrypted = folder / "encrypted.xlsx"
    if not encrypted.exists():
        _encrypt(_header_row3(ADMISSION)(folder / "encrypted.plain.xlsx"), encrypted)


def _encrypt(source: Path, target: Path) -> None:
    try:
        from msoffcrypto.format.ooxml import OOXMLFile  # type: ignore[import-not-found]
    except ImportError:
        source.unlink()
        raise SystemExit("encrypted.xlsx is missing and msoffcrypto-tool is not installed") from None
    out = io.BytesIO()
    with source.open("rb") as stream:
        OOXMLFile(stream).encrypt("xueji", out)
    target.write_bytes(out.getvalue())
    source.unlink()


def write_big(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return {name: build(folder / name) for name, build in BIG_BUILDERS.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--big", type=Path, help="write the big files into this folder instead")
    args = parser.parse_args()
    if args.big:
        for path in write_big(args.big).values():
            print(path)
    else:
        write_small()
        for path in sorted(FILES.iterdir()):
            print(f"{path.stat().st_size:>8}  {path.name}")


if __name__ == "__main__":
    main()
