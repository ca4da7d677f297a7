from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from tests.records.helpers import TODAY, make_ctx, resident_id, valid_row
from xueji.records.checkers import parse_date
from xueji.records.context import RowContext
from xueji.records.validator import DuplicateIdTracker, has_errors, validate_row


def problems(row, ctx, severity="error"):
    _, errors = validate_row(row, ctx)
    return {(e.key, e.message) for e in errors if e.severity == severity}


def messages(row, ctx, key):
    _, errors = validate_row(row, ctx)
    return [e.message for e in errors if e.key == key]


def test_valid_row_gives_codes_and_derived_values(ctx):
    clean, errors = validate_row(valid_row(), ctx)
    assert errors == []
    assert clean["ethnicity"] == "01"
    assert clean["nationality"] == "CHN"
    assert clean["major"] == "710201"
    assert clean["direction"] == "网络技术"
    assert clean["schooling_length"] == "3"
    assert clean["enrolment_month"] == datetime.date(2024, 9, 1)
    assert clean["grade"] == 2024
    assert clean["exam_score"] == Decimal("520")
    assert clean["gender"] == "1"
    assert clean["birth_date"] == datetime.date(2008, 3, 2)
    assert clean["hmt_status"] == "00"


def test_errors_name_the_field_label_value_and_reason(ctx):
    _, errors = validate_row(valid_row(id_number="110105194912310021"), ctx)
    (error,) = [e for e in errors if e.key == "id_number"]
    assert (error.label, error.value, error.message, error.severity) == (
        "身份证件号",
        "110105194912310021",
        "身份证件号校验位错误：应为X",
        "error",
    )
    assert error.to_dict()["field"] == "id_number"


def test_missing_always_required_field_is_an_error(ctx):
    row = valid_row()
    del row["ethnicity"]
    assert ("ethnicity", "民族不能为空") in problems(row, ctx)
    assert ("name", "姓名不能为空") in problems(valid_row(name="   "), ctx)


def test_blank_required_cell_is_reported_on_every_row_and_optional_blanks_are_left_out(ctx):
    # The validator remembers answers per value: a blank that is an error must be reported each time.
    for blank in (None, "", "   ", None, "", "   "):
        clean, errors = validate_row(valid_row(name=blank, email=blank), ctx)
        assert [(e.key, e.message) for e in errors] == [("name", "姓名不能为空")]
        assert "name" not in clean and "email" not in clean


# --- ID-derived fields --------------------------------------------------------------------------------------


def test_gender_and_birth_date_contradicting_the_id_number_are_errors(ctx):
    found = problems(valid_row(gender="女", birth_date="2008-03-03"), ctx)
    assert ("gender", "性别与身份证件号不符：应为男") in found
    assert ("birth_date", "出生日期与身份证件号不符：应为2008-03-02") in found


def test_gender_and_birth_date_matching_the_id_number_are_accepted_as_typed(ctx):
    clean, errors = validate_row(valid_row(gender="1", birth_date=datetime.date(2008, 3, 2)), ctx)
    assert errors == []
    assert clean["gender"] == "1"


def test_blank_regions_are_errors_that_suggest_the_id_numbers_region(ctx):
    row = valid_row(household_region="", origin_region=None)
    _, errors = validate_row(row, ctx)
    household = next(e for e in errors if e.key == "household_region")
    assert household.message == "户口所在地行政区划不能为空；按身份证件号可填110105 北京市朝阳区"
    assert household.suggestion == "110105"
    assert next(e for e in errors if e.key == "origin_region").suggestion == "110105"


def test_region_suggestion_follows_an_abolished_code_to_todays(ctx):
    _, errors = validate_row(valid_row(id_number=resident_id("11010320080301002"), household_region=""), ctx)
    assert next(e for e in errors if e.key == "household_region").suggestion == "110101"


def test_abolished_region_code_is_an_error_naming_the_current_one(ctx):
    assert messages(valid_row(household_region="110103"), ctx, "household_region") == [
        "行政区划代码110103 北京市崇文区已停用，现为110101 北京市东城区"
    ]


def test_region_code_that_never_existed_is_an_error_for_household(ctx):
    assert messages(valid_row(origin_region="999999"), ctx, "origin_region") == ["“999999”不是有效的行政区划代码"]


def test_region_accepts_code_with_name_and_number_cells(ctx):
    for typed in ("110105 北京市朝阳区", "北京市朝阳区(110105)", 110105.0):
        clean, errors = validate_row(valid_row(household_region=typed), ctx)
        assert clean["household_region"] == "110105" and not errors


def test_province_level_region_is_a_warning(ctx):
    assert ("household_region", "110000 北京市是省级代码，请填写到区县级") in problems(
        valid_row(household_region="110000"), ctx, "warning"
    )


def test_hong_kong_residence_permit_derives_hmt_and_rejects_a_contradiction(ctx):
    number = resident_id("81000020080301002")
    clean, errors = validate_row(valid_row(id_number=number, household_region="810000", origin_region="810000"), ctx)
    assert not has_errors(errors)
    assert clean["hmt_status"] == "01"
    assert ("hmt_status", "港澳台侨外与身份证件不符：应为香港同胞") in problems(
        valid_row(id_number=number, hmt_status="否"), ctx
    )


def test_document_type_derives_hmt_for_a_taiwan_permit(ctx):
    row = valid_row(id_type="台湾居民来往大陆通行证", id_number="12345678", gender="女", birth_date="2008-01-01")
    clean, errors = validate_row(row, ctx)
    assert not has_errors(errors), errors
    assert clean["hmt_status"] == "05"


def test_other_document_without_gender_or_birth_date_needs_them_typed(ctx):
    found = problems(valid_row(id_type="护照", id_number="E12345678"), ctx)
    assert ("gender", "性别不能为空") in found
    assert ("birth_date", "出生日期不能为空") in found


def test_unknown_region_in_the_id_number_is_only_a_warning(ctx):
    _, errors = validate_row(valid_row(id_number=resident_id("99999920080301002")), ctx)
    assert not has_errors(errors)
    assert [e.severity for e in errors] == ["warning"]


def test_fifteen_digit_number_is_stored_upgraded(ctx):
    clean, errors = validate_row(valid_row(id_number="110105080302001", enrolment_month="2024-09"), ctx)
    assert clean["id_number"] == resident_id("11010519080302001")
    assert not has_errors(errors)


# --- code tables, majors, directions, grades, classes --------------------------------------------------------


def test_code_fields_accept_code_or_name(ctx):
    clean, errors = validate_row(valid_row(ethnicity="01", health_status="1", study_mode=1.0), ctx)
    assert errors == []
    assert (clean["ethnicity"], clean["health_status"], clean["study_mode"]) == ("01", "1", "1")


def test_unknown_code_value_lists_nearest_names(ctx):
    assert messages(valid_row(ethnicity="汉足"), ctx, "ethnicity") == ["“汉足”不是有效的民族，最接近的有：汉族"]


def test_major_must_be_one_of_the_schools_and_lists_the_choices(ctx):
    assert messages(valid_row(major="计算机", direction=""), ctx, "major") == [
        "“计算机”不是本校开设的专业，可选：计算机应用(710201)"
    ]
    assert messages(valid_row(major="汽车运用与维修", direction=""), ctx, "major") == [
        "“汽车运用与维修”不是本校开设的专业，可选：计算机应用(710201)、会计事务(730301)、中餐烹饪(740201)"
    ]


def test_major_accepts_its_code_and_trims_spaces(ctx):
    for typed in ("710201", " 计算机应用 ", "计算机 应用", "计算机应用(710201)"):
        clean, _ = validate_row(valid_row(major=typed), ctx)
        assert clean.get("major") == "710201", typed


def test_direction_is_required_when_the_school_defines_directions_for_the_major(ctx):
    assert ("direction", "专业方向不能为空：学校为该专业设置了专业方向时必填") in problems(valid_row(direction=""), ctx)
    assert problems(valid_row(major="会计事务", direction=""), ctx) == set()


def test_direction_must_belong_to_the_rows_major(ctx):
    assert messages(valid_row(direction="中式面点"), ctx, "direction") == [
        "“中式面点”不是本校该专业的专业方向，可选：网络技术、软件开发"
    ]
    assert messages(valid_row(major="会计事务", direction="网络技术"), ctx, "direction") == [
        "本校该专业未设置专业方向，此项应留空"
    ]


def test_without_a_school_majors_are_checked_against_the_national_catalog():
    ctx = RowContext(school=None, today=TODAY)
    clean, errors = validate_row(valid_row(major="汽车运用与维修", direction=""), ctx)
    assert clean["major"] == "700206" and errors == []
    assert messages(valid_row(major="火箭科学"), ctx, "major") == ["“火箭科学”不是《职业教育专业目录》中的中职专业"]


def test_grade_must_be_one_of_the_schools_grades(ctx):
    assert messages(valid_row(grade="2022"), ctx, "grade") == ["年级2022不是本校已建的年级，可选：2023、2024"]
    clean, _ = validate_row(valid_row(grade="2024级"), ctx)
    assert clean["grade"] == 2024
    clean, _ = validate_row(valid_row(grade=2024.0), ctx)
    assert clean["grade"] == 2024


def test_class_must_exist_in_the_grade_and_major(ctx):
    clean, errors = validate_row(valid_row(class_name="2024计算机1班"), ctx)
    assert clean["class_name"] == "2024计算机1班" and errors == []
    assert messages(valid_row(class_name="2024会计1班"), ctx, "class_name") == ["班级“2024会计1班”不是所填专业的班级"]
    assert messages(valid_row(class_name="9班"), ctx, "class_name") == ["“9班”不是本校已建的班级"]


# --- required by rule ----------------------------------------------------------------------------------------


def test_unified_admission_requires_ticket_candidate_number_and_score(ctx):
    row = valid_row(exam_ticket_no="", candidate_no=None, exam_score="")
    found = problems(row, ctx)
    assert ("exam_ticket_no", "准考证号不能为空：招生方式为统一招生时必填") in found
    assert ("candidate_no", "考生号不能为空：招生方式为统一招生时必填") in found
    assert ("exam_score", "考试总分不能为空：招生方式为统一招生时必填") in found
    assert problems(dict(row, admission_method="自主招生"), ctx) == set()


def test_joint_programme_requires_partner_school_code_and_form(ctx):
    row = valid_row(joint_type="城乡联合办学")
    found = problems(row, ctx)
    assert ("joint_school_code", "联招合作学校代码不能为空：联招合作类型不是非联合办学时必填") in found
    assert ("joint_form", "联招合作办学形式不能为空：联招合作类型不是非联合办学时必填") in found
    assert problems(dict(row, joint_school_code="1111000002", joint_form="合作培养"), ctx) == set()
    assert problems(valid_row(joint_type="非联合办学"), ctx) == set()
    assert ("joint_school_code", "联招合作学校代码应为10位数字的学校标识码") in problems(
        dict(row, joint_school_code="123", joint_form="合作培养"), ctx
    )


# --- dates and numbers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "2014-09",
        "2014/9/1",
        "201409",
        "2014年9月",
        "2014年9月1日",
        "2014.09",
        "20140901",
        41883,
        41883.0,
        201409.0,
        datetime.date(2014, 9, 1),
        datetime.datetime(2014, 9, 1, 0, 0),
        "2014-09-01 00:00:00",
        "２０１４－０９",
    ],
)
def test_dates_accept_the_usual_spellings_and_excel_serials(typed):
    year, month, _ = parse_date(typed)
    assert (year, month) == (2014, 9)


def test_enrolment_month_in_any_spelling_is_the_first_of_the_month():
    ctx = make_ctx()
    for typed in ("2024-09", "2024/9/1", "202409", "2024年9月", 45536.0):
        clean, errors = validate_row(valid_row(enrolment_month=typed), ctx)
        assert clean["enrolment_month"] == datetime.date(2024, 9, 1), typed
        assert not errors


def test_unreadable_and_impossible_dates_are_errors(ctx):
    assert messages(valid_row(enrolment_month="九月"), ctx, "enrolment_month") == [
        "入学年月“九月”无法识别，请写成2014-09 或 2014年9月"
    ]
    assert messages(valid_row(birth_date="2008-02-30"), ctx, "birth_date") == ["出生日期“2008-02-30”不是存在的日期"]
    assert messages(valid_row(enrolment_month="2030-09"), ctx, "enrolment_month") == ["入学年月晚于明年"]


def test_birth_date_needs_a_day(ctx):
    row = valid_row(id_type="护照", id_number="E12345678", gender="男", birth_date="2008-03")
    assert messages(row, ctx, "birth_date") == ["出生日期需精确到日，如2008-03-01"]


def test_enrolment_month_far_from_the_grade_is_a_warning(ctx):
    assert ("enrolment_month", "入学年月2021-09与年级2024不一致") in problems(
        valid_row(enrolment_month="2021-09"), ctx, "warning"
    )


@pytest.mark.parametrize(
    ("typed", "value"), [("520", 520), ("５２０", 520), (520.0, 520), ("520.5", "520.5"), ("600分", 600)]
)
def test_scores_accept_text_digits(ctx, typed, value):
    clean, errors = validate_row(valid_row(exam_score=typed), ctx)
    assert clean["exam_score"] == Decimal(str(value)) and errors == []


@pytest.mark.parametrize("typed", ["五百", "-1", "1001", "520.55"])
def test_bad_scores_are_errors(ctx, typed):
    assert messages(valid_row(exam_score=typed), ctx, "exam_score")


# --- names ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("阿依古丽·买买提", "阿依古丽·买买提"),
        ("阿依古丽•买买提", "阿依古丽·买买提"),
        ("阿依古丽．买买提", "阿依古丽·买买提"),
        ("张 三", "张三"),
        ("𠈌𠮷", "𠈌𠮷"),  # CJK extension B
        ("王㛃", "王㛃"),  # extension A
        ("John  Smith", "John Smith"),
        ("Jean-Pierre O'Neil", "Jean-Pierre O'Neil"),
    ],
)
def test_names_accept_rare_characters_middle_dot_and_latin_letters(ctx, typed, stored):
    clean, errors = validate_row(valid_row(name=typed), ctx)
    assert errors == [] and clean["name"] == stored


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("=HYPERLINK(1)", "姓名不能以“=”“+”“-”“@”开头"),
        ("+张三", "姓名不能以“=”“+”“-”“@”开头"),
        ("-张三", "姓名不能以“=”“+”“-”“@”开头"),
        ("@张三", "姓名不能以“=”“+”“-”“@”开头"),
        ("张三1", "姓名不能含数字"),
        ("张三!", "姓名含有不允许的字符“!”"),
        ("·张三", "姓名中的间隔号“·”不能在开头、结尾或连续出现"),
        ("张" * 51, "姓名不能超过50个字（现为51个）"),
    ],
)
def test_bad_names_are_errors(ctx, typed, message):
    assert messages(valid_row(name=typed), ctx, "name") == [message]


def test_guardian_name_follows_the_same_rules(ctx):
    assert messages(valid_row(guardian_name="=1+1"), ctx, "guardian_name") == ["监护人姓名不能以“=”“+”“-”“@”开头"]


def test_private_use_character_in_a_name_is_a_warning(ctx):
    _, errors = validate_row(valid_row(name="张\ue000"), ctx)
    assert [(e.key, e.severity) for e in errors] == [("name", "warning")]


def test_free_text_that_starts_like_a_formula_is_refused(ctx):
    assert messages(valid_row(home_address="=cmd|' /C calc'!A0"), ctx, "home_address") == [
        "家庭现地址不能以“=”“+”“-”“@”开头"
    ]


# --- contact -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed", ["13800138000", "010-87654321", "0755-1234567", "+85291234567", "１３８ ００１３ ８０００"]
)
def test_phone_numbers_in_common_forms_are_accepted(ctx, typed):
    assert not messages(valid_row(phone=typed), ctx, "phone")


def test_bad_phone_is_an_error_and_a_local_number_a_warning(ctx):
    assert messages(valid_row(phone="12345"), ctx, "phone") == [
        "联系电话“12345”格式不正确：手机号为11位，固定电话为区号-号码"
    ]
    assert ("guardian_phone", "监护人联系电话是固定电话时请加区号，如010-87654321") in problems(
        valid_row(guardian_phone="87654321"), ctx, "warning"
    )


def test_email_postcode_and_pinyin_are_checked(ctx):
    assert messages(valid_row(email="zhang@"), ctx, "email") == ["电子信箱“zhang@”格式不正确"]
    assert messages(valid_row(postcode="1000"), ctx, "postcode") == ["邮政编码应为6位数字"]
    clean, _ = validate_row(valid_row(postcode=100020.0, name_pinyin="zhang san"), ctx)
    assert clean["postcode"] == "100020" and clean["name_pinyin"] == "ZHANG SAN"
    assert messages(valid_row(name_pinyin="张san"), ctx, "name_pinyin")


# --- file-level helper ---------------------------------------------------------------------------------------


def test_duplicate_id_numbers_name_the_first_row():
    tracker = DuplicateIdTracker()
    assert tracker.check(2, "11010520080302001X") is None
    assert tracker.check(3, "110105200803030015") is None
    duplicate = tracker.check(7, "11010520080302001X")
    assert duplicate.message == "与第2行身份证件号重复"
    assert tracker.check(9, "11010520080302001X").message == "与第2行身份证件号重复"


def test_a_mistyped_id_number_does_not_also_blame_gender_and_birth_date(ctx):
    number = resident_id("11010520080302001")
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    found = problems(valid_row(id_number=wrong, gender="女", birth_date="2008-03-03"), ctx)
    assert {key for key, _ in found} == {"id_number"}


def test_an_unreadable_or_missing_resident_id_is_one_error_not_four(ctx):
    # 性别, 出生日期 and 港澳台侨外 come from the number: once it is fixed they fill themselves.
    for typed, message in [
        ("", "身份证件号不能为空"),
        ("1101052008", "居民身份证号应为18位（现为10位）"),
        (resident_id("11010520090230002"), "身份证件号中的出生日期20090230不存在"),
    ]:
        assert problems(valid_row(id_number=typed), ctx) == {("id_number", message)}, typed
    # A passport derives nothing: its blanks are the registrar's to fill.
    found = problems(valid_row(id_type="护照", id_number=""), ctx)
    assert {"gender", "birth_date", "hmt_status"} <= {key for key, _ in found}
