"""基础信息 and 账号管理 screens. Thin: check the role, ask a selector for scope, call one service."""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.forms import BaseForm, Form
from django.http import HttpRequest, HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from xueji.orgs import services
from xueji.orgs.forms import (
    DirectionAddForm,
    DistrictAccountIssueForm,
    DistrictAddForm,
    GradeAddForm,
    OfferingAddForm,
    SchoolAccountIssueForm,
    SchoolClassForm,
    SchoolFilterForm,
    SchoolForm,
    TermForm,
)
from xueji.orgs.models import Region, Role, School, SchoolClass, Term, User
from xueji.orgs.selectors import (
    accounts_visible_to,
    classes_visible_to,
    directions_visible_to,
    districts_visible_to,
    grades_visible_to,
    offerings_visible_to,
    schools_visible_to,
    terms_visible_to,
)
from xueji.reference.selectors import districts_of

View = Callable[..., HttpResponseBase]
V = TypeVar("V", bound=View)


class AuthedRequest(HttpRequest):
    """A request behind login_required: its user is a real account (typing aid for mypy)."""

    user: User


SCHOOL_ROLES = (Role.REGISTRAR, Role.SCHOOL_LEADER)
ISSUED_SESSION_KEY = "issued_accounts"  # passwords not yet shown
ISSUED_DOWNLOAD_KEY = "issued_accounts_sheet"  # shown once; kept only for the one sheet download


def roles_required(*roles: str) -> Callable[[V], V]:
    """Log in first; then a role that does not use this screen gets 403."""

    def decorator(view: V) -> V:
        @login_required
        @wraps(view)
        def wrapped(request: AuthedRequest, *args: Any, **kwargs: Any) -> Any:
            if request.user.role not in roles:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return cast(V, wrapped)

    return decorator


def _posted(request: HttpRequest) -> QueryDict | None:
    """The submitted data, or None for a GET (an empty POST must still be validated and refused)."""
    return request.POST if request.method == "POST" else None


def apply_errors(form: BaseForm, error: ValidationError) -> None:
    """Show a service's refusal next to the field it names, or at the top of the form."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _own_school(request: AuthedRequest) -> School:
    return get_object_or_404(schools_visible_to(request.user))


def _can_edit_school_setup(user: User) -> bool:
    return user.role == Role.REGISTRAR


def _require_registrar(request: AuthedRequest) -> None:
    if request.user.role != Role.REGISTRAR:
        raise PermissionDenied


# ---------------------------------------------------------------- city: districts


@roles_required(Role.CITY_ADMIN)
def district_list(request: AuthedRequest) -> HttpResponse:
    city = request.user.region
    if city is None:
        raise PermissionDenied
    added = set(Region.objects.filter(parent=city).values_list("code", flat=True))
    choices = [(a.code, f"{a.code} {a.name}") for a in districts_of(city.code) if a.code not in added]
    form = DistrictAddForm(_posted(request), choices=choices)
    if request.method == "POST" and form.is_valid():
        try:
            region = services.district_add(
                actor=request.user, city=city, code=form.cleaned_data["code"], request=request
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"已添加区县：{region.name}")
            return redirect("orgs:district_list")
    districts = districts_visible_to(request.user).annotate(
        school_count=Count("schools", distinct=True), account_count=Count("users", distinct=True)
    )
    return render(request, "orgs/district_list.html", {"districts": districts, "form": form, "city": city})


# ---------------------------------------------------------------- schools


@roles_required(Role.CITY_ADMIN, Role.DISTRICT_REVIEWER)
def school_list(request: AuthedRequest) -> HttpResponse:
    user = request.user
    filters = SchoolFilterForm(request.GET or None, districts=districts_visible_to(user))
    schools = (
        schools_visible_to(user)
        .select_related("district")
        .annotate(offering_count=Count("offerings", distinct=True), account_count=Count("users", distinct=True))
    )
    if filters.is_valid():
        if filters.cleaned_data["district"]:
            schools = schools.filter(district=filters.cleaned_data["district"])
        if q := filters.cleaned_data["q"].strip():
            schools = schools.filter(Q(name__contains=q) | Q(code__startswith=q))
    page = Paginator(schools.order_by("code"), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "orgs/school_list.html",
        {
            "page": page,
            "filters": filters,
            "can_edit": user.role == Role.DISTRICT_REVIEWER,
        },
    )


@roles_required(Role.DISTRICT_REVIEWER)
def school_edit(request: AuthedRequest, pk: int | None = None) -> HttpResponse:
    school = get_object_or_404(schools_visible_to(request.user), pk=pk) if pk else School()
    form = SchoolForm(_posted(request), instance=school)
    if request.method == "POST" and form.is_valid():
        try:
            assert request.user.region is not None  # roles_required: a district reviewer has a region
            services.school_save(
                actor=request.user,
                school=form.instance,
                district=request.user.region,
                is_new=pk is None,
                request=request,
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"已保存学校：{form.instance.name}")
            return redirect("orgs:school_list")
    return render(request, "orgs/school_form.html", {"form": form, "school": school, "is_new": pk is None})


@roles_required(Role.CITY_ADMIN, Role.DISTRICT_REVIEWER, Role.REGISTRAR, Role.SCHOOL_LEADER)
def school_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    school = get_object_or_404(schools_visible_to(request.user).select_related("district"), pk=pk)
    offerings = school.offerings.select_related("major").prefetch_related("directions")
    return render(
        request,
        "orgs/school_detail.html",
        {
            "school": school,
            "offerings": offerings,
            "classes": school.classes.select_related("grade", "offering__major"),
            "can_edit": request.user.role == Role.DISTRICT_REVIEWER,
        },
    )


@roles_required(*SCHOOL_ROLES)
def my_school(request: AuthedRequest) -> HttpResponse:
    return school_detail(request, _own_school(request).pk)


# ---------------------------------------------------------------- school: majors and directions


@roles_required(*SCHOOL_ROLES)
def offering_list(request: AuthedRequest) -> HttpResponse:
    school = _own_school(request)
    can_edit = _can_edit_school_setup(request.user)
    form = OfferingAddForm(_posted(request), school=school)
    if request.method == "POST":
        _require_registrar(request)
        if form.is_valid():
            try:
                offering = services.offering_add(
                    actor=request.user,
                    school=school,
                    major=form.cleaned_data["major"],
                    request=request,
                )
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, f"已开设专业：{offering.major.code} {offering.major.name}")
                return redirect("orgs:offering_list")
    offerings = offerings_visible_to(request.user).prefetch_related("directions").annotate(class_count=Count("classes"))
    return render(
        request,
        "orgs/offering_list.html",
        {
            "offerings": offerings,
            "form": form,
            "direction_form": DirectionAddForm(),
            "can_edit": can_edit,
        },
    )


@require_POST
@roles_required(Role.REGISTRAR)
def offering_remove(request: AuthedRequest, pk: int) -> HttpResponse:
    offering = get_object_or_404(offerings_visible_to(request.user), pk=pk)
    try:
        services.offering_remove(actor=request.user, offering=offering, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"已删除专业：{offering.major.name}")
    return redirect("orgs:offering_list")


@require_POST
@roles_required(Role.REGISTRAR)
def direction_add(request: AuthedRequest, pk: int) -> HttpResponse:
    offering = get_object_or_404(offerings_visible_to(request.user), pk=pk)
    form = DirectionAddForm(request.POST)
    if form.is_valid():
        try:
            services.direction_add(
                actor=request.user,
                offering=offering,
                name=form.cleaned_data["name"],
                request=request,
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"已在“{offering.major.name}”下添加方向：{form.cleaned_data['name']}")
    else:
        messages.error(request, "请填写专业方向名称（最多64字）")
    return redirect("orgs:offering_list")


@require_POST
@roles_required(Role.REGISTRAR)
def direction_remove(request: AuthedRequest, pk: int) -> HttpResponse:
    direction = get_object_or_404(directions_visible_to(request.user), pk=pk)
    try:
        services.direction_remove(actor=request.user, direction=direction, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"已删除专业方向：{direction.name}")
    return redirect("orgs:offering_list")


# ---------------------------------------------------------------- school: grades, classes, terms


@roles_required(*SCHOOL_ROLES)
def grade_list(request: AuthedRequest) -> HttpResponse:
    school = _own_school(request)
    form = GradeAddForm(_posted(request))
    if request.method == "POST":
        _require_registrar(request)
        if form.is_valid():
            try:
                grade = services.grade_add(
                    actor=request.user,
                    school=school,
                    year=form.cleaned_data["year"],
                    request=request,
                )
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, f"已添加年级：{grade}")
                return redirect("orgs:grade_list")
    grades = grades_visible_to(request.user).annotate(class_count=Count("classes"))
    return render(
        request,
        "orgs/grade_list.html",
        {
            "grades": grades,
            "form": form,
            "can_edit": _can_edit_school_setup(request.user),
        },
    )


@require_POST
@roles_required(Role.REGISTRAR)
def grade_remove(request: AuthedRequest, pk: int) -> HttpResponse:
    grade = get_object_or_404(grades_visible_to(request.user), pk=pk)
    try:
        services.grade_remove(actor=request.user, grade=grade, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"已删除年级：{grade}")
    return redirect("orgs:grade_list")


@roles_required(*SCHOOL_ROLES)
def class_list(request: AuthedRequest) -> HttpResponse:
    classes = classes_visible_to(request.user)
    grade = request.GET.get("grade", "")
    if grade.isdigit():
        classes = classes.filter(grade__year=int(grade))
    return render(
        request,
        "orgs/class_list.html",
        {
            "classes": classes,
            "grades": grades_visible_to(request.user),
            "grade": grade,
            "can_edit": _can_edit_school_setup(request.user),
        },
    )


@roles_required(Role.REGISTRAR)
def class_edit(request: AuthedRequest, pk: int | None = None) -> HttpResponse:
    school = _own_school(request)
    instance = get_object_or_404(classes_visible_to(request.user), pk=pk) if pk else SchoolClass(school=school)
    form = SchoolClassForm(_posted(request), instance=instance, school=school)
    if request.method == "POST" and form.is_valid():
        try:
            services.class_save(
                actor=request.user,
                school_class=form.instance,
                is_new=pk is None,
                request=request,
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"已保存班级：{form.instance.name}")
            return redirect("orgs:class_list")
    return render(request, "orgs/class_form.html", {"form": form, "is_new": pk is None})


@require_POST
@roles_required(Role.REGISTRAR)
def class_remove(request: AuthedRequest, pk: int) -> HttpResponse:
    school_class = get_object_or_404(classes_visible_to(request.user), pk=pk)
    try:
        services.class_remove(actor=request.user, school_class=school_class, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"已删除班级：{school_class.name}")
    return redirect("orgs:class_list")


@roles_required(*SCHOOL_ROLES)
def term_list(request: AuthedRequest) -> HttpResponse:
    return render(
        request,
        "orgs/term_list.html",
        {
            "terms": terms_visible_to(request.user),
            "can_edit": _can_edit_school_setup(request.user),
        },
    )


@roles_required(Role.REGISTRAR)
def term_edit(request: AuthedRequest, pk: int | None = None) -> HttpResponse:
    school = _own_school(request)
    instance = get_object_or_404(terms_visible_to(request.user), pk=pk) if pk else Term(school=school)
    form = TermForm(_posted(request), instance=instance)
    if request.method == "POST" and form.is_valid():
        try:
            services.term_save(actor=request.user, term=form.instance, is_new=pk is None, request=request)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"已保存学期：{form.instance}")
            return redirect("orgs:term_list")
    return render(request, "orgs/term_form.html", {"form": form, "is_new": pk is None})


# ---------------------------------------------------------------- accounts


@roles_required(Role.CITY_ADMIN, Role.DISTRICT_REVIEWER)
def account_list(request: AuthedRequest) -> HttpResponse:
    accounts = accounts_visible_to(request.user)
    active = request.GET.get("active", "")
    if active in ("0", "1"):
        accounts = accounts.filter(is_active=active == "1")
    if q := request.GET.get("q", "").strip():
        accounts = accounts.filter(Q(username__icontains=q) | Q(school__name__contains=q) | Q(region__name__contains=q))
    page = Paginator(accounts.order_by("username"), 50).get_page(request.GET.get("page"))
    return render(request, "orgs/account_list.html", {"page": page, "active": active, "q": q})


@roles_required(Role.CITY_ADMIN, Role.DISTRICT_REVIEWER)
def account_issue(request: AuthedRequest) -> HttpResponse:
    user: User = request.user
    form: Form
    if user.role == Role.CITY_ADMIN:
        districts = districts_visible_to(user).annotate(account_count=Count("users"))
        form = DistrictAccountIssueForm(_posted(request), districts=districts)
    else:
        schools = schools_visible_to(user).annotate(account_count=Count("users"))
        form = SchoolAccountIssueForm(_posted(request), schools=schools)
    if request.method == "POST" and form.is_valid():
        try:
            if user.role == Role.CITY_ADMIN:
                issued = services.accounts_issue_for_districts(
                    actor=user, districts=list(form.cleaned_data["districts"]), request=request
                )
            else:
                issued = services.accounts_issue_for_schools(
                    actor=user,
                    schools=list(form.cleaned_data["schools"]),
                    roles=[Role(r) for r in form.cleaned_data["roles"]],
                    request=request,
                )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            # The one-time passwords live only in this session until the sheet is downloaded or the
            # user leaves the result page; they are never stored anywhere else.
            request.session[ISSUED_SESSION_KEY] = [account.as_dict() for account in issued]
            return redirect("orgs:account_issued")
    return render(request, "orgs/account_issue.html", {"form": form})


@roles_required(Role.CITY_ADMIN, Role.DISTRICT_REVIEWER)
def account_issued(request: AuthedRequest) -> HttpResponse:
    issued = request.session.pop(ISSUED_SESSION_KEY, None)
    if not issued:
        messages.info(request, "一次性密码只显示一次，已不再显示。如需要，请为账号重置密码。")
        return redirect("orgs:account_list")
    request.session[ISSUED_DOWNLOAD_KEY] = issued
    return render(request, "orgs/account_issued.html", {"issued": issued})


@roles_required(Role.CITY_ADMIN, Role.DISTRICT_REVIEWER)
def account_sheet(request: AuthedRequest) -> HttpResponse:
    from xueji.orgs.account_sheet import account_sheet_xlsx

    issued = request.session.pop(ISSUED_DOWNLOAD_KEY, None)
    if not issued:
        messages.info(request, "账号单只能下载一次，已不可再下载。如需要，请为账号重置密码。")
        return redirect("orgs:account_list")
    buffer = io.BytesIO()
    account_sheet_xlsx(buffer, issued)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = "attachment; filename*=UTF-8''%E8%B4%A6%E5%8F%B7%E5%8D%95.xlsx"
    return response


@require_POST
@roles_required(Role.CITY_ADMIN, Role.DISTRICT_REVIEWER)
def account_toggle(request: AuthedRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(accounts_visible_to(request.user), pk=pk)
    services.account_set_active(
        actor=request.user,
        account=account,
        active=not account.is_active,
        request=request,
    )
    messages.success(request, f"账号 {account.username} 已{'启用' if account.is_active else '停用'}")
    return redirect("orgs:account_list")


@require_POST
@roles_required(Role.CITY_ADMIN, Role.DISTRICT_REVIEWER)
def account_reset(request: AuthedRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(accounts_visible_to(request.user), pk=pk)
    issued = services.account_reset_password(actor=request.user, account=account, request=request)
    request.session[ISSUED_SESSION_KEY] = [issued.as_dict()]
    return redirect("orgs:account_issued")
