"""新生名单 and 上报盘 screens. Thin: check the role, resolve objects within the user's scope (404 outside), call
one service."""

from __future__ import annotations

from urllib.parse import quote

from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from xueji.orgs.models import Role, School
from xueji.orgs.selectors import schools_visible_to
from xueji.orgs.views import AuthedRequest, roles_required
from xueji.roster.printing import DEFAULT_COLUMNS, ROSTER_COLUMNS, clean_columns, roster_print
from xueji.students.selectors import students_visible_to

# Who prints: the school's registrar and leader for their school, a district for its schools.
PRINT_ROLES = (Role.REGISTRAR, Role.SCHOOL_LEADER, Role.DISTRICT_REVIEWER)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _default_grade(school: School) -> int:
    latest = school.grades.order_by("-year").values_list("year", flat=True).first()
    return latest or timezone.localdate().year


@roles_required(*PRINT_ROLES)
def roster_form(request: AuthedRequest) -> HttpResponseBase:
    """The choices (school, grade, major or class, columns); choosing a school goes on to its PDF."""
    schools = schools_visible_to(request.user).filter(is_active=True)
    if school_id := _int(request.GET.get("school")):
        school = get_object_or_404(schools, pk=school_id)
        query = request.GET.copy()
        query.pop("school", None)
        return redirect(f"{reverse('roster:pdf', kwargs={'pk': school.pk})}?{query.urlencode()}")
    school_list = list(schools.prefetch_related("grades", "offerings__major", "classes"))
    return render(
        request,
        "roster/form.html",
        {
            "schools": school_list,
            "columns": ROSTER_COLUMNS,
            "chosen": DEFAULT_COLUMNS,
            "one_school": len(school_list) == 1,
        },
    )


@roles_required(*PRINT_ROLES)
def roster_pdf(request: AuthedRequest, pk: int) -> HttpResponse:
    school = get_object_or_404(schools_visible_to(request.user), pk=pk)
    grade = _int(request.GET.get("grade")) or _default_grade(school)
    offering = None
    if major_id := _int(request.GET.get("major")):
        offering = get_object_or_404(school.offerings.select_related("major"), pk=major_id)
    school_class = None
    if class_id := _int(request.GET.get("class")):
        school_class = get_object_or_404(school.classes, pk=class_id)
    columns = clean_columns(request.GET.getlist("columns"))
    pdf = roster_print(
        user=request.user,
        students=students_visible_to(request.user),
        school=school,
        grade=grade,
        offering=offering,
        school_class=school_class,
        columns=columns,
        request=request,
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    name = f"新生名单-{school.code}-{grade}.pdf"
    response["Content-Disposition"] = (
        f"inline; filename=\"roster-{school.code}-{grade}.pdf\"; filename*=UTF-8''{quote(name)}"
    )
    return response
