from __future__ import annotations

import datetime

import pytest

from tests.records.helpers import TODAY, resident_id
from xueji.records.idnumber import (
    HMT_HONG_KONG,
    HMT_MACAO,
    HMT_NONE,
    HMT_TAIWAN,
    check_document,
    check_resident_id,
    normalise_id_number,
    resident_id_facts,
    upgrade_15_to_18,
)


def test_valid_number_derives_gender_birth_date_and_region():
    result = check_resident_id("11010519491231002X", today=TODAY)
    assert result.ok
    assert result.gender == "2"
    assert result.birth_date == datetime.date(1949, 12, 31)
    assert result.region_code == "110105"
    assert result.suggested_region == "110105"
    assert result.hmt == HMT_NONE


def test_wrong_check_digit_names_the_expected_one():
    result = check_resident_id("110105194912310021", today=TODAY)
    assert result.errors == ["身份证件号校验位错误：应为X"]


@pytest.mark.parametrize(
    "typed",
    [
        "１１０１０５１９４９１２３１００２Ｘ",
        "110105 1949 1231 002x",
        " 11010519491231002x ",
        "110105-19491231-002X",
        "'11010519491231002X",
    ],
)
def test_full_width_digits_spaces_and_lower_case_x_are_normalised(typed):
    assert normalise_id_number(typed) == "11010519491231002X"
    assert check_resident_id(typed, today=TODAY).number == "11010519491231002X"


def test_fifteen_digit_number_is_upgraded_to_eighteen():
    assert upgrade_15_to_18("110105491231002") == "11010519491231002X"
    result = check_resident_id("110105491231002", today=TODAY)
    assert result.ok
    assert result.number == "11010519491231002X"
    assert any("已升级为18位" in w for w in result.warnings)


def test_fifteen_digit_number_from_a_number_cell_is_upgraded():
    assert check_resident_id(110105491231002.0, today=TODAY).number == "11010519491231002X"


def test_impossible_birth_date_is_an_error():
    result = check_resident_id(resident_id("11010520090230002"), today=TODAY)
    assert "身份证件号中的出生日期20090230不存在" in result.errors
    assert result.birth_date is None


def test_birth_date_in_the_future_is_an_error_although_stdnum_accepts_it():
    result = check_resident_id(resident_id("11010520990101002"), today=TODAY)
    assert any("晚于今天" in e for e in result.errors)


def test_birth_year_before_1900_is_an_error():
    result = check_resident_id(resident_id("11010518880101002"), today=TODAY)
    assert any("不合理" in e for e in result.errors)


def test_abolished_region_code_is_accepted_and_suggests_its_successor():
    # 崇文区 110103 was merged into 东城区 110101 in 2010; IDs issued before keep the old code.
    result = check_resident_id(resident_id("11010320080301002"), today=TODAY)
    assert result.ok and not result.warnings
    assert result.suggested_region == "110101"


def test_region_code_issued_after_birth_year_is_not_an_error():
    # 北京市 大兴区 110115 exists since 2001; someone born in 1995 registered later has it.
    result = check_resident_id(resident_id("11011519950301002"), today=TODAY)
    assert result.ok and not result.warnings


def test_region_code_that_never_existed_is_a_warning_not_an_error():
    result = check_resident_id(resident_id("99999920080301002"), today=TODAY)
    assert result.ok
    assert result.warnings == ["身份证件号前6位999999不是任何时期的行政区划代码，请核对"]
    assert result.suggested_region is None


@pytest.mark.parametrize(("prefix", "hmt"), [("810000", HMT_HONG_KONG), ("820000", HMT_MACAO), ("830000", HMT_TAIWAN)])
def test_residence_permit_prefixes_derive_hong_kong_macao_taiwan(prefix, hmt):
    result = check_resident_id(resident_id(prefix + "20080301002"), today=TODAY)
    assert result.ok and not result.warnings
    assert result.hmt == hmt


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("1101051949123100", "居民身份证号应为18位（现为16位）"),
        ("11010519491231A02X", "居民身份证号前17位应为数字，最后一位为数字或X"),
        ("", "身份证件号不能为空"),
    ],
)
def test_malformed_numbers_are_errors(typed, message):
    assert check_resident_id(typed, today=TODAY).errors == [message]


@pytest.mark.parametrize(
    ("id_type", "number", "hmt"),
    [
        ("6", "A123456(3)", HMT_HONG_KONG),
        ("6", "a1234563", HMT_HONG_KONG),
        ("6", "H12345678", HMT_HONG_KONG),
        ("7", "1234567(8)", HMT_MACAO),
        ("7", "M12345678", HMT_MACAO),
        ("8", "12345678", HMT_TAIWAN),
        ("A", "E12345678", None),
        ("A", "G1234567", None),
        ("9", "USA123456789012", None),
        ("2", "南字第123456号", None),
        ("B", "110105200803010026", None),
    ],
)
def test_other_document_types_get_their_own_format_checks(id_type, number, hmt):
    result = check_document(id_type, number, today=TODAY)
    assert result.ok, result.errors
    assert result.hmt == hmt


def test_hong_kong_identity_card_check_digit_is_verified():
    assert check_document("6", "A123456(4)", today=TODAY).errors == ["香港身份证号校验位错误：应为3"]


@pytest.mark.parametrize(
    ("id_type", "number"),
    [("6", "12345"), ("7", "ABC"), ("8", "1234"), ("A", "E1"), ("9", "123")],
)
def test_other_document_numbers_in_the_wrong_format_are_errors(id_type, number):
    assert not check_document(id_type, number, today=TODAY).ok


def test_passport_number_does_not_get_the_resident_id_checksum():
    # Digits like a resident ID, but a passport: no "校验位" message.
    result = check_document("A", "11010519491231", today=TODAY)
    assert result.ok


def test_new_foreign_permanent_residence_card_uses_the_resident_id_layout():
    number = resident_id("93315620080301002")
    result = check_document("9", number, today=TODAY)
    assert result.ok
    assert result.birth_date == datetime.date(2008, 3, 1)
    bad = number[:-1] + ("0" if number[-1] != "0" else "1")
    assert any("校验位错误" in e for e in check_document("9", bad, today=TODAY).errors)


def test_eighteen_digit_number_stored_as_an_excel_number_is_explained():
    assert check_resident_id(1.10105200803011e17, today=TODAY).errors == [
        "身份证件号被存成了数字，末几位已丢失：请把该列设为文本格式后重新输入"
    ]


@pytest.mark.parametrize(
    "typed",
    [
        "11010519491231002X",
        " 11010519491231002x ",
        "１１０１０５１９４９１２３１００２Ｘ",
        "810000199001011230",  # a Hong Kong residence permit's pseudo-region
        "110105194912310021",  # wrong check digit
        "110105491231002",  # 15 digits: upgraded, with a warning
        "990105194912310029",  # a region code of no period
        "110105203012310024",  # born after today
        "1101051949123",
        "",
        None,
        110105491231002.0,
    ],
)
def test_resident_id_facts_are_check_resident_id_without_errors_or_warnings(typed: object):
    # The row validator's shortcut must say exactly what the full check says.
    result = check_resident_id(typed, today=TODAY)
    expected = None
    if not result.errors and not result.warnings:
        expected = (result.number, result.gender, result.birth_date, result.hmt)
    assert resident_id_facts(typed, today=TODAY) == expected
