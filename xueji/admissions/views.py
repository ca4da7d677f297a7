"""招生信息管理: the import template and the pre-check (开始检查). The admission list and import come next."""

from __future__ import annotations

import io
from urllib.parse import quote

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from xueji.admissions.precheck import annotated_path, precheck_run
from xueji.orgs.models import Role
from xueji.orgs.selectors import school_catalog, schools_visible_to
from xueji.orgs.views import AuthedRequest, roles_required
from xueji.records.template import write_template

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PRECHECK_SESSION_KEY = "precheck_tokens"
ROWS_SHOWN = 500  # the page lists this many problem rows; the annotated workbook has them all


def _attachment(content: bytes, file_name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(file_name)}"
    return response


@roles_required(Role.REGISTRAR, Role.DISTRICT_REVIEWER, Role.CITY_ADMIN)
def index(request: AuthedRequest) -> HttpResponse:
    return render(request, "admissions/index.html", {"is_registrar": request.user.role == Role.REGISTRAR})


@roles_required(Role.REGISTRAR, Role.DISTRICT_REVIEWER, Role.CITY_ADMIN)
def template_download(request: AuthedRequest) -> HttpResponse:
    """A registrar gets its school's majors, directions, grades and classes as drop-downs."""
    buffer = io.BytesIO()
    if request.user.role == Role.REGISTRAR:
        school = get_object_or_404(schools_visible_to(request.user))
        write_template(buffer, school_catalog(school))
        name = f"招生导入模板-{school.name}.xlsx"
    else:
        write_template(buffer, None)
        name = "招生导入模板.xlsx"
    return _attachment(buffer.getvalue(), name)


@require_POST
@roles_required(Role.REGISTRAR)
def precheck(request: AuthedRequest) -> HttpResponse:
    school = get_object_or_404(schools_visible_to(request.user))
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "请选择要检查的文件（xlsx、xls、ods 或 csv）")
        return redirect("admissions:index")
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
