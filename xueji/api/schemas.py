"""What the API reads and writes: errors, pages, and the records of each part, with personal data masked for the
roles that may not see it (the same rule as the web pages)."""

from __future__ import annotations

import datetime
from typing import Annotated, Any

from ninja import Path, Schema
from pydantic import ConfigDict, Field, create_model

from xueji.admissions.selectors import can_see_personal_data, mask_id_number, mask_student_no, shown_field_value
from xueji.orgs.models import User
from xueji.records.catalog import FIELDS, Kind
from xueji.records.validator import FieldError

MAX_ID = 2**63 - 1  # ids are 64-bit: a larger number is refused (422), never sent to the database
# A record's id in a path: a positive 64-bit integer.
ObjectId = Annotated[int, Path(..., ge=1, le=MAX_ID)]


class FieldErrorOut(Schema):
    field: str = Field(description="字段键（采集指标的 key），或请求参数名")
    label: str = Field("", description="字段中文名")
    value: str | None = Field(None, description="收到的值")
    message: str


class ErrorOut(Schema):
    detail: str
    errors: list[FieldErrorOut] = []


# Every operation answers these besides its success: no token (401), a role that does not use the operation (403),
# an object outside the user's scope (404), bad parameters or a record the validator refuses (400 / 422).
ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def field_errors(errors: list[FieldError]) -> list[FieldErrorOut]:
    return [FieldErrorOut(field=e.key, label=e.label, value=e.value, message=e.message) for e in errors]


def masked_data(user: User, data: dict[str, Any]) -> dict[str, Any]:
    """A record's collected fields as the user may see them: ID numbers masked, phones, e-mail, address, postcode
    and guardian hidden from everyone but the registrar (as on the 招生信息 detail page)."""
    if can_see_personal_data(user):
        return dict(data)
    shown: dict[str, Any] = {}
    for f in FIELDS:
        if f.key not in data:
            continue
        value = data[f.key]
        shown[f.key] = shown_field_value(f, str(value), False) if value not in (None, "") else value
    return shown


def shown_id(user: User, number: str) -> str:
    return number if can_see_personal_data(user) else mask_id_number(number)


def shown_student_no(user: User, number: str | None) -> str:
    return (number or "") if can_see_personal_data(user) else mask_student_no(number)


# ---------------------------------------------------------------- organisations


class SchoolOut(Schema):
    id: int
    code: str = Field(description="学校标识码")
    name: str
    district_code: str
    district_name: str
    ownership: str = Field(description="public 公办 / private 民办")
    is_active: bool


class DirectionOut(Schema):
    id: int
    name: str


class MajorOut(Schema):
    id: int = Field(description="开设专业的 id（用于 major 过滤）")
    school_id: int
    code: str = Field(description="专业代码（6位）")
    name: str
    directions: list[DirectionOut]


class ClassOut(Schema):
    id: int
    school_id: int
    grade: int
    major_id: int
    major_code: str
    name: str
    head_teacher: str


class SchoolPage(Schema):
    items: list[SchoolOut]
    next_cursor: str | None


class MajorPage(Schema):
    items: list[MajorOut]
    next_cursor: str | None


class ClassPage(Schema):
    items: list[ClassOut]
    next_cursor: str | None


# ---------------------------------------------------------------- admissions


ADMISSION_IN_DOC = (
    "一条招生信息：键为采集指标（与导入模板的列相同），值一律为文本，可填代码或名称（如“01”或“汉族”），"
    "日期为 YYYY-MM-DD。性别、出生日期等可由身份证件号推导的字段可以不填。"
)


def _field_type(kind: Kind) -> Any:
    return str | None


# The body of 新增招生信息: one optional text per collected field, described by the field catalog. The validator,
# not this schema, decides what is required and valid, so the API refuses exactly what the form refuses.
AdmissionIn = create_model(  # type: ignore[call-overload]
    "AdmissionIn",
    __config__=ConfigDict(extra="forbid", json_schema_extra={"description": ADMISSION_IN_DOC}),
    **{
        f.key: (
            _field_type(f.kind),
            Field(None, title=f.label, description=" ".join(p for p in (f.requirement_text, f.help) if p)),
        )
        for f in FIELDS
    },
)


class AdmissionOut(Schema):
    id: int
    school_id: int
    school_code: str
    grade: int
    name: str
    id_type: str
    id_number: str = Field(description="身份证件号；学籍管理员以外的角色只见掩码")
    gender: str
    birth_date: datetime.date | None
    major_id: int
    major_code: str
    major_name: str
    direction: str | None
    admission_method: str
    state: str = Field(description="pending 待报到 / checked_in 已报到")
    created_at: datetime.datetime
    updated_at: datetime.datetime


class AdmissionDetailOut(AdmissionOut):
    data: dict[str, Any] = Field(description="全部采集指标（键见 AdmissionIn）；个人信息按角色掩码")


class AdmissionCreated(Schema):
    record: AdmissionDetailOut
    warnings: list[FieldErrorOut]


class AdmissionPage(Schema):
    items: list[AdmissionOut]
    next_cursor: str | None


class ImportJobOut(Schema):
    id: int
    school_id: int
    file_name: str
    status: str = Field(description="queued / running / done / failed")
    status_label: str
    total_rows: int | None
    processed_rows: int
    created_count: int
    updated_count: int
    failed_count: int
    percent: int
    error_message: str
    has_failure_file: bool
    created_at: datetime.datetime
    finished_at: datetime.datetime | None


# ---------------------------------------------------------------- students


class StudentOut(Schema):
    id: int
    school_id: int
    school_code: str
    grade: int
    class_id: int | None
    class_name: str | None
    name: str
    id_type: str
    id_number: str = Field(description="学籍管理员以外的角色只见掩码")
    gender: str
    birth_date: datetime.date | None
    major_id: int
    major_code: str
    major_name: str
    direction: str | None
    admission_method: str
    state: str = Field(description="unsubmitted / review_school / review_district / review_city / approved")
    state_label: str
    source: str = Field(description="checkin 新生报到 / legacy 原系统迁入")
    student_no: str = Field(description="学籍号（审核通过后）；学籍管理员以外的角色只见掩码")
    return_reason: str


class ReviewActionOut(Schema):
    action: str
    from_state: str
    to_state: str
    actor: str
    reason: str
    at: datetime.datetime


class StudentDetailOut(StudentOut):
    data: dict[str, Any]
    history: list[ReviewActionOut]


class StudentPage(Schema):
    items: list[StudentOut]
    next_cursor: str | None


class StudentIds(Schema):
    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(
        min_length=1, max_length=1000, description="学生 id，最多1000个"
    )


class ReviewIn(StudentIds):
    action: str = Field(pattern="^(approve|return)$", description="approve 审核通过 / return 退回")
    reason: str = Field("", max_length=500, description="退回原因（退回必填）；区县通过名册核对未通过的学生也须填写")


class HandledOut(Schema):
    id: int
    name: str
    state_label: str


class RefusedOut(Schema):
    id: int
    name: str
    reasons: list[str]


class TransitionOut(Schema):
    done: list[int] = Field(description="已处理的学生 id")
    already_handled: list[HandledOut] = Field(description="已不在该操作所需状态（已被他人处理）的学生，未重复操作")
    refused: list[RefusedOut] = Field(description="未通过检查、未处理的学生及原因")
    summary: str


# ---------------------------------------------------------------- roster and reconciliation


class RosterLoadOut(Schema):
    id: int
    intake_year: int
    file_name: str
    row_count: int
    is_current: bool
    loaded_at: datetime.datetime


class FindingOut(Schema):
    category: str = Field(description="match / name_mismatch / no_roster / wrong_school / not_checked_in")
    label: str
    likely_typo: bool
    resolved_by_former_name: bool
    school_code: str | None = Field(description="登记学校的标识码（名册有、系统无时为空）")
    name: str | None
    id_number: str = Field(description="学籍管理员以外的角色只见掩码")
    candidate_no: str
    exam_ticket_no: str
    admission_id: int | None
    student_id: int | None
    checked_in: bool
    roster_name: str | None
    roster_school_code: str | None
    roster_major: str | None
    roster_method: str | None


class ReconcileOut(Schema):
    load: RosterLoadOut | None = Field(description="所用的当前录取名册；尚未导入时为空")
    counts: dict[str, int] = Field(description="各类别人数（过滤类别之前）")
    items: list[FindingOut]
    next_cursor: str | None
