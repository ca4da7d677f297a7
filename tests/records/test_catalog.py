from __future__ import annotations

from xueji.records.catalog import (
    FIELDS,
    FIELDS_BY_KEY,
    Kind,
    Required,
    field_for_header,
    fields_markdown,
    required_columns,
)

ISSUE_LABELS = [
    "姓名",
    "姓名拼音",
    "曾用名",
    "身份证件类型",
    "身份证件号",
    "性别",
    "出生日期",
    "民族",
    "国籍/地区",
    "港澳台侨外",
    "政治面貌",
    "健康状况",
    "户口所在地行政区划",
    "户口性质",
    "生源地行政区划",
    "学生居住地类型",
    "家庭现地址",
    "邮政编码",
    "招生方式",
    "招生对象",
    "学生来源",
    "准考证号",
    "考生号",
    "考试总分",
    "专业",
    "专业方向",
    "学制",
    "入学年月",
    "学习形式",
    "就读方式",
    "学生类别",
    "联招合作类型",
    "联招合作学校代码",
    "联招合作办学形式",
    "分段培养方式",
    "毕业学校",
    "年级",
    "班级",
    "联系电话",
    "电子信箱",
    "监护人姓名",
    "与学生关系",
    "监护人联系电话",
]
ALWAYS = [
    "姓名",
    "身份证件类型",
    "身份证件号",
    "性别",
    "出生日期",
    "民族",
    "国籍/地区",
    "港澳台侨外",
    "健康状况",
    "户口所在地行政区划",
    "户口性质",
    "生源地行政区划",
    "招生方式",
    "招生对象",
    "学生来源",
    "专业",
    "学制",
    "入学年月",
    "学习形式",
    "就读方式",
    "学生类别",
    "年级",
    "联系电话",
    "监护人姓名",
    "与学生关系",
    "监护人联系电话",
]


def test_every_field_of_the_issue_is_declared_once():
    labels = [f.label for f in FIELDS]
    assert labels == ISSUE_LABELS
    assert len({f.key for f in FIELDS}) == len(FIELDS)


def test_always_required_fields_match_the_issue():
    assert [f.label for f in FIELDS if f.required is Required.ALWAYS] == ALWAYS


def test_rule_required_fields_say_when():
    rules = {f.label: f.rule for f in FIELDS if f.required is Required.RULE}
    assert set(rules) == {"准考证号", "考生号", "考试总分", "专业方向", "联招合作学校代码", "联招合作办学形式"}
    assert rules["准考证号"] == "招生方式为统一招生时必填"
    assert all(f.required_when for f in FIELDS if f.required is Required.RULE)


def test_gender_birth_date_and_hmt_are_derivable_from_the_id_number():
    assert {f.key for f in FIELDS if f.derivable} == {"gender", "birth_date", "hmt_status"}


def test_required_headers_carry_a_star():
    assert FIELDS_BY_KEY["name"].header == "★姓名"
    assert FIELDS_BY_KEY["name_pinyin"].header == "姓名拼音"


def test_headers_match_with_stars_spaces_and_aliases():
    assert field_for_header("★姓名").key == "name"
    assert field_for_header(" * 姓 名 ").key == "name"
    assert field_for_header("身份证号码").key == "id_number"
    assert field_for_header("姓名(必填)").key == "name"
    assert field_for_header("国籍").key == "nationality"
    assert field_for_header("id_number").key == "id_number"
    assert field_for_header("备注") is None


def test_required_columns_leave_out_the_derivable_fields():
    keys = {f.key for f in required_columns()}
    assert "name" in keys and "id_number" in keys
    assert not keys & {"gender", "birth_date", "hmt_status"}


def test_code_fields_name_their_table_and_every_field_has_help_or_example():
    for f in FIELDS:
        assert (f.kind is Kind.CODE) == bool(f.code_table)
        assert f.help or f.example or f.required is Required.NEVER


def test_markdown_table_has_one_line_per_field():
    table = fields_markdown()
    assert len(table.splitlines()) == len(FIELDS) + 2
    assert "| 身份证件号 | `id_number` | 必填 |" in table
