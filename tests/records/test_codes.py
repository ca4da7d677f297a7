from __future__ import annotations

import pytest

from xueji.records.codes import code_table, country_table


@pytest.mark.parametrize(
    "typed", ["01", "1", 1.0, "汉族", "汉", " 汉族 ", "01汉族", "01 汉族", "汉族(01)", "汉族（01）"]
)
def test_ethnicity_accepts_code_name_and_combined_forms(typed):
    assert code_table("民族").resolve(typed) == "01"


def test_unknown_value_lists_the_nearest_valid_names():
    table = code_table("民族")
    assert table.resolve("汉足") is None
    assert table.unknown_message("汉足") == "“汉足”不是有效的民族，最接近的有：汉族"


def test_unknown_value_in_a_short_table_lists_every_choice():
    message = code_table("学习形式").unknown_message("夜校")
    assert message == "“夜校”不是有效的学习形式，可选：全日制、非全日制"


def test_code_with_a_decimal_point_resolves_from_a_number_cell():
    assert code_table("学制").resolve(1.5) == "1.5"
    assert code_table("学制").resolve("三年制") == "3"
    assert code_table("学制").resolve(3.0) == "3"


def test_names_take_precedence_over_codes():
    # 港澳台侨外 "00" 否 and 是否 "0" 否 live in different tables and must not mix.
    assert code_table("港澳台侨外").resolve("否") == "00"
    assert code_table("是否").resolve("否") == "0"


def test_every_code_table_of_the_catalog_exists():
    from xueji.records.catalog import FIELDS

    for f in FIELDS:
        if f.code_table:
            assert code_table(f.code_table).items


@pytest.mark.parametrize(
    ("typed", "alpha3"),
    [
        ("中国", "CHN"),
        ("CHN", "CHN"),
        ("cn", "CHN"),
        ("156", "CHN"),
        (156.0, "CHN"),
        ("中国香港", "HKG"),
        ("香港", "HKG"),
        ("中国澳门", "MAC"),
        ("中国台湾", "TWN"),
        ("韩国", "KOR"),
        ("大韩民国", "KOR"),
        ("美国", "USA"),
        ("United States", "USA"),
    ],
)
def test_countries_accept_chinese_english_and_iso_codes(typed, alpha3):
    assert country_table().resolve(typed) == alpha3


def test_hong_kong_macao_taiwan_are_labelled_as_parts_of_china():
    table = country_table()
    assert table.name_of("HKG") == "中国香港"
    assert table.name_of("MAC") == "中国澳门"
    assert table.name_of("TWN") == "中国台湾"
    assert table.names[0] == "中国"


def test_unknown_country_suggests_names():
    assert "不是有效的国籍/地区" in country_table().unknown_message("火星")
