"""学籍: the list with 学籍管理's filters, one student with its review history, 提交 and the review actions, all
through the one transition function (``students.workflow.transition_apply``)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from ninja import Query, Router
from ninja.errors import HttpError
from pydantic import Field

from xueji.api.auth import ALL_ROLES, REVIEWERS, api_user
from xueji.api.errors import ApiError
from xueji.api.pagination import keyset
from xueji.api.routers.orgs import SchoolQuery, school_in_scope
from xueji.api.schemas import (
    ERRORS,
    MAX_ID,
    HandledOut,
    ObjectId,
    RefusedOut,
    ReviewActionOut,
    ReviewIn,
    StudentDetailOut,
    StudentIds,
    StudentOut,
    StudentPage,
    TransitionOut,
    masked_data,
    shown_id,
    shown_student_no,
)
from xueji.orgs.models import Role, User
from xueji.students.models import State, Student
from xueji.students.selectors import student_filter, students_visible_to
from xueji.students.services import submit_check
from xueji.students.workflow import Action, TransitionResult, transition_apply

router = Router()
STATE_FILTER = "^(|unsubmitted|review_school|review_district|review_city|approved|in_review)$"


class StudentFilters(SchoolQuery):
    grade: int | None = Field(None, ge=1900, le=2999, description="年级（入学年份）")
    class_id: int | None = Field(None, ge=1, le=MAX_ID, alias="class", description="班级 id（见 /classes）")
    major: int | None = Field(None, ge=1, le=MAX_ID, description="开设专业 id（见 /majors）")
    state: str = Field("", pattern=STATE_FILTER, description="学籍状态；in_review 为三级审核中的任一级")
    source: str = Field("", pattern="^(|checkin|legacy)$", description="checkin 新生报到 / legacy 原系统迁入")
    q: str = Field("", max_length=40, description="姓名（前缀）或身份证件号（完整）")


def student_out(user: User, s: Student) -> StudentOut:
    return StudentOut(
        id=s.pk,
        school_id=s.school_id,
        school_code=s.school.code,
        grade=s.grade,
        class_id=s.school_class_id,
        class_name=s.school_class.name if s.school_class else None,
        name=s.name,
        id_type=s.id_type,
        id_number=shown_id(user, s.id_number),
        gender=s.gender,
        birth_date=s.birth_date,
        major_id=s.offering_id,
        major_code=s.offering.major.code,
        major_name=s.offering.major.name,
        direction=s.direction.name if s.direction else None,
        admission_method=s.admission_method,
        state=s.state,
        state_label=str(State(s.state).label),
        source=s.source,
        student_no=shown_student_no(user, s.student_no),
        return_reason=s.return_reason,
    )


@router.get("", response={200: StudentPage, **ERRORS}, summary="学籍列表（学籍管理的过滤条件）")
def students_list(request: HttpRequest, filters: Query[StudentFilters]) -> StudentPage:
    user = api_user(request, *ALL_ROLES)
    params = {
        "school": str(school_in_scope(user, filters.school) or ""),
        "grade": str(filters.grade or ""),
        "class": str(filters.class_id or ""),
        "major": str(filters.major or ""),
        "state": filters.state,
        "source": filters.source,
        "q": filters.q,
    }
    records = student_filter(students_visible_to(user), params).select_related(
        "school", "school_class", "offering__major", "direction"
    )
    rows, next_cursor = keyset(records, cursor=filters.cursor, limit=filters.limit)
    return StudentPage(items=[student_out(user, s) for s in rows], next_cursor=next_cursor)


@router.post("/submit", response={200: TransitionOut, **ERRORS}, summary="提交审核（学籍管理员）")
def students_submit(request: HttpRequest, body: StudentIds) -> TransitionOut:
    """提交所列学生审核：与网页“按条件提交”相同的检查（信息完整有效、一人一籍）；
    未通过检查的学生列入 refused 并注明原因，仍为未提交。任一 id 不在管理范围内时整个请求返回 404，不做任何处理。"""
    user = api_user(request, Role.REGISTRAR)
    students = _chosen(user, body.ids)
    try:
        result = transition_apply(
            actor=user, action=Action.SUBMIT, students=students, check=submit_check, request=request
        )
    except ValidationError as error:
        raise HttpError(422, "；".join(error.messages)) from error
    return transition_out(result)


@router.post("/review", response={200: TransitionOut, **ERRORS}, summary="审核：通过或退回（校领导、区县、市级）")
def students_review(request: HttpRequest, body: ReviewIn) -> TransitionOut:
    """校领导审核“审核中（学校）”、区县审核“审核中（区县）”、市级审核“审核中（市级）”的学生；不在该状态的学生列入
    already_handled，不重复操作。退回必须填写原因。"""
    user = api_user(request, *REVIEWERS)
    action = Action(body.action)
    students = _chosen(user, body.ids)
    try:
        result = transition_apply(actor=user, action=action, students=students, reason=body.reason, request=request)
    except ValidationError as error:
        detail = "；".join(error.messages)
        fields = error.message_dict if hasattr(error, "error_dict") else {}
        errors: list[dict[str, object]] = [
            {"field": key, "label": "原因", "value": body.reason, "message": "；".join(messages)}
            for key, messages in fields.items()
        ]
        raise ApiError(422, detail, errors) from error
    return transition_out(result)


@router.get("/{student_id}", response={200: StudentDetailOut, **ERRORS}, summary="一名学生及其审核记录")
def student_detail(request: HttpRequest, student_id: ObjectId) -> StudentDetailOut:
    user = api_user(request, *ALL_ROLES)
    student = (
        students_visible_to(user)
        .select_related("school", "school_class", "offering__major", "direction")
        .filter(pk=student_id)
        .first()
    )
    if student is None:
        raise Http404
    history = [
        ReviewActionOut(
            action=a.action,
            from_state=a.from_state,
            to_state=a.to_state,
            actor=a.actor.username if a.actor else "",
            reason=a.reason,
            at=a.at,
        )
        for a in student.actions.select_related("actor")
    ]
    return StudentDetailOut(
        **student_out(user, student).model_dump(), data=masked_data(user, student.data), history=history
    )


def _chosen(user: User, ids: list[int]) -> QuerySet[Student]:
    """The students named, all of them in the user's scope: one id outside it (or unknown) is a 404 for the whole
    request, so nothing is done half."""
    wanted = set(ids)
    chosen = students_visible_to(user).filter(pk__in=wanted)
    found = set(chosen.values_list("pk", flat=True))
    if found != wanted:
        missing = "、".join(str(i) for i in sorted(wanted - found)[:20])
        raise HttpError(404, f"学生不存在，或不在您的管理范围内：{missing}")
    return chosen


def transition_out(result: TransitionResult) -> TransitionOut:
    return TransitionOut(
        done=result.done,
        already_handled=[HandledOut(id=pk, name=name, state_label=state) for pk, name, state in result.already_handled],
        refused=[RefusedOut(id=pk, name=name, reasons=reasons) for pk, name, reasons in result.refused],
        summary=result.summary,
    )
