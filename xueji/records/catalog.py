"""The field catalog (采集指标): every collected field declared once.

The import template (headers, 采集指标说明, drop-downs), the validator, the web forms, the export column
chooser, the API schema and the README table all read this module. Adding a field is one entry in
``FIELDS``; a field whose kind needs new checking also needs a case in ``validator._checker_for``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from xueji.records.context import RowContext


class Kind(StrEnum):
    TEXT = "text"
    NAME = "name"  # a person's name: CJK (rare ones included), middle dot, letters
    PINYIN = "pinyin"
    ID_NUMBER = "id_number"
    DATE = "date"
    MONTH = "month"  # year and month (入学年月)
    NUMBER = "number"
    CODE = "code"  # one of code-tables.csv's 字典
    COUNTRY = "country"
    REGION = "region"  # GB/T 2260 code in use today
    MAJOR = "major"
    DIRECTION = "direction"
    GRADE = "grade"
    CLASS = "class"
    PHONE = "phone"
    EMAIL = "email"
    POSTCODE = "postcode"
    SERIAL = "serial"  # 准考证号 / 考生号: letters and digits
    SCHOOL_CODE = "school_code"


class Required(StrEnum):
    ALWAYS = "always"
    NEVER = "never"
    RULE = "rule"


# Kinds whose cells the template formats as text, so that Excel keeps leading zeros and all 18 digits.
TEXT_FORMAT_KINDS = frozenset(
    {Kind.ID_NUMBER, Kind.PHONE, Kind.POSTCODE, Kind.SERIAL, Kind.SCHOOL_CODE, Kind.REGION, Kind.TEXT}
)

RowRule = Callable[[Mapping[str, object], "RowContext"], bool]


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    kind: Kind
    required: Required = Required.NEVER
    max_length: int | None = None
    help: str = ""
    example: str = ""
    code_table: str | None = None
    derivable: bool = False  # filled from the ID number when left blank
    rule: str = ""  # when a Required.RULE field is required, in the registrar's words
    required_when: RowRule | None = None
    aliases: tuple[str, ...] = ()  # other header spellings seen in real files
    group: str = ""
    width: int = 14  # template column width, in characters

    @property
    def header(self) -> str:
        """The template's header cell: ★ marks the always-required fields."""
        return f"★{self.label}" if self.required is Required.ALWAYS else self.label

    @property
    def requirement_text(self) -> str:
        if self.required is Required.ALWAYS:
            return "必填" + ("（可由身份证件号自动生成）" if self.derivable else "")
        if self.required is Required.RULE:
            return f"条件必填：{self.rule}"
        return "选填"


# --- rules for Required.RULE fields. They see the row's cleaned values (codes, not names). -----------------

UNIFIED_ADMISSION = "1"  # 招生方式: 统一招生
NOT_JOINT = "1"  # 联招合作类型: 非联合办学


def _is_unified_admission(row: Mapping[str, object], ctx: RowContext) -> bool:
    return row.get("admission_method") == UNIFIED_ADMISSION


def _major_has_directions(row: Mapping[str, object], ctx: RowContext) -> bool:
    if ctx.school is None:
        return False
    major = ctx.school.major_by_code.get(str(row.get("major") or ""))
    return bool(major and major.directions)


def _is_joint(row: Mapping[str, object], ctx: RowContext) -> bool:
    joint_type = row.get("joint_type")
    return joint_type is not None and joint_type != NOT_JOINT


IDENTITY, PLACES, ENROLMENT, CONTACT = "身份信息", "户籍与住址", "招生信息", "联系信息"

FIELDS: tuple[Field, ...] = (
    # 身份信息
    Field(
        "name",
        "姓名",
        Kind.NAME,
        Required.ALWAYS,
        50,
        "与身份证件一致；少数民族姓名中的间隔号用“·”；外籍学生可用英文字母",
        "张三",
        group=IDENTITY,
        width=12,
        aliases=("学生姓名",),
    ),
    Field(
        "name_pinyin",
        "姓名拼音",
        Kind.PINYIN,
        Required.NEVER,
        100,
        "大写或小写字母，音节间可用空格",
        "ZHANG SAN",
        group=IDENTITY,
        width=16,
    ),
    Field("former_name", "曾用名", Kind.NAME, Required.NEVER, 50, "无则不填", "", group=IDENTITY, width=12),
    Field(
        "id_type",
        "身份证件类型",
        Kind.CODE,
        Required.ALWAYS,
        None,
        "从下拉列表选择，或填字典代码",
        "居民身份证",
        code_table="身份证件类型",
        group=IDENTITY,
        width=14,
        aliases=("证件类型",),
    ),
    Field(
        "id_number",
        "身份证件号",
        Kind.ID_NUMBER,
        Required.ALWAYS,
        30,
        "居民身份证为18位，末位可为X；15位旧号自动升级为18位。单元格请设为文本，避免变成科学计数",
        "11010520080301002X",
        group=IDENTITY,
        width=22,
        aliases=("身份证号", "身份证号码", "证件号码", "身份证件号码", "证件号"),
    ),
    Field(
        "gender",
        "性别",
        Kind.CODE,
        Required.ALWAYS,
        None,
        "留空时由居民身份证号第17位生成（奇数男、偶数女）",
        "男",
        code_table="性别",
        derivable=True,
        group=IDENTITY,
        width=8,
    ),
    Field(
        "birth_date",
        "出生日期",
        Kind.DATE,
        Required.ALWAYS,
        None,
        "留空时由居民身份证号生成；可写2008-03-01、2008/3/1、20080301或2008年3月1日",
        "2008-03-01",
        derivable=True,
        group=IDENTITY,
        width=12,
    ),
    Field(
        "ethnicity",
        "民族",
        Kind.CODE,
        Required.ALWAYS,
        None,
        "填名称或代码",
        "汉族",
        code_table="民族",
        group=IDENTITY,
        width=10,
    ),
    Field(
        "nationality",
        "国籍/地区",
        Kind.COUNTRY,
        Required.ALWAYS,
        None,
        "GB/T 2659；港澳台学生填中国香港、中国澳门、中国台湾",
        "中国",
        group=IDENTITY,
        width=12,
        aliases=("国籍", "国籍地区", "国别"),
    ),
    Field(
        "hmt_status",
        "港澳台侨外",
        Kind.CODE,
        Required.ALWAYS,
        None,
        "留空时按证件生成：港澳台证件和810000/820000/830000开头的居住证号为对应同胞，其余居民身份证为“否”",
        "否",
        code_table="港澳台侨外",
        derivable=True,
        group=IDENTITY,
        width=12,
    ),
    Field(
        "political_status",
        "政治面貌",
        Kind.CODE,
        Required.NEVER,
        None,
        "填名称或代码",
        "共青团员",
        code_table="政治面貌",
        group=IDENTITY,
        width=12,
    ),
    Field(
        "health_status",
        "健康状况",
        Kind.CODE,
        Required.ALWAYS,
        None,
        "填名称或代码",
        "健康或良好",
        code_table="健康状况",
        group=IDENTITY,
        width=12,
        aliases=("健康状态",),
    ),
    # 户籍与住址
    Field(
        "household_region",
        "户口所在地行政区划",
        Kind.REGION,
        Required.ALWAYS,
        None,
        "6位县级行政区划代码（GB/T 2260，现行）；留空时按身份证号提示",
        "110105",
        group=PLACES,
        width=16,
        aliases=("户口所在地行政区划码", "户口所在地", "户口所在地区县"),
    ),
    Field(
        "household_type",
        "户口性质",
        Kind.CODE,
        Required.ALWAYS,
        None,
        "农业户口或非农业户口",
        "非农业户口",
        code_table="户口性质",
        group=PLACES,
        width=12,
    ),
    Field(
        "origin_region",
        "生源地行政区划",
        Kind.REGION,
        Required.ALWAYS,
        None,
        "6位县级行政区划代码（GB/T 2260，现行）",
        "110105",
        group=PLACES,
        width=16,
        aliases=("生源地行政区划码", "生源地"),
    ),
    Field(
        "residence_type",
        "学生居住地类型",
        Kind.CODE,
        Required.NEVER,
        None,
        "农村、县城、乡镇非农或城市",
        "城市",
        code_table="学生居住地类型",
        group=PLACES,
        width=14,
    ),
    Field(
        "home_address",
        "家庭现地址",
        Kind.TEXT,
        Required.NEVER,
        100,
        "",
        "北京市朝阳区某某路1号",
        group=PLACES,
        width=30,
        aliases=("家庭住址", "家庭地址"),
    ),
    Field(
        "postcode",
        "邮政编码",
        Kind.POSTCODE,
        Required.NEVER,
        6,
        "6位数字",
        "100020",
        group=PLACES,
        width=10,
        aliases=("邮编",),
    ),
    # 招生信息
    Field(
        "admission_method",
        "招生方式",
        Kind.CODE,
        Required.ALWAYS,
        None,
        "统一招生或自主招生",
        "统一招生",
        code_table="招生方式",
        group=ENROLMENT,
        width=12,
    ),
    Field(
        "admission_target",
        "招生对象",
        Kind.CODE,
        Required.ALWAYS,
        None,
        "填名称或代码",
        "应届初中毕业生",
        code_table="招生对象",
        group=ENROLMENT,
        width=16,
    ),
    Field(
        "student_source",
        "学生来源",
        Kind.CODE,
        Required.ALWAYS,
        None,
        "应届或往届",
        "应届",
        code_table="学生来源",
        group=ENROLMENT,
        width=10,
    ),
    Field(
        "exam_ticket_no",
        "准考证号",
        Kind.SERIAL,
        Required.RULE,
        30,
        "中考准考证号",
        "2014110105001",
        rule="招生方式为统一招生时必填",
        required_when=_is_unified_admission,
        group=ENROLMENT,
        width=16,
    ),
    Field(
        "candidate_no",
        "考生号",
        Kind.SERIAL,
        Required.RULE,
        30,
        "中考考生号",
        "14110105000123",
        rule="招生方式为统一招生时必填",
        required_when=_is_unified_admission,
        group=ENROLMENT,
        width=16,
    ),
    Field(
        "exam_score",
        "考试总分",
        Kind.NUMBER,
        Required.RULE,
        None,
        "0至1000，可有一位小数",
        "520",
        rule="招生方式为统一招生时必填",
        required_when=_is_unified_admission,
        group=ENROLMENT,
        width=10,
        aliases=("中考总分", "考试成绩"),
    ),
    Field(
        "major",
        "专业",
        Kind.MAJOR,
        Required.ALWAYS,
        None,
        "本校开设的专业，填名称或6位专业代码",
        "计算机应用",
        group=ENROLMENT,
        width=18,
        aliases=("专业名称", "专业代码"),
    ),
    Field(
        "direction",
        "专业方向",
        Kind.DIRECTION,
        Required.RULE,
        64,
        "本校在该专业下设置的专业方向",
        "",
        rule="学校为该专业设置了专业方向时必填",
        required_when=_major_has_directions,
        group=ENROLMENT,
        width=16,
    ),
    Field(
        "schooling_length",
        "学制",
        Kind.CODE,
        Required.ALWAYS,
        None,
        "如三年制（代码3）",
        "三年制",
        code_table="学制",
        group=ENROLMENT,
        width=10,
    ),
    Field(
        "enrolment_month",
        "入学年月",
        Kind.MONTH,
        Required.ALWAYS,
        None,
        "可写2014-09、201409或2014年9月",
        "2014-09",
        group=ENROLMENT,
        width=10,
        aliases=("入学时间", "入学日期"),
    ),
    Field(
        "study_mode",
        "学习形式",
        Kind.CODE,
        Required.ALWAYS,
        None,
        "全日制或非全日制",
        "全日制",
        code_table="学习形式",
        group=ENROLMENT,
        width=10,
    ),
    Field(
        "attendance_mode",
        "就读方式",
        Kind.CODE,
        Required.ALWAYS,
        None,
        "走读、住校、借宿或其他",
        "住校",
        code_table="就读方式",
        group=ENROLMENT,
        width=10,
    ),
    Field(
        "student_category",
        "学生类别",
        Kind.CODE,
        Required.ALWAYS,
        None,
        "填名称或代码",
        "普通中专学生",
        code_table="学生类别",
        group=ENROLMENT,
        width=14,
    ),
    Field(
        "joint_type",
        "联招合作类型",
        Kind.CODE,
        Required.NEVER,
        None,
        "留空视为非联合办学",
        "非联合办学",
        code_table="联招合作类型",
        group=ENROLMENT,
        width=14,
    ),
    Field(
        "joint_school_code",
        "联招合作学校代码",
        Kind.SCHOOL_CODE,
        Required.RULE,
        10,
        "合作学校的10位学校标识码",
        "",
        rule="联招合作类型不是非联合办学时必填",
        required_when=_is_joint,
        group=ENROLMENT,
        width=16,
    ),
    Field(
        "joint_form",
        "联招合作办学形式",
        Kind.TEXT,
        Required.RULE,
        50,
        "合作办学的形式",
        "",
        rule="联招合作类型不是非联合办学时必填",
        required_when=_is_joint,
        group=ENROLMENT,
        width=16,
    ),
    Field(
        "staged_mode",
        "分段培养方式",
        Kind.CODE,
        Required.NEVER,
        None,
        "如非分段培养、中高职3+2",
        "非分段培养",
        code_table="分段培养方式",
        group=ENROLMENT,
        width=14,
    ),
    Field(
        "previous_school",
        "毕业学校",
        Kind.TEXT,
        Required.NEVER,
        100,
        "初中或上一所学校全称",
        "北京市第八十中学",
        group=ENROLMENT,
        width=20,
    ),
    Field("grade", "年级", Kind.GRADE, Required.ALWAYS, None, "入学年份，如2014", "2014", group=ENROLMENT, width=8),
    Field(
        "class_name",
        "班级",
        Kind.CLASS,
        Required.NEVER,
        64,
        "本校已建的班级名称",
        "",
        group=ENROLMENT,
        width=14,
        aliases=("班级名称",),
    ),
    # 联系信息
    Field(
        "phone",
        "联系电话",
        Kind.PHONE,
        Required.ALWAYS,
        20,
        "手机号11位，或区号-电话号码",
        "13800138000",
        group=CONTACT,
        width=14,
        aliases=("学生联系电话", "手机号码"),
    ),
    Field(
        "email",
        "电子信箱",
        Kind.EMAIL,
        Required.NEVER,
        60,
        "",
        "zhangsan@example.com",
        group=CONTACT,
        width=20,
        aliases=("电子邮箱", "邮箱"),
    ),
    Field(
        "guardian_name",
        "监护人姓名",
        Kind.NAME,
        Required.ALWAYS,
        50,
        "",
        "张建国",
        group=CONTACT,
        width=12,
        aliases=("家长姓名", "监护人"),
    ),
    Field(
        "guardian_relation",
        "与学生关系",
        Kind.TEXT,
        Required.ALWAYS,
        10,
        "如父亲、母亲、祖父、其他",
        "父亲",
        group=CONTACT,
        width=10,
        aliases=("监护人关系", "监护人与学生关系"),
    ),
    Field(
        "guardian_phone",
        "监护人联系电话",
        Kind.PHONE,
        Required.ALWAYS,
        20,
        "手机号11位，或区号-电话号码",
        "13900139000",
        group=CONTACT,
        width=14,
        aliases=("家长联系电话", "监护人电话"),
    ),
)

FIELDS_BY_KEY: dict[str, Field] = {f.key: f for f in FIELDS}

# Headers arrive as "★姓名", "* 姓名", "姓名(必填)", "姓 名": these go before matching.
_HEADER_NOISE = re.compile(r"[★☆*＊※\s\u3000]|[（(]\s*必填\s*[)）]")


def normalise_header(text: object) -> str:
    return _HEADER_NOISE.sub("", str(text or "")).replace("（", "(").replace("）", ")").strip()


@cache
def header_index() -> dict[str, str]:
    """Normalised header text → field key (labels, aliases and the keys themselves)."""
    index: dict[str, str] = {}
    for f in FIELDS:
        for text in (f.key, f.label, *f.aliases):
            index.setdefault(normalise_header(text), f.key)
    return index


def field_for_header(text: object) -> Field | None:
    key = header_index().get(normalise_header(text))
    return FIELDS_BY_KEY[key] if key else None


def required_columns() -> tuple[Field, ...]:
    """Fields whose column must be present in an uploaded file: always required and not derivable."""
    return tuple(f for f in FIELDS if f.required is Required.ALWAYS and not f.derivable)


def fields_markdown() -> str:
    """The catalog as a Markdown table, for the README and the docs."""
    lines = ["| 采集指标 | 键 | 是否必填 | 长度 | 说明 | 示例 |", "|---|---|---|---|---|---|"]
    for f in FIELDS:
        help_text = f.help + (f"（字典：{f.code_table}）" if f.code_table else "")
        lines.append(
            f"| {f.label} | `{f.key}` | {f.requirement_text} | {f.max_length or ''} | {help_text} | {f.example} |"
        )
    return "\n".join(lines)
