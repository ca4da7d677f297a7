"""新生名单 and 上报盘 screens. Thin: check the role, resolve objects within the user's scope (404 outside), call
one service."""

from __future__ import annotations

from urllib.parse import quote

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from xueji.audit.services import audit_record
from xueji.orgs.models import Grade, Region, Role, School
from xueji.orgs.selectors import schools_visible_to
from xueji.orgs.views import AuthedRequest, roles_required
from xueji.roster.filing import package_build, package_file, package_receive, scope_of_district, scope_of_school
from xueji.roster.models import FilingPackage
from xueji.roster.packagejobs import (
    package_inline_limit,
    package_job_create,
    package_job_file,
    package_jobs_visible_to,
)
from xueji.roster.printing import DEFAULT_COLUMNS, ROSTER_COLUMNS, clean_columns, roster_print
from xueji.roster.selectors import packages_visible_to
from xueji.students.models import Student
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
            "sources": Student.Source.choices,
            "source": request.GET.get("source", ""),
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
    source = request.GET.get("source") or None
    if source is not None and source not in Student.Source.values:
        source = None  # an unknown value prints everyone, as the form's 全部 does
    columns = clean_columns(request.GET.getlist("columns"))
    pdf = roster_print(
        user=request.user,
        students=students_visible_to(request.user),
        school=school,
        grade=grade,
        offering=offering,
        school_class=school_class,
        source=source,
        columns=columns,
        request=request,
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    name = f"{'迁入学生' if source == Student.Source.LEGACY else '新生'}名单-{school.code}-{grade}.pdf"
    response["Content-Disposition"] = (
        f"inline; filename=\"roster-{school.code}-{grade}.pdf\"; filename*=UTF-8''{quote(name)}"
    )
    return response


# ---------------------------------------------------------------- 上报盘

# A school files its own package; a district files its schools' (all of them, or one).
PACKAGE_ROLES = (Role.REGISTRAR, Role.SCHOOL_LEADER, Role.DISTRICT_REVIEWER)


PACKAGE_JOBS_SHOWN = 10


def _package_jobs_context(request: AuthedRequest) -> dict[str, object]:
    jobs = list(package_jobs_visible_to(request.user)[:PACKAGE_JOBS_SHOWN])
    return {"jobs": jobs, "active": any(job.active for job in jobs)}


@roles_required(*PACKAGE_ROLES)
def package_jobs(request: AuthedRequest) -> HttpResponse:
    """htmx: the user's background packages, polled every second while one is queued or being built."""
    return render(request, "roster/package_jobs.html", _package_jobs_context(request))


@roles_required(*PACKAGE_ROLES)
def package_job_download(request: AuthedRequest, pk: int) -> FileResponse:
    job = get_object_or_404(package_jobs_visible_to(request.user), pk=pk)
    path = package_job_file(job)
    if path is None:
        raise Http404
    return FileResponse(path.open("rb"), as_attachment=True, filename=job.download_name, content_type="application/zip")


@roles_required(*PACKAGE_ROLES)
def package_export(request: AuthedRequest) -> HttpResponseBase:
    user = request.user
    schools = schools_visible_to(user)
    if request.method != "POST":
        grades = sorted(set(Grade.objects.filter(school__in=schools).values_list("year", flat=True)), reverse=True)
        return render(
            request,
            "roster/package.html",
            {
                "schools": schools,
                "grades": grades or [timezone.localdate().year],
                "district": user.region,
                **_package_jobs_context(request),
            },
        )
    grade = _int(request.POST.get("grade")) or timezone.localdate().year
    if user.role == Role.DISTRICT_REVIEWER and not request.POST.get("school"):
        scope = scope_of_district(get_object_or_404(Region.objects.select_related("parent"), pk=user.region_id))
    elif user.role == Role.DISTRICT_REVIEWER:
        school = get_object_or_404(schools.select_related("district__parent"), pk=_int(request.POST.get("school")) or 0)
        scope = scope_of_school(school)
    else:  # a school files its own package
        scope = scope_of_school(get_object_or_404(schools.select_related("district__parent")))
    total = scope.students().filter(grade=grade).count()
    if total > package_inline_limit():
        package_job_create(user=user, scope=scope, grade=grade, total=total)
        messages.success(request, f"{scope.name} {grade}级共 {total} 人，正在后台生成上报盘，完成后可在下方下载。")
        return redirect("roster:package")
    data = package_build(user=user, scope=scope, grade=grade, request=request)
    response = HttpResponse(data, content_type="application/zip")
    name = f"上报盘-{scope.name}-{grade}级-{timezone.localtime():%Y%m%d%H%M}.zip"
    response["Content-Disposition"] = (
        f"attachment; filename=\"filing-{scope.code}-{grade}.zip\"; filename*=UTF-8''{quote(name)}"
    )
    return response


@roles_required(Role.CITY_ADMIN)
def package_inbox(request: AuthedRequest) -> HttpResponseBase:
    """The city's 上报盘接收: upload a package, see each upload's verdict and reason."""
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, "请选择上报盘文件（zip）")
        else:
            package = package_receive(user=request.user, stream=upload, file_name=upload.name or "", request=request)
            if package.verdict == FilingPackage.Verdict.RECEIVED:
                messages.success(request, f"已接收上报盘：{package.scope_name} {package.grade}级")
            else:
                messages.error(request, f"上报盘已拒收：{package.reason}")
        return redirect("roster:inbox")
    packages = packages_visible_to(request.user).select_related("uploaded_by")[:200]
    return render(request, "roster/inbox.html", {"packages": packages})


@roles_required(Role.CITY_ADMIN)
def package_download(request: AuthedRequest, pk: int) -> FileResponse:
    """The ZIP as it was uploaded (received or rejected), for the city's records or to look at a rejection."""
    package = get_object_or_404(packages_visible_to(request.user), pk=pk)
    path = package_file(package)
    if path is None:
        raise Http404
    audit_record(actor=request.user, action="filing.download", obj=package, request=request)
    return FileResponse(path.open("rb"), as_attachment=True, filename=package.file_name, content_type="application/zip")
