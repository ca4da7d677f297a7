"""招生信息管理: the list, 新增 / 编辑 / 删除, the template, the pre-check and the background import.

Thin like every view here: check the role (``roles_required``), start from a scope function
(``xueji.admissions.selectors``), call one service.
"""

from __future__ import annotations

import io
from urllib.parse import quote, urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from xueji.admissions import imports, services
from xueji.admissions.forms import DERIVED_KEYS, AdmissionForm, form_groups, record_initial, refresh_derived
from xueji.admissions.models import AdmissionRecord, ImportJob
from xueji.admissions.precheck import annotated_path, precheck_run
from xueji.admissions.selectors import (
    AdmissionQuery,
    admissions_query,
    admissions_visible_to,
    can_see_personal_data,
    import_jobs_visible_to,
    keyset_page,
    mask_id_number,
    shown_field_value,
)
from xueji.orgs.models import Role, School
from xueji.orgs.selectors import offerings_visible_to, school_catalog, schools_visible_to
from xueji.orgs.views import AuthedRequest, roles_required
from xueji.records.catalog import FIELDS, Kind
from xueji.records.codes import code_table, country_table
from xueji.records.idnumber import check_document
from xueji.records.template import write_template
from xueji.records.workbook import WorkbookError

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PRECHECK_SESSION_KEY = "precheck_tokens"
ROWS_SHOWN = 500  # the page lists this many problem rows; the annotated workbook has them all
PAGE_SIZE = 50
ALL_ROLES = (Role.REGISTRAR, Role.SCHOOL_LEADER, Role.DISTRICT_REVIEWER, Role.CITY_ADMIN)


def _attachment(content: bytes, file_name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(file_name)}"
    return response


def _own_school(request: AuthedRequest) -> School:
    return get_object_or_404(schools_visible_to(request.user))


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


# ---------------------------------------------------------------- the list


@roles_required(*ALL_ROLES)
def index(request: AuthedRequest) -> HttpResponse:
    user = request.user
    get = request.GET
    query = AdmissionQuery(
        school_id=_int(get.get("school")),
        grade=_int(get.get("grade")),
        offering_id=_int(get.get("major")),
        admission_method=get.get("method", "")[:2],
        state=get.get("state", "")[:16],
        text=get.get("q", "")[:40],
    )
    records = admissions_query(user, query)
    rows, next_after = keyset_page(records, after=_int(get.get("after")), size=PAGE_SIZE)
    show_personal = can_see_personal_data(user)
    methods = dict(code_table("招生方式").items)
    for row in rows:
        row.shown_id = row.id_number if show_personal else mask_id_number(row.id_number)  # type: ignore[attr-defined]
        row.method_name = methods.get(row.admission_method, row.admission_method)  # type: ignore[attr-defined]
    params = {k: v for k, v in get.items() if k != "after" and v}
    schools = schools_visible_to(user).order_by("code")
    grades = sorted(set(admissions_visible_to(user).values_list("grade", flat=True).distinct()), reverse=True)
    context = {
        "rows": rows,
        "total": records.count(),
        "next_url": f"?{urlencode({**params, 'after': next_after})}" if next_after else None,
        "first_url": f"?{urlencode(params)}" if get.get("after") else None,
        "filters": get,
        "schools": schools if user.role in (Role.DISTRICT_REVIEWER, Role.CITY_ADMIN) else None,
        "grades": grades,
        "offerings": offerings_visible_to(user)
        .select_related("major", "school")
        .order_by("school__code", "major__code"),
        "methods": code_table("招生方式").items,
        "states": AdmissionRecord.State.choices,
        "is_registrar": user.role == Role.REGISTRAR,
        "show_school": user.role in (Role.DISTRICT_REVIEWER, Role.CITY_ADMIN),
    }
    return render(request, "admissions/list.html", context)


# ---------------------------------------------------------------- one record


def _display_value(key: str, value: object) -> str:
    if value in (None, ""):
        return ""
    spec = next(f for f in FIELDS if f.key == key)
    if spec.kind is Kind.CODE and spec.code_table:
        table = code_table(spec.code_table)
        return table.name_of(str(value)) if value in table else str(value)
    if spec.kind is Kind.COUNTRY:
        countries = country_table()
        return countries.name_of(str(value)) if value in countries else str(value)
    return str(value)


@roles_required(*ALL_ROLES)
def record_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    record = get_object_or_404(admissions_visible_to(request.user).select_related("school", "offering__major"), pk=pk)
    show_personal = can_see_personal_data(request.user)
    groups: dict[str, list[tuple[str, str]]] = {}
    for f in FIELDS:
        value = _display_value(f.key, record.data.get(f.key))
        value = shown_field_value(f, value, show_personal)
        groups.setdefault(f.group or "其他", []).append((f.label, value))
    return render(
        request,
        "admissions/detail.html",
        {
            "record": record,
            "groups": list(groups.items()),
            "can_edit": request.user.role == Role.REGISTRAR and record.state == AdmissionRecord.State.PENDING,
        },
    )


def _form_page(request: AuthedRequest, form: AdmissionForm, record: AdmissionRecord | None) -> HttpResponse:
    return render(request, "admissions/form.html", {"form": form, "groups": form_groups(form), "record": record})


@roles_required(Role.REGISTRAR)
def record_add(request: AuthedRequest) -> HttpResponse:
    school = _own_school(request)
    catalog = school_catalog(school)
    if request.method != "POST":
        initial = {"id_type": "1", "nationality": "CHN"}
        return _form_page(request, AdmissionForm(None, catalog=catalog, initial=initial), None)
    form = AdmissionForm(request.POST, catalog=catalog)
    result = services.admission_save(actor=request.user, school=school, raw=form.raw(), request=request)
    if not result.ok:
        for error in result.errors:
            if error.severity == "error":
                form.add_error(error.key if error.key in form.fields else None, error.message)
        return _form_page(request, form, None)
    assert result.record is not None
    messages.success(request, f"已新增：{result.record.name}")
    return redirect("admissions:index")


def _editable(request: AuthedRequest, pk: int) -> AdmissionRecord:
    record = get_object_or_404(admissions_visible_to(request.user), pk=pk)
    if record.state != AdmissionRecord.State.PENDING:
        raise PermissionDenied("已报到的招生信息不能修改")
    return record


@roles_required(Role.REGISTRAR)
def record_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    school = _own_school(request)
    record = _editable(request, pk)
    catalog = school_catalog(school)
    if request.method != "POST":
        return _form_page(request, AdmissionForm(None, catalog=catalog, initial=record_initial(record)), record)
    form = AdmissionForm(request.POST, catalog=catalog)
    result = services.admission_save(actor=request.user, school=school, raw=form.raw(), record=record, request=request)
    if not result.ok:
        for error in result.errors:
            if error.severity == "error":
                form.add_error(error.key if error.key in form.fields else None, error.message)
        return _form_page(request, form, record)
    messages.success(request, f"已保存：{record.name}")
    return redirect("admissions:index")


@require_POST
@roles_required(Role.REGISTRAR)
def record_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    record = _editable(request, pk)
    try:
        services.admission_delete(actor=request.user, record=record, request=request)
    except services.AdmissionNotEditable as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"已删除：{record.name}（{mask_id_number(record.id_number)}）")
    return redirect("admissions:index")


@require_POST
@roles_required(Role.REGISTRAR)
def record_form_refresh(request: AuthedRequest) -> HttpResponse:
    """htmx, for 新增/编辑招生信息 and 编辑学籍 alike: as the ID number is typed (or the major chosen), refill the
    derived fields that are blank or still hold what the previous number gave (refresh_derived), and the
    direction drop-down, and say at once what is wrong with the number."""
    school = _own_school(request)
    catalog = school_catalog(school)
    data = request.POST.copy()
    id_type = data.get("id_type") or "1"
    number = (data.get("id_number") or "").strip()
    hint = ""
    hint_ok = False
    derived_from = data.get("derived_from") or ""
    if number:
        result = check_document(id_type, number)
        if result.errors:
            hint = "；".join(result.errors)
        else:
            hint_ok = True
            hint = "证件号有效" + ("；" + "；".join(result.warnings) if result.warnings else "")
            derived_from = refresh_derived(data, id_type, number) or derived_from
    form = AdmissionForm(data, catalog=catalog)
    rows = {row.spec.key: row for _, group in form_groups(form) for row in group}
    swapped = [rows[key] for key in (*DERIVED_KEYS, "direction")]
    return render(
        request,
        "admissions/form_refresh.html",
        {"hint": hint, "hint_ok": hint_ok, "rows": swapped, "derived_from": derived_from},
    )


# ---------------------------------------------------------------- template and pre-check


@roles_required(*ALL_ROLES)
def template_download(request: AuthedRequest) -> HttpResponse:
    """A school's own users get its majors, directions, grades and classes as drop-downs."""
    buffer = io.BytesIO()
    if request.user.role in (Role.REGISTRAR, Role.SCHOOL_LEADER):
        school = _own_school(request)
        write_template(buffer, school_catalog(school))
        name = f"招生导入模板-{school.name}.xlsx"
    else:
        write_template(buffer, None)
        name = "招生导入模板.xlsx"
    return _attachment(buffer.getvalue(), name)


@require_POST
@roles_required(Role.REGISTRAR)
def precheck(request: AuthedRequest) -> HttpResponse:
    school = _own_school(request)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "请选择要检查的文件（xlsx、xls、ods 或 csv）")
        return redirect("admissions:import")
    result = precheck_run(school=school, stream=upload, file_name=upload.name or "上传文件")
    if result.annotated:
        tokens = request.session.get(PRECHECK_SESSION_KEY, [])[-9:]
        request.session[PRECHECK_SESSION_KEY] = [*tokens, result.token]
    report = result.report
    return render(
        request,
        "admissions/precheck.html",
        {
            "report": report,
            "rows": report.rows[:ROWS_SHOWN],
            "more_rows": max(0, len(report.rows) - ROWS_SHOWN),
            "rows_ok": report.rows_checked - report.rows_with_errors,
            "token": result.token if result.annotated else None,
        },
    )


@roles_required(Role.REGISTRAR)
def precheck_annotated(request: AuthedRequest, token: str) -> FileResponse:
    # Only the user whose session ran the check holds the token; anyone else gets 404.
    if token not in request.session.get(PRECHECK_SESSION_KEY, []):
        raise Http404
    path = annotated_path(token)
    if not path.exists():
        raise Http404
    return FileResponse(path.open("rb"), as_attachment=True, filename="检查结果.xlsx", content_type=XLSX)


# ---------------------------------------------------------------- the import (导入名单)

JOBS_SHOWN = 20


def _jobs_context(request: AuthedRequest) -> dict[str, object]:
    jobs = list(import_jobs_visible_to(request.user).select_related("uploaded_by")[:JOBS_SHOWN])
    for job in jobs:
        job.can_rerun = imports.import_job_can_rerun(job)  # type: ignore[attr-defined]
    return {
        "jobs": jobs,
        "active": any(j.status in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING) for j in jobs),
        "is_registrar": request.user.role == Role.REGISTRAR,
    }


@roles_required(Role.REGISTRAR, Role.SCHOOL_LEADER)
def import_page(request: AuthedRequest) -> HttpResponse:
    _own_school(request)
    return render(request, "admissions/import.html", _jobs_context(request))


@roles_required(Role.REGISTRAR, Role.SCHOOL_LEADER)
def import_jobs(request: AuthedRequest) -> HttpResponse:
    """htmx: the 导入结果 table, polled every second while a job is queued or running."""
    return render(request, "admissions/import_jobs.html", _jobs_context(request))


@require_POST
@roles_required(Role.REGISTRAR)
def import_upload(request: AuthedRequest) -> HttpResponse:
    school = _own_school(request)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "请选择要导入的文件（xlsx、xls、ods 或 csv）")
        return redirect("admissions:import")
    try:
        job = imports.import_job_create(
            actor=request.user,
            school=school,
            stream=upload,  # type: ignore[arg-type]
            file_name=upload.name or "上传文件",
        )
    except WorkbookError as error:
        messages.error(request, f"无法导入“{upload.name}”：{error.message}")
        return redirect("admissions:import")
    messages.success(request, f"已收到“{job.original_name}”，正在后台导入，进度见下方导入结果。")
    return redirect("admissions:import")


@roles_required(Role.REGISTRAR)
def import_failures(request: AuthedRequest, pk: int) -> FileResponse:
    job = get_object_or_404(import_jobs_visible_to(request.user), pk=pk)
    path = imports.import_failure_path(job)
    if path is None:
        raise Http404
    stem = job.original_name.rsplit(".", 1)[0]
    return FileResponse(path.open("rb"), as_attachment=True, filename=f"{stem}-失败数据.xlsx", content_type=XLSX)


@require_POST
@roles_required(Role.REGISTRAR)
def import_rerun(request: AuthedRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(import_jobs_visible_to(request.user), pk=pk)
    if imports.import_job_requeue(job.pk):
        messages.success(request, f"“{job.original_name}”已重新排队，将从中断处继续。")
    else:
        messages.error(request, f"“{job.original_name}”不能重新运行：只有因系统错误中断且文件仍在的任务可以重新运行。")
    return redirect("admissions:import")
