from __future__ import annotations

import csv
import datetime
import zipfile
import zlib
from pathlib import Path

import pytest

from tests.records.helpers import headers_for, rows_as_lists, soffice_convert, valid_row, write_xlsx
from xueji.records.catalog import FIELDS, required_columns
from xueji.records.workbook import (
    Limits,
    WorkbookError,
    check_archive,
    detect_encoding,
    open_table,
    save_upload,
    sniff_format,
)

KEYS = [k for k in valid_row()]


def read_all(path: Path, limits: Limits | None = None) -> list[tuple[int, dict[str, object]]]:
    return list(open_table(path, limits or Limits()).records())


@pytest.fixture(scope="module")
def plain_xlsx(tmp_path_factory) -> Path:
    """Written by xlsxwriter directly: labels without ★, columns reversed, a blank row in the middle."""
    keys = list(reversed(KEYS))
    rows = rows_as_lists(keys, [valid_row(1), valid_row(2)])
    rows.insert(1, [""] * len(keys))
    return write_xlsx(tmp_path_factory.mktemp("plain") / "students.xlsx", headers_for(keys, stars=False), rows)


@pytest.fixture(scope="module")
def converted(plain_xlsx, tmp_path_factory) -> dict[str, Path]:
    """The same workbook saved by LibreOffice as xls and ods."""
    outdir = tmp_path_factory.mktemp("lo")
    (xls,) = soffice_convert([plain_xlsx], "xls", outdir)
    (ods,) = soffice_convert([plain_xlsx], "ods", outdir)
    return {"xls": xls, "ods": ods}


def test_columns_are_mapped_by_header_in_any_order_and_blank_rows_skipped(plain_xlsx):
    rows = read_all(plain_xlsx)
    assert [number for number, _ in rows] == [2, 4]
    assert rows[0][1]["id_number"] == valid_row(1)["id_number"]
    assert rows[1][1]["name"] == "张三"


@pytest.mark.parametrize("fmt", ["xls", "ods"])
def test_files_saved_by_libreoffice_read_the_same(converted, fmt):
    path = converted[fmt]
    assert sniff_format(path) == fmt
    rows = read_all(path)
    assert [number for number, _ in rows] == [2, 4]
    assert rows[0][1]["id_number"] == valid_row(1)["id_number"]
    assert rows[0][1]["ethnicity"] == "汉族"


def test_header_below_a_title_row_and_data_not_in_column_a_are_found(tmp_path):
    workbook_path = tmp_path / "titled.xlsx"
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(workbook_path))
    sheet = workbook.add_worksheet()
    sheet.write(0, 1, "2024级新生名单")
    sheet.write_row(2, 1, headers_for(KEYS))
    sheet.write_row(3, 1, rows_as_lists(KEYS, [valid_row()])[0])
    sheet.write_row(5, 1, rows_as_lists(KEYS, [valid_row(2)])[0])
    workbook.close()
    table = open_table(workbook_path)
    assert table.header_row == 3
    rows = list(table.records())
    assert [number for number, _ in rows] == [4, 6]
    assert rows[0][1]["name"] == "张三"


def test_headers_with_stars_spaces_and_aliases_are_recognised(tmp_path):
    header = [f" ★ {h.lstrip('★')} " for h in headers_for(KEYS)]
    header[KEYS.index("id_number")] = "身份证号码"
    path = write_xlsx(tmp_path / "aliases.xlsx", header, rows_as_lists(KEYS, [valid_row()]))
    ((_, record),) = read_all(path)
    assert record["id_number"] == valid_row()["id_number"]


def test_missing_required_column_is_one_file_level_error(tmp_path):
    keys = [k for k in KEYS if k not in ("ethnicity", "phone")]
    path = write_xlsx(tmp_path / "missing.xlsx", headers_for(keys), rows_as_lists(keys, [valid_row()]))
    with pytest.raises(WorkbookError) as error:
        open_table(path)
    assert error.value.message.startswith("缺少必填列：民族、联系电话。")


def test_derivable_columns_may_be_left_out():
    keys = {f.key for f in required_columns()}
    assert "gender" not in keys and "birth_date" not in keys


def test_duplicate_column_is_a_file_level_error(tmp_path):
    header = [*headers_for(KEYS), "姓名"]
    path = write_xlsx(tmp_path / "dup.xlsx", header, rows_as_lists(KEYS, [valid_row()]))
    with pytest.raises(WorkbookError, match="“姓名”出现了两次"):
        open_table(path)


def test_unknown_columns_are_reported_and_our_own_columns_ignored(tmp_path):
    header = [*headers_for(KEYS), "备注", "失败原因"]
    path = write_xlsx(tmp_path / "extra.xlsx", header, rows_as_lists(KEYS, [valid_row()]))
    assert open_table(path).unknown_headers == ["备注"]


def test_sheet_without_a_recognisable_header_is_a_file_level_error(tmp_path):
    path = write_xlsx(tmp_path / "nohead.xlsx", ["a", "b", "c"], [[1, 2, 3]])
    with pytest.raises(WorkbookError, match="没有找到表头"):
        open_table(path)


def test_dates_and_numbers_come_through_as_cells(tmp_path):
    keys = [*KEYS, "birth_date"]
    row = valid_row(exam_score=520, birth_date=datetime.date(2008, 3, 2))
    path = write_xlsx(tmp_path / "types.xlsx", headers_for(keys), rows_as_lists(keys, [row]))
    ((_, record),) = read_all(path)
    assert record["exam_score"] == 520.0
    assert record["birth_date"] == datetime.date(2008, 3, 2)


# --- CSV --------------------------------------------------------------------------------------------------


def write_csv(path: Path, encoding: str, delimiter: str = ",") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(headers_for(KEYS))
        writer.writerow(rows_as_lists(KEYS, [valid_row(name="阿依古丽·买买提")])[0])
        writer.writerow([""] * len(KEYS))
        writer.writerow(rows_as_lists(KEYS, [valid_row(2, name="欧阳娜娜")])[0])
    return path


@pytest.mark.parametrize(
    ("encoding", "detected"),
    [("gbk", "gb18030"), ("gb18030", "gb18030"), ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig")],
)
def test_csv_encoding_is_detected(tmp_path, encoding, detected):
    path = write_csv(tmp_path / f"{encoding}.csv", encoding)
    assert detect_encoding(path) == detected
    rows = read_all(path)
    assert [number for number, _ in rows] == [2, 4]
    assert rows[0][1]["name"] == "阿依古丽·买买提"
    assert rows[1][1]["name"] == "欧阳娜娜"


def test_tab_separated_csv_is_read(tmp_path):
    rows = read_all(write_csv(tmp_path / "tabs.csv", "gbk", "\t"))
    assert rows[1][1]["ethnicity"] == "汉族"


# --- limits and zip checks ----------------------------------------------------------------------------------


def test_file_over_the_size_limit_is_refused_before_parsing(plain_xlsx):
    with pytest.raises(WorkbookError, match="文件太大"):
        open_table(plain_xlsx, Limits(max_file_bytes=1000))


def test_empty_file_is_refused(tmp_path):
    (tmp_path / "empty.xlsx").write_bytes(b"")
    with pytest.raises(WorkbookError, match="文件是空的"):
        open_table(tmp_path / "empty.xlsx")


def test_damaged_xlsx_is_a_clear_error(tmp_path, plain_xlsx):
    damaged = tmp_path / "damaged.xlsx"
    damaged.write_bytes(plain_xlsx.read_bytes()[:2000])
    with pytest.raises(WorkbookError, match="损坏"):
        open_table(damaged)


def _zip(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def test_zip_bomb_ratio_is_refused(tmp_path):
    bomb = _zip(tmp_path / "bomb.xlsx", {"xl/worksheets/sheet1.xml": b"0" * (8 * 1024 * 1024)})
    with pytest.raises(WorkbookError, match="压缩比异常"):
        open_table(bomb)


def test_total_unpacked_size_is_bounded(tmp_path):
    path = _zip(tmp_path / "big.xlsx", {f"xl/part{i}.xml": bytes(range(256)) * 400 for i in range(5)})
    with pytest.raises(WorkbookError, match="解压后过大"):
        check_archive(path, Limits(max_unpacked_bytes=300_000))


def test_too_many_entries_is_refused(tmp_path):
    path = _zip(tmp_path / "many.xlsx", {f"x/{i}.xml": b"<a/>" for i in range(30)})
    with pytest.raises(WorkbookError, match="30个文件"):
        check_archive(path, Limits(max_zip_entries=20))


@pytest.mark.parametrize("name", ["../evil.xml", "/etc/evil.xml", "xl/../../evil.xml", "C:/evil.xml"])
def test_unsafe_paths_in_the_archive_are_refused(tmp_path, name):
    path = _zip(tmp_path / "paths.xlsx", {"[Content_Types].xml": b"<a/>", name: b"<a/>"})
    with pytest.raises(WorkbookError, match="不安全的路径"):
        check_archive(path)


def test_forged_small_size_in_the_zip_directory_is_caught(tmp_path):
    path = _zip(tmp_path / "forged.xlsx", {"xl/sheet.xml": bytes(range(256)) * 4000})
    data = bytearray(path.read_bytes())
    central = data.rfind(b"PK\x01\x02")
    data[central + 24 : central + 28] = (1000).to_bytes(4, "little")  # declared uncompressed size
    path.write_bytes(bytes(data))
    with pytest.raises(WorkbookError):
        check_archive(path)


def test_row_limit_is_enforced_while_reading(plain_xlsx):
    table = open_table(plain_xlsx, Limits(max_rows=1))
    with pytest.raises(WorkbookError, match="数据超过1行"):
        list(table.records())


def test_catalog_has_a_column_for_every_key_used_here():
    assert set(KEYS) <= {f.key for f in FIELDS}


def test_forged_small_size_with_a_matching_checksum_is_caught(tmp_path):
    # A bomb that declares a small size and the CRC of just that much: a reader that stops at the declared
    # size sees nothing wrong, but calamine inflates the whole stream. The check counts what really comes out.
    data = b"<row>" + bytes(range(256)) * 16_000 + b"</row>"  # 4 MB, compresses about 100:1
    path = _zip(tmp_path / "forged-crc.xlsx", {"xl/worksheets/sheet1.xml": data})
    raw = bytearray(path.read_bytes())
    declared = 1000
    crc = zlib.crc32(data[:declared]).to_bytes(4, "little")
    for signature, crc_at, size_at in ((b"PK\x01\x02", 16, 24), (b"PK\x03\x04", 14, 22)):
        start = raw.find(signature)
        raw[start + crc_at : start + crc_at + 4] = crc
        raw[start + size_at : start + size_at + 4] = declared.to_bytes(4, "little")
    path.write_bytes(bytes(raw))
    with pytest.raises(WorkbookError, match="实际大小与声明不符"):
        check_archive(path)


def test_a_real_workbook_passes_the_archive_check(plain_xlsx, converted):
    check_archive(plain_xlsx)
    check_archive(converted["ods"])


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("photo.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20),
        ("scan.pdf", b"%PDF-1.4\n" + bytes(range(256)) * 20),
        ("renamed.csv", b"\x00\x01\x02" * 2000),
    ],
)
def test_a_file_that_is_not_a_spreadsheet_is_named_as_such(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(WorkbookError) as error:
        open_table(path)
    assert error.value.message == "文件不是表格文件：请上传xlsx、xls、ods或csv格式的文件"


def test_utf16_csv_is_still_read(tmp_path):
    path = write_csv(tmp_path / "utf16.csv", "utf-16")
    assert [number for number, _ in read_all(path)] == [2, 4]


def test_missing_required_column_in_a_gbk_csv_is_one_file_level_error(tmp_path):
    path = tmp_path / "missing.csv"
    keys = [k for k in KEYS if k != "major"]
    with path.open("w", encoding="gbk", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers_for(keys, stars=False))
        writer.writerows(rows_as_lists(keys, [valid_row()]))
    with pytest.raises(WorkbookError) as error:
        open_table(path)
    assert error.value.message == "缺少必填列：专业。请使用系统下载的导入模板，或把表头改成模板中的列名"


def test_an_upload_is_copied_until_it_passes_the_size_limit(tmp_path):
    import io

    target = tmp_path / "upload.xlsx"
    assert save_upload(io.BytesIO(b"x" * 3000), target, Limits(max_file_bytes=4000)) == target
    assert target.stat().st_size == 3000
    with pytest.raises(WorkbookError, match="文件太大"):
        save_upload(io.BytesIO(b"x" * 5000), tmp_path / "big.xlsx", Limits(max_file_bytes=4000))
    assert not (tmp_path / "big.xlsx").exists()


@pytest.mark.parametrize(
    "content",
    [
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600,  # an xls header and nothing behind it
        b"PK\x05\x06" + b"\x00" * 18,  # an empty zip: no sheets at all
    ],
)
def test_a_damaged_xls_or_empty_archive_is_one_clear_error(tmp_path, content):
    path = tmp_path / "damaged.xls"
    path.write_bytes(content)
    with pytest.raises(WorkbookError) as error:
        open_table(path)
    assert "损坏" in error.value.message or "不受支持" in error.value.message
