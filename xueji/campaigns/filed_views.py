"""备案记录: the filed record of a closed campaign, as each account may see it (the city all of it, a district its
schools', a school its own), so that a printed roster or a package can be checked against it by eye as well as by
`package_verify`. ID numbers and 学籍号 are masked except for the registrar, as everywhere."""

from __future__ import annotations

import io
from collections.abc import Iterable
from urllib.parse import quote

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from xueji.admissions.selectors import can_see_personal_data, mask_id_number, mask_student_no
from xueji.audit.services import audit_record
from xueji.campaigns.models import FiledStudent
from xueji.campaigns.selectors import CAMPAIGN_ROLES, campaigns_visible_to
from xueji.orgs.models import User
from xueji.orgs.selectors import schools_visible_to
from xueji.orgs.views import AuthedRequest, roles_required
from xueji.records.check import neutralise
from xueji.records.codes import code_table
from xueji.records.workbook import new_workbook

PAGE_SIZE = 100
HEADERS = ("序号", "学校", "学籍号", "姓名", "性别", "身份证件号", "出生日期", "招生方式")


def filed_visible_to(user: User, campaign_id: int) -> QuerySet[FiledStudent]:
    """The filed students of the campaign in the user's scope (by school, as every other scope)."""
    return (
        FiledStudent.objects.filter(campaign_id=campaign_id, school__in=schools_visible_to(user))
        .select_related("school")
        .order_by("school__code", "student_no", "id")
    )


def _rows(filed: Iterable[FiledStudent], user: User, start: int = 1) -> list[list[str]]:
    full = can_see_personal_data(user)
    genders, methods = code_table("性别"), code_table("招生方式")
    return [
        [
            str(number),
            f.school.name,
            f.student_no if full else mask_student_no(f.student_no),
            f.name,
            genders.name_of(f.gender),
            f.id_number if full else mask_id_number(f.id_number),
            f.birth_date.isoformat() if f.birth_date else "",
            methods.name_of(f.admission_method),
        ]
        for number, f in enumerate(filed, start=start)
    ]


@roles_required(*CAMPAIGN_ROLES)
def filed_list(request: AuthedRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(campaigns_visible_to(request.user), pk=pk)
    schools = schools_visible_to(request.user).order_by("code")
    filed = filed_visible_to(request.user, campaign.pk)
    school_id = request.GET.get("school", "")
    if school_id.isdigit():
        school = get_object_or_404(schools, pk=int(school_id))
        filed = filed.filter(school=school)
    name = request.GET.get("name", "").strip()
    if name:
        filed = filed.filter(name__contains=name)
    if request.GET.get("format") == "xlsx":
        buffer = io.BytesIO()
        workbook = new_workbook(buffer, constant_memory=True)
        sheet = workbook.add_worksheet("备案记录")
        sheet.write_row(0, 0, HEADERS)
        for row_number, row in enumerate(_rows(filed.iterator(chunk_size=2000), request.user), start=1):
            sheet.write_row(row_number, 0, [neutralise(value) for value in row])
        workbook.close()
        audit_record(
            actor=request.user,
            action="campaign.filed_export",
            obj=campaign,
            after={"school": school_id, "name": name},
            request=request,
        )
        response = HttpResponse(
            buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        stamp = f"{timezone.localtime():%Y%m%d%H%M}"
        response["Content-Disposition"] = (
            f"attachment; filename*=UTF-8''{quote(f'{campaign.title}-备案记录-{stamp}.xlsx')}"
        )
        return response
    page = Paginator(filed, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "campaigns/filed.html",
        {
            "campaign": campaign,
            "schools": schools if schools.count() > 1 else [],
            "school_id": school_id,
            "name": name,
            "page": page,
            "headers": HEADERS,
            "rows": _rows(page.object_list, request.user, start=page.start_index()),
        },
    )
