"""招生信息: the list, one record, 新增 through the same validator and service as the web form, and the import
(upload, job status, failure workbook) through the same service as the web's 导入名单."""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest
from ninja import File, Query, Router, Status, UploadedFile
from pydantic import Field

from xueji.admissions import imports, services
from xueji.admissions.models import AdmissionRecord, ImportJob
from xueji.admissions.selectors import AdmissionQuery, admissions_query, admissions_visible_to, import_jobs_visible_to
from xueji.api.auth import ALL_ROLES, SCHOOL_ROLES, api_user
from xueji.api.errors import ApiError
from xueji.api.pagination import keyset
from xueji.api.routers.orgs import SchoolQuery, school_in_scope
from xueji.api.schemas import (
    ERRORS,
    MAX_ID,
    AdmissionCreated,
    AdmissionDetailOut,
    AdmissionIn,
    AdmissionOut,
    AdmissionPage,
    ErrorOut,
    FieldErrorOut,
    ImportJobOut,
    ObjectId,
    field_errors,
    masked_data,
    shown_id,
)
from xueji.orgs.models import Role, School, User
from xueji.orgs.selectors import schools_visible_to
from xueji.records.catalog import FIELDS
from xueji.records.validator import ERROR
from xueji.records.workbook import WorkbookError

router = Router()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class AdmissionFilters(SchoolQuery):
    grade: int | None = Field(None, ge=1900, le=2999, description="年级（入学年份）")
    major: int | None = Field(None, ge=1, le=MAX_ID, description="开设专业 id（见 /majors）")
    method: str = Field("", max_length=2, description="招生方式代码")
    state: str = Field("", pattern="^(|pending|checked_in)$", description="pending 待报到 / checked_in 已报到")
    q: str = Field("", max_length=40, description="姓名（前缀）或身份证件号（完整）")


def admission_out(user: User, record: AdmissionRecord) -> AdmissionOut:
    return AdmissionOut(
        id=record.pk,
        school_id=record.school_id,
        school_code=record.school.code,
        grade=record.grade,
        name=record.name,
        id_type=record.id_type,
        id_number=shown_id(user, record.id_number),
        gender=record.gender,
        birth_date=record.birth_date,
        major_id=record.offering_id,
        major_code=record.offering.major.code,
        major_name=record.offering.major.name,
        direction=record.direction.name if record.direction else None,
        admission_method=record.admission_method,
        state=record.state,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


def admission_detail_out(user: User, record: AdmissionRecord) -> AdmissionDetailOut:
    return AdmissionDetailOut(**admission_out(user, record).model_dump(), data=masked_data(user, record.data))


def job_out(job: ImportJob) -> ImportJobOut:
    return ImportJobOut(
        id=job.pk,
        school_id=job.school_id,
        file_name=job.original_name,
        status=job.status,
        status_label=str(ImportJob.Status(job.status).label),
        total_rows=job.total_rows,
        processed_rows=job.processed_rows,
        created_count=job.created_count,
        updated_count=job.updated_count,
        failed_count=job.failed_count,
        percent=job.percent,
        error_message=job.error_message,
        has_failure_file=bool(job.failure_file),
        created_at=job.created_at,
        finished_at=job.finished_at,
    )


def _own_school(user: User) -> School:
    school = schools_visible_to(user).first()
    if school is None:
        raise Http404
    return school


@router.get("", response={200: AdmissionPage, **ERRORS}, summary="招生信息列表")
def admissions_list(request: HttpRequest, filters: Query[AdmissionFilters]) -> AdmissionPage:
    user = api_user(request, *ALL_ROLES)
    query = AdmissionQuery(
        school_id=school_in_scope(user, filters.school),
        grade=filters.grade,
        offering_id=filters.major,
        admission_method=filters.method,
        state=filters.state,
        text=filters.q,
    )
    records = admissions_query(user, query).select_related("school", "offering__major", "direction")
    rows, next_cursor = keyset(records, cursor=filters.cursor, limit=filters.limit)
    return AdmissionPage(items=[admission_out(user, r) for r in rows], next_cursor=next_cursor)


@router.post("", response={201: AdmissionCreated, **ERRORS}, summary="新增一条招生信息")
def admission_create(request: HttpRequest, body: AdmissionIn) -> Status[AdmissionCreated | ErrorOut]:  # type: ignore[valid-type]
    """与网页“新增”相同的校验和一人一籍规则。未保存时返回 422，errors 列出每个字段的错误（field 为采集指标的键，
    message 与网页表单显示的文字相同）；保存成功时 warnings 列出提示。"""
    user = api_user(request, Role.REGISTRAR)
    school = _own_school(user)
    values = body.model_dump()  # type: ignore[attr-defined]
    raw = {f.key: (values.get(f.key) or None) for f in FIELDS}
    result = services.admission_save(actor=user, school=school, raw=raw, request=request)
    if not result.ok:
        errors = [e for e in result.errors if e.severity == ERROR]
        return Status(422, ErrorOut(detail=f"招生信息未保存：{len(errors)} 处错误", errors=field_errors(errors)))
    assert result.record is not None
    record = AdmissionRecord.objects.select_related("school", "offering__major", "direction").get(pk=result.record.pk)
    warnings: list[FieldErrorOut] = field_errors(result.errors)
    return Status(201, AdmissionCreated(record=admission_detail_out(user, record), warnings=warnings))


@router.post("/imports", response={202: ImportJobOut, **ERRORS}, summary="上传文件、创建导入任务")
def import_create(request: HttpRequest, file: File[UploadedFile]) -> Status[ImportJobOut]:
    """导入名单：文件（xlsx、xls、ods 或 csv，列同导入模板）的大小和类型当即检查（不符返回 422），随后在后台导入；
    用返回的任务 id 查询进度和结果。"""
    user = api_user(request, Role.REGISTRAR)
    school = _own_school(user)
    name = file.name or "上传文件"
    try:
        job = imports.import_job_create(actor=user, school=school, stream=file, file_name=name)  # type: ignore[arg-type]
    except WorkbookError as error:
        detail = f"无法导入“{name}”：{error.message}"
        raise ApiError(
            422, detail, [{"field": "file", "label": "文件", "value": name, "message": error.message}]
        ) from error
    job.refresh_from_db()
    return Status(202, job_out(job))


@router.get("/imports/{job_id}", response={200: ImportJobOut, **ERRORS}, summary="导入任务的进度与结果")
def import_status(request: HttpRequest, job_id: ObjectId) -> ImportJobOut:
    user = api_user(request, *SCHOOL_ROLES)
    job = import_jobs_visible_to(user).filter(pk=job_id).first()
    if job is None:
        raise Http404
    return job_out(job)


@router.get(
    "/imports/{job_id}/failures",
    response={200: None, **ERRORS},
    summary="导入失败数据（xlsx，最后一列为失败原因）",
    openapi_extra={
        "responses": {
            200: {
                "description": "失败数据工作簿",
                "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def import_failures(request: HttpRequest, job_id: ObjectId) -> FileResponse:
    user = api_user(request, Role.REGISTRAR)
    job = import_jobs_visible_to(user).filter(pk=job_id).first()
    path = imports.import_failure_path(job) if job is not None else None
    if job is None or path is None:
        raise Http404
    stem = job.original_name.rsplit(".", 1)[0]
    return FileResponse(path.open("rb"), as_attachment=True, filename=f"{stem}-失败数据.xlsx", content_type=XLSX)


@router.get("/{record_id}", response={200: AdmissionDetailOut, **ERRORS}, summary="一条招生信息")
def admission_detail(request: HttpRequest, record_id: ObjectId) -> AdmissionDetailOut:
    user = api_user(request, *ALL_ROLES)
    record = (
        admissions_visible_to(user)
        .select_related("school", "offering__major", "direction")
        .filter(pk=record_id)
        .first()
    )
    if record is None:
        raise Http404
    return admission_detail_out(user, record)
