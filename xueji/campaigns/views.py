"""年度学籍备案工作 screens. Thin: check the role (403), find the campaign, school or district through the scope
selectors (404 outside), call one service or selector."""

from __future__ import annotations

import datetime
import io
from collections import defaultdict
from collections.abc import Sequence
from typing import BinaryIO, cast
from urllib.parse import quote

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from xueji.audit.services import audit_record
from xueji.campaigns import closing, files, services
from xueji.campaigns.deadlines import days_text
from xueji.campaigns.forms import CampaignForm, ReceiptForm
from xueji.campaigns.models import Campaign, CampaignRead, Material, MaterialReceipt
from xueji.campaigns.overview import campaign_overview
from xueji.campaigns.progress import (
    FILING,
    SORT_KEYS,
    STAGE_LABELS,
    DistrictProgress,
    SchoolProgress,
    districts_progress,
    schools_progress,
    sort_rows,
)
from xueji.campaigns.report import report_pdf, report_xlsx
from xueji.campaigns.selectors import (
    CAMPAIGN_ROLES,
    campaigns_managed_by,
    campaigns_visible_to,
    read_audience,
    receivable_districts,
    receivable_schools,
)
from xueji.orgs.models import Role
from xueji.orgs.selectors import districts_visible_to, schools_visible_to
from xueji.orgs.views import AuthedRequest, apply_errors, roles_required
from xueji.records.check import neutralise
from xueji.records.workbook import new_workbook
from xueji.roster.pdf import FontMissing

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _download(data: bytes, content_type: str, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response


@roles_required(*CAMPAIGN_ROLES)
def campaign_list(request: AuthedRequest) -> HttpResponse:
    return render(
        request,
        "campaigns/list.html",
        {"campaigns": campaigns_visible_to(request.user), "can_manage": request.user.role == Role.CITY_ADMIN},
    )


@roles_required(Role.CITY_ADMIN)
def campaign_create(request: AuthedRequest) -> HttpResponseBase:
    year = timezone.localdate().year
    form = CampaignForm(
        request.POST if request.method == "POST" else None,
        initial={"intake_year": year, "title": f"{year}年度新生学籍备案"},
    )
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.campaign_open(actor=request.user, data=form.campaign_input(), request=request)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"已发布：{campaign.title}。可继续上传附件。")
            return redirect("campaigns:detail", pk=campaign.pk)
    return render(request, "campaigns/form.html", {"form": form, "campaign": None})


@roles_required(Role.CITY_ADMIN)
def campaign_edit(request: AuthedRequest, pk: int) -> HttpResponseBase:
    campaign = get_object_or_404(campaigns_managed_by(request.user), pk=pk)
    if not campaign.is_open:
        messages.error(request, "该备案工作已结束，不能再修改")
        return redirect("campaigns:detail", pk=campaign.pk)
    form = CampaignForm.for_campaign(campaign, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.campaign_edit(
                actor=request.user, campaign_id=campaign.pk, data=form.campaign_input(), request=request
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, "已保存修改")
            return redirect("campaigns:detail", pk=campaign.pk)
    return render(request, "campaigns/form.html", {"form": form, "campaign": campaign})


@roles_required(*CAMPAIGN_ROLES)
def campaign_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(campaigns_visible_to(request.user).select_related("opened_by", "closed_by"), pk=pk)
    now = timezone.now()
    deadlines = [
        (STAGE_LABELS["submit"], campaign.school_submit_by),
        (STAGE_LABELS["materials"], campaign.school_materials_by),
        (STAGE_LABELS["review"], campaign.district_review_by),
        ("区县向市级报送开始", campaign.district_filing_from),
        ("区县向市级报送截止", campaign.district_filing_until),
    ]
    return render(
        request,
        "campaigns/detail.html",
        {
            "campaign": campaign,
            "overview": campaign_overview(request.user, campaign, now) if campaign.is_open else None,
            "deadlines": [(label, day, days_text(day, now)) for label, day in deadlines],
            "attachments": campaign.attachments.all(),
            "can_manage": request.user.role == Role.CITY_ADMIN,
            "accepted": files.ACCEPTED,
        },
    )


@require_POST
@roles_required(Role.CITY_ADMIN)
def attachment_add(request: AuthedRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(campaigns_managed_by(request.user), pk=pk)
    uploads = request.FILES.getlist("files")
    try:
        added = services.attachments_add(
            actor=request.user,
            campaign_id=campaign.pk,
            uploads=[(cast(BinaryIO, f), f.name or "附件") for f in uploads],
            request=request,
        )
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
    else:
        messages.success(request, f"已上传 {len(added)} 个附件")
    return redirect("campaigns:detail", pk=campaign.pk)


@require_POST
@roles_required(Role.CITY_ADMIN)
def attachment_remove(request: AuthedRequest, pk: int, file_pk: int) -> HttpResponse:
    campaign = get_object_or_404(campaigns_managed_by(request.user), pk=pk)
    attachment = get_object_or_404(campaign.attachments.all(), pk=file_pk)
    try:
        services.attachment_remove(
            actor=request.user, campaign_id=campaign.pk, attachment_id=attachment.pk, request=request
        )
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
    else:
        messages.success(request, f"已删除附件：{attachment.original_name}")
    return redirect("campaigns:detail", pk=campaign.pk)


@roles_required(*CAMPAIGN_ROLES)
def attachment_download(request: AuthedRequest, pk: int, file_pk: int) -> FileResponse:
    campaign = get_object_or_404(campaigns_visible_to(request.user), pk=pk)
    attachment = get_object_or_404(campaign.attachments.all(), pk=file_pk)
    path = files.attachments_dir() / attachment.stored_name
    if not path.is_file():
        raise Http404
    audit_record(actor=request.user, action="campaign.attachment_download", obj=campaign, after={"file": attachment.pk})
    return FileResponse(
        path.open("rb"), filename=attachment.original_name, content_type=attachment.content_type, as_attachment=True
    )


@require_POST
@roles_required(*CAMPAIGN_ROLES)
def mark_read(request: AuthedRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(campaigns_visible_to(request.user), pk=pk)
    if services.campaign_mark_read(actor=request.user, campaign=campaign, request=request):
        messages.success(request, f"已标记为已读：{campaign.title}")
    if request.POST.get("next") == "home":
        return redirect("home")
    return redirect("campaigns:detail", pk=campaign.pk)


@roles_required(Role.CITY_ADMIN, Role.DISTRICT_REVIEWER)
def reads(request: AuthedRequest, pk: int) -> HttpResponse:
    """Who has read the notice: every account the user manages, grouped by district or school."""
    campaign = get_object_or_404(campaigns_visible_to(request.user), pk=pk)
    read_at = dict(CampaignRead.objects.filter(campaign=campaign).values_list("user_id", "read_at"))
    groups: dict[str, list[tuple[object, object]]] = defaultdict(list)
    for account in read_audience(request.user).select_related("region", "school__district"):
        if account.school is not None:
            key = f"{account.school.district.name} · {account.school.name}"
        else:
            key = account.region.name if account.region else ""
        groups[key].append((account, read_at.get(account.pk)))
    rows = [
        {"label": label, "accounts": accounts, "read": sum(1 for _a, at in accounts if at), "total": len(accounts)}
        for label, accounts in sorted(groups.items())
    ]
    return render(
        request,
        "campaigns/reads.html",
        {
            "campaign": campaign,
            "groups": rows,
            "read": sum(g["read"] for g in rows),  # type: ignore[misc]
            "total": sum(g["total"] for g in rows),  # type: ignore[misc]
        },
    )


def _sheet(
    campaign: Campaign, row: SchoolProgress | DistrictProgress, receipts: dict[str, MaterialReceipt], url: str | None
) -> dict[str, object]:
    is_school = isinstance(row, SchoolProgress)
    stage = row.stage("materials" if is_school else FILING)
    return {
        "anchor": f"{'school' if is_school else 'district'}-{row.school_id if is_school else row.district_id}",  # type: ignore[union-attr]
        "label": f"{row.district_name} · {row.name}" if is_school else row.name,  # type: ignore[union-attr]
        "stage": stage,
        "items": [
            {"kind": kind, "label": label, "required": kind in row.required, "receipt": receipts.get(kind)}
            for kind, label in Material.choices
        ],
        "receive_url": url,
    }


@roles_required(*CAMPAIGN_ROLES)
def checklist(request: AuthedRequest, pk: int) -> HttpResponse:
    """材料清单: the district keeps its schools', the city its districts'; each sees its own as received."""
    campaign = get_object_or_404(campaigns_visible_to(request.user), pk=pk)
    user = request.user
    now = timezone.now()
    kept: list[dict[str, object]] = []
    own: dict[str, object] | None = None
    receipts = MaterialReceipt.objects.filter(campaign=campaign)
    by_school: dict[int, dict[str, MaterialReceipt]] = defaultdict(dict)
    by_district: dict[int, dict[str, MaterialReceipt]] = defaultdict(dict)
    for receipt in receipts.filter(
        Q(school__in=schools_visible_to(user)) | Q(district__in=districts_visible_to(user))
    ).select_related("received_by"):
        if receipt.school_id:
            by_school[receipt.school_id][receipt.kind] = receipt
        else:
            by_district[receipt.district_id][receipt.kind] = receipt  # type: ignore[index]
    if user.role in (Role.DISTRICT_REVIEWER, Role.CITY_ADMIN):
        districts = districts_progress(campaign, districts_visible_to(user), schools_visible_to(user), now)
        if user.role == Role.DISTRICT_REVIEWER and districts:
            district = districts[0]
            own = _sheet(campaign, district, by_district[district.district_id], None)
            kept = [
                _sheet(
                    campaign,
                    school,
                    by_school[school.school_id],
                    reverse("campaigns:school_receive", kwargs={"pk": campaign.pk, "school_pk": school.school_id}),
                )
                for school in district.schools
            ]
        elif user.role == Role.CITY_ADMIN:
            kept = [
                _sheet(
                    campaign,
                    district,
                    by_district[district.district_id],
                    reverse(
                        "campaigns:district_receive", kwargs={"pk": campaign.pk, "district_pk": district.district_id}
                    ),
                )
                for district in districts
            ]
    else:
        schools = schools_progress(campaign, schools_visible_to(user), now)
        if schools:
            own = _sheet(campaign, schools[0], by_school[schools[0].school_id], None)
    return render(
        request,
        "campaigns/checklist.html",
        {
            "campaign": campaign,
            "kept": kept,
            "own": own,
            "keeper": "区县" if user.role == Role.DISTRICT_REVIEWER else "市级",
            "today": timezone.localdate(),
            "now": now,
            "can_edit": campaign.is_open,
        },
    )


def _receive(request: AuthedRequest, campaign: Campaign, **target: object) -> None:
    form = ReceiptForm(request.POST)
    if not form.is_valid():
        messages.error(request, "；".join(str(e) for errors in form.errors.values() for e in errors))
        return
    kind = form.cleaned_data["kind"]
    label = Material(kind).label
    try:
        if request.POST.get("action") == "clear":
            if services.material_clear(actor=request.user, campaign=campaign, kind=kind, request=request, **target):  # type: ignore[arg-type]
                messages.success(request, f"已取消接收：{label}")
        else:
            services.material_receive(
                actor=request.user,
                campaign=campaign,
                kind=kind,
                received_on=form.cleaned_data["received_on"],
                note=form.cleaned_data["note"],
                request=request,
                **target,  # type: ignore[arg-type]
            )
            messages.success(request, f"已记录接收：{label}")
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))


@require_POST
@roles_required(Role.DISTRICT_REVIEWER)
def school_receive(request: AuthedRequest, pk: int, school_pk: int) -> HttpResponse:
    campaign = get_object_or_404(campaigns_visible_to(request.user), pk=pk)
    school = get_object_or_404(receivable_schools(request.user), pk=school_pk)
    _receive(request, campaign, school=school)
    return redirect(f"{campaign_checklist_url(campaign)}#school-{school.pk}")


@require_POST
@roles_required(Role.CITY_ADMIN)
def district_receive(request: AuthedRequest, pk: int, district_pk: int) -> HttpResponse:
    campaign = get_object_or_404(campaigns_visible_to(request.user), pk=pk)
    district = get_object_or_404(receivable_districts(request.user), pk=district_pk)
    _receive(request, campaign, district=district)
    return redirect(f"{campaign_checklist_url(campaign)}#district-{district.pk}")


def campaign_checklist_url(campaign: Campaign) -> str:
    return reverse("campaigns:checklist", kwargs={"pk": campaign.pk})


def _progress_xlsx(districts: list[DistrictProgress], schools: list[SchoolProgress], now: datetime.datetime) -> bytes:
    buffer = io.BytesIO()
    workbook = new_workbook(buffer)
    bold = workbook.add_format({"bold": True})
    sheets: tuple[tuple[str, Sequence[SchoolProgress | DistrictProgress]], ...] = (
        ("区县", districts),
        ("学校", schools),
    )
    for name, rows in sheets:
        if not rows:
            continue
        sheet = workbook.add_worksheet(name)
        stage_labels = [s.label for s in rows[0].stages]
        head = ["区县", "学校代码", "学校", "学生数"] if name == "学校" else ["区县代码", "区县", "学校数", "学生数"]
        sheet.write_row(0, 0, [*head, *(f"{label}" for label in stage_labels), "未交材料"], bold)
        for r, row in enumerate(rows, start=1):
            if isinstance(row, SchoolProgress):
                cells: list[object] = [row.district_name, row.code, row.name, row.students]
            else:
                cells = [row.code, row.name, len(row.schools), row.students]
            cells += [f"{s.summary_text(now)}（{s.detail}）" for s in row.stages]
            cells.append("、".join(row.missing_labels))
            for c, value in enumerate(cells):
                if isinstance(value, int):
                    sheet.write_number(r, c, value)
                else:
                    sheet.write_string(r, c, neutralise(str(value)))
        sheet.freeze_panes(1, 0)
        sheet.set_column(0, 3, 14)
        sheet.set_column(4, 4 + len(stage_labels), 30)
    workbook.close()
    return buffer.getvalue()


@roles_required(Role.CITY_ADMIN, Role.DISTRICT_REVIEWER)
def progress(request: AuthedRequest, pk: int) -> HttpResponse:
    """进度: the district sees each school, the city each district and each school; overdue first by default."""
    campaign = get_object_or_404(campaigns_visible_to(request.user), pk=pk)
    user = request.user
    now = timezone.now()
    sort = request.GET.get("sort", "")
    sort = sort if sort in SORT_KEYS else ""
    districts = districts_progress(campaign, districts_visible_to(user), schools_visible_to(user), now)
    schools = [s for d in districts for s in d.schools]
    district_rows = sort_rows(districts, sort) if user.role == Role.CITY_ADMIN else []
    school_rows = sort_rows(schools, sort)
    if request.GET.get("format") == "xlsx":
        audit_record(actor=user, action="campaign.progress_export", obj=campaign, request=request)
        name = f"{campaign.title}-进度-{timezone.localtime(now):%Y%m%d%H%M}.xlsx"
        return _download(_progress_xlsx(district_rows, school_rows, now), XLSX, name)
    return render(
        request,
        "campaigns/progress.html",
        {
            "campaign": campaign,
            "district_rows": district_rows,
            "school_rows": school_rows,
            "school_stages": [(k, STAGE_LABELS[k]) for k in ("submit", "materials", "review")],
            "district_stages": [(k, STAGE_LABELS[k]) for k in ("submit", "materials", "review", FILING)],
            "sort": sort,
            "now": now,
        },
    )


@roles_required(Role.CITY_ADMIN)
def close(request: AuthedRequest, pk: int) -> HttpResponseBase:
    campaign = get_object_or_404(campaigns_managed_by(request.user), pk=pk)
    if request.method == "POST":
        try:
            closing.campaign_close(actor=request.user, campaign_id=campaign.pk, request=request)
        except ValidationError as error:
            messages.error(request, "；".join(error.messages))
        else:
            messages.success(request, f"已结束：{campaign.title}。已备案学籍已冻结，工作总结可下载。")
        return redirect("campaigns:detail", pk=campaign.pk)
    if not campaign.is_open:
        messages.info(request, "该备案工作已经结束")
        return redirect("campaigns:detail", pk=campaign.pk)
    return render(request, "campaigns/close.html", {"campaign": campaign})


@roles_required(Role.CITY_ADMIN)
def report(request: AuthedRequest, pk: int, fmt: str) -> HttpResponseBase:
    campaign = get_object_or_404(campaigns_managed_by(request.user), pk=pk)
    if fmt not in ("xlsx", "pdf"):
        raise Http404
    if campaign.summary is None:
        messages.error(request, "工作总结在备案工作结束时生成，该备案工作尚未结束")
        return redirect("campaigns:detail", pk=campaign.pk)
    if fmt == "pdf":
        try:
            data, content_type = report_pdf(campaign.summary), "application/pdf"
        except FontMissing as error:
            messages.error(request, f"无法生成PDF：{error}（请安装 fonts-wqy-microhei）")
            return redirect("campaigns:detail", pk=campaign.pk)
    else:
        data, content_type = report_xlsx(campaign.summary), XLSX
    audit_record(actor=request.user, action="campaign.report_download", obj=campaign, after={"format": fmt})
    return _download(data, content_type, f"{campaign.title}-工作总结.{fmt}")
