"""录取名册 (the city's roster loads and corrections) and 名册核对 (reconciliation for every role's scope)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import BinaryIO, cast
from urllib.parse import quote, urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from xueji.admissions.selectors import can_see_personal_data, mask_id_number
from xueji.audit.services import audit_record
from xueji.orgs.models import Role
from xueji.orgs.selectors import schools_visible_to
from xueji.orgs.views import AuthedRequest, roles_required
from xueji.reconcile import services
from xueji.reconcile.exports import finding_cells, reconcile_workbook
from xueji.reconcile.loadjobs import (
    SHOWN_ERRORS,
    roster_inline_limit,
    roster_jobs_visible_to,
    roster_load_job_create,
)
from xueji.reconcile.matching import CATEGORY_LABELS, Category, counts
from xueji.reconcile.models import RosterCorrection
from xueji.reconcile.namechange import evidence_dir
from xueji.reconcile.rosterfile import RosterFileError
from xueji.reconcile.selectors import (
    city_of,
    findings_for,
    intake_years,
    roster_entries_visible_to,
    roster_loads_visible_to,
)
from xueji.records.workbook import WorkbookError, save_upload

ALL_ROLES = (Role.REGISTRAR, Role.SCHOOL_LEADER, Role.DISTRICT_REVIEWER, Role.CITY_ADMIN)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CATEGORY_VALUES = {c.value for c in Category}
SHOWN_ROWS = 500  # per category on the page; the download holds every row
ENTRY_PAGE = 100
ROSTER_JOBS_SHOWN = 10


def _year(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) == 4 else None


# ---------------------------------------------------------------- 录取名册 (city)


def _roster_jobs_context(request: AuthedRequest) -> dict[str, object]:
    jobs = list(roster_jobs_visible_to(request.user).select_related("load")[:ROSTER_JOBS_SHOWN])
    for job in jobs:
        job.shown_errors = job.error_messages[:SHOWN_ERRORS]  # type: ignore[attr-defined]
    return {"jobs": jobs, "active": any(job.active for job in jobs)}


@roles_required(Role.CITY_ADMIN)
def roster(request: AuthedRequest) -> HttpResponse:
    loads = roster_loads_visible_to(request.user).select_related("loaded_by")
    return render(
        request,
        "reconcile/roster.html",
        {"loads": loads, "default_year": timezone.localdate().year, **_roster_jobs_context(request)},
    )


@roles_required(Role.CITY_ADMIN)
def roster_jobs(request: AuthedRequest) -> HttpResponse:
    """htmx: the city's background roster loads, polled every second while one is queued or running."""
    return render(request, "reconcile/roster_jobs.html", _roster_jobs_context(request))


@require_POST
@roles_required(Role.CITY_ADMIN)
def roster_upload(request: AuthedRequest) -> HttpResponse:
    city = city_of(request.user)
    upload = request.FILES.get("file")
    year = _year(request.POST.get("intake_year"))
    if upload is None or city is None:
        messages.error(request, "请选择录取名册文件（xlsx、xls、ods 或 csv）")
        return redirect("reconcile:roster")
    if year is None:
        messages.error(request, "请填写四位数的年级（招生年份），如2026")
        return redirect("reconcile:roster")
    if (upload.size or 0) > roster_inline_limit():
        # A large file is checked and written by a worker; the page shows its progress and then its outcome.
        try:
            roster_load_job_create(
                city=city,
                actor=request.user,
                stream=upload,  # type: ignore[arg-type]
                file_name=upload.name or "录取名册",
                intake_year=year,
            )
        except WorkbookError as error:
            messages.error(request, f"无法导入“{upload.name}”：{error.message}")
            return redirect("reconcile:roster")
        messages.success(request, f"“{upload.name}”较大，正在后台检查和导入，进度见下方“后台导入”。")
        return redirect("reconcile:roster")
    with tempfile.TemporaryDirectory() as folder:
        try:
            path = save_upload(upload, Path(folder) / "roster")  # type: ignore[arg-type]
            load = services.roster_load(
                city=city,
                actor=request.user,
                path=path,
                file_name=upload.name or "录取名册",
                intake_year=year,
                request=request,
            )
        except WorkbookError as error:
            messages.error(request, f"无法导入“{upload.name}”：{error.message}")
            return redirect("reconcile:roster")
        except RosterFileError as error:
            shown = "；".join(error.messages[:20])
            more = f"（共 {len(error.messages)} 条，仅列出前20条）" if len(error.messages) > 20 else ""
            messages.error(request, f"“{upload.name}”未导入，请改正后重新上传：{shown}{more}")
            return redirect("reconcile:roster")
    messages.success(request, f"已导入“{load.file_name}”：{load.row_count} 行，现为{year}级的当前录取名册。")
    return redirect("reconcile:roster")


@roles_required(Role.CITY_ADMIN)
def roster_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    load = get_object_or_404(roster_loads_visible_to(request.user), pk=pk)
    entries = load.entries.all()
    q = (request.GET.get("q") or "").strip()[:40]
    if q:
        entries = entries.filter(name__startswith=q) | entries.filter(candidate_no=q) | entries.filter(id_number=q)
    after = request.GET.get("after")
    if after and after.isdigit():
        entries = entries.filter(row_number__gt=int(after))
    rows = list(entries.order_by("row_number").prefetch_related("corrections")[: ENTRY_PAGE + 1])
    next_url = None
    if len(rows) > ENTRY_PAGE:
        rows = rows[:ENTRY_PAGE]
        next_url = "?" + urlencode({"q": q, "after": rows[-1].row_number})
    show_personal = can_see_personal_data(request.user)
    for row in rows:
        row.shown_id = row.id_number if show_personal else mask_id_number(row.id_number)  # type: ignore[attr-defined]
    return render(request, "reconcile/roster_detail.html", {"load": load, "rows": rows, "q": q, "next_url": next_url})


@roles_required(Role.CITY_ADMIN)
def roster_correct(request: AuthedRequest, pk: int) -> HttpResponse:
    entry = get_object_or_404(roster_entries_visible_to(request.user).select_related("load"), pk=pk)
    errors: list[str] = []
    if request.method == "POST":
        try:
            services.roster_correct(
                entry=entry,
                actor=request.user,
                field=request.POST.get("field", ""),
                new_value=request.POST.get("new_value", ""),
                document_ref=request.POST.get("document_ref", ""),
                note=request.POST.get("note", ""),
                evidence=(cast(BinaryIO, upload), upload.name or "扫描件")
                if (upload := request.FILES.get("evidence"))
                else None,
                request=request,
            )
        except ValidationError as error:
            errors = error.messages
        else:
            messages.success(request, f"已记录对第{entry.row_number}行（{entry.name}）的更正。")
            return redirect("reconcile:roster_detail", pk=entry.load_id)
    return render(
        request,
        "reconcile/roster_correct.html",
        {
            "entry": entry,
            "corrections": entry.corrections.select_related("corrected_by"),
            "fields": RosterCorrection.Field.choices,
            "errors": errors,
            "posted": request.POST,
            "shown_id": mask_id_number(entry.id_number),
        },
    )


@roles_required(Role.CITY_ADMIN)
def roster_correction_evidence(request: AuthedRequest, pk: int) -> FileResponse:
    correction = get_object_or_404(
        RosterCorrection.objects.filter(entry__in=roster_entries_visible_to(request.user)), pk=pk
    )
    path = evidence_dir() / correction.evidence_stored
    if not correction.evidence_stored or not path.is_file():
        raise Http404
    audit_record(actor=request.user, action="roster.correction_evidence_view", obj=correction)
    return FileResponse(path.open("rb"), filename=correction.evidence_name, content_type=correction.evidence_type)


# ---------------------------------------------------------------- 名册核对 (every role, in scope)


def _scoped_findings(request: AuthedRequest):  # type: ignore[no-untyped-def]
    load, findings = findings_for(request.user, _year(request.GET.get("year")))
    school = request.GET.get("school") or ""
    if school and request.user.role in (Role.DISTRICT_REVIEWER, Role.CITY_ADMIN):
        code = (
            schools_visible_to(request.user)
            .filter(pk=int(school) if school.isdigit() else 0)
            .values_list("code", flat=True)
        )
        codes = set(code)
        if not codes:
            raise Http404
        findings = [f for f in findings if f.school_codes() & codes]
    return load, findings


@roles_required(*ALL_ROLES)
def reconcile_index(request: AuthedRequest) -> HttpResponse:
    load, findings = _scoped_findings(request)
    category = request.GET.get("category") or ""
    chosen = Category(category) if category in CATEGORY_VALUES else None
    show_personal = can_see_personal_data(request.user)
    show_id = (lambda n: n) if show_personal else mask_id_number
    listed = [f for f in findings if chosen is None or f.category == chosen] if chosen else []
    totals = counts(findings)
    params = {k: v for k, v in request.GET.items() if k in ("year", "school") and v}
    return render(
        request,
        "reconcile/index.html",
        {
            "load": load,
            "years": intake_years(city_of(request.user)),
            "cards": [
                (c.value, CATEGORY_LABELS[c], totals[c], f"?{urlencode({**params, 'category': c.value})}")
                for c in Category
            ],
            "chosen": chosen,
            "chosen_label": CATEGORY_LABELS[chosen] if chosen else "",
            "rows": [finding_cells(f, show_id) for f in listed[:SHOWN_ROWS]],
            "listed_total": len(listed),
            "shown_rows": SHOWN_ROWS,
            "schools": schools_visible_to(request.user).order_by("code")
            if request.user.role in (Role.DISTRICT_REVIEWER, Role.CITY_ADMIN)
            else None,
            "filters": request.GET,
            "export_query": urlencode({k: v for k, v in request.GET.items() if k in ("year", "school", "category")}),
        },
    )


@roles_required(*ALL_ROLES)
def reconcile_export(request: AuthedRequest) -> HttpResponse:
    load, findings = _scoped_findings(request)
    if load is None:
        messages.error(request, "尚未导入录取名册，无法导出核对结果。")
        return redirect("reconcile:index")
    category = request.GET.get("category") or ""
    if category in CATEGORY_VALUES:
        findings = [f for f in findings if f.category == category]
    show_id = (lambda n: n) if can_see_personal_data(request.user) else mask_id_number
    title = f"{load.city.name} {load.intake_year}级 录取名册核对（名册：{load.file_name}）"
    content = reconcile_workbook(findings, show_id, title)
    audit_record(
        actor=request.user,
        action="reconcile.export",
        after={"load": load.pk, "rows": len(findings), "category": category},
        request=request,
    )
    response = HttpResponse(content, content_type=XLSX)
    filename = f"录取名册核对-{load.intake_year}-{timezone.localtime():%Y%m%d-%H%M}.xlsx"
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response
