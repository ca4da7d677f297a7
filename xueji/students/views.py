"""新生管理: 新生报到, 学籍管理 (按条件提交, 撤销报到), 学籍审核 (three levels) and 学籍状态."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Mapping
from urllib.parse import quote, urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from xueji.admissions.forms import AdmissionForm, form_groups
from xueji.admissions.selectors import (
    can_see_personal_data,
    keyset_page,
    mask_id_number,
    mask_student_no,
    shown_field_value,
)
from xueji.orgs.models import Role
from xueji.orgs.selectors import (
    classes_visible_to,
    grades_visible_to,
    offerings_visible_to,
    school_catalog,
    schools_visible_to,
)
from xueji.orgs.views import AuthedRequest, roles_required
from xueji.records.catalog import FIELDS, FIELDS_BY_KEY
from xueji.records.workbook import WorkbookError, save_upload
from xueji.storage import private_dir
from xueji.students import edits, exports, services
from xueji.students.forms import batch_form, batch_rows, student_initial
from xueji.students.legacy import legacy_import
from xueji.students.models import State, Student
from xueji.students.selectors import (
    checkin_candidates,
    review_queue,
    state_counts,
    student_filter,
    students_visible_to,
)
from xueji.students.workflow import ACTION_LABELS, Action, TransitionResult, transition_apply

ALL_ROLES = (Role.REGISTRAR, Role.SCHOOL_LEADER, Role.DISTRICT_REVIEWER, Role.CITY_ADMIN)
REVIEWERS = (Role.SCHOOL_LEADER, Role.DISTRICT_REVIEWER, Role.CITY_ADMIN)
PAGE_SIZE = 50
FILTER_KEYS = ("school", "grade", "class", "major", "state", "source", "q")


def _page(request: AuthedRequest, records: QuerySet, size: int = PAGE_SIZE) -> dict[str, object]:  # type: ignore[type-arg]
    get = request.GET
    after = get.get("after")
    rows, next_after = keyset_page(records, after=int(after) if after and after.isdigit() else None, size=size)
    show_personal = can_see_personal_data(request.user)
    for row in rows:
        row.shown_id = row.id_number if show_personal else mask_id_number(row.id_number)  # type: ignore[attr-defined]
        if hasattr(row, "student_no"):
            row.shown_no = row.student_no if show_personal else mask_student_no(row.student_no)  # type: ignore[attr-defined]
    params = {k: v for k, v in get.items() if k != "after" and v}
    return {
        "rows": rows,
        "total": records.count(),
        "next_url": f"?{urlencode({**params, 'after': next_after})}" if next_after else None,
        "first_url": f"?{urlencode(params)}" if after else None,
        "filters": get,
        "filter_items": [(k, v) for k, v in params.items() if k in FILTER_KEYS],
    }


def _filter_choices(request: AuthedRequest) -> dict[str, object]:
    user = request.user
    return {
        "schools": schools_visible_to(user).order_by("code")
        if user.role in (Role.DISTRICT_REVIEWER, Role.CITY_ADMIN)
        else None,
        "offerings": offerings_visible_to(user)
        .select_related("major", "school")
        .order_by("school__code", "major__code"),
        "classes": classes_visible_to(user).select_related("grade").order_by("-grade__year", "name")
        if user.role in (Role.REGISTRAR, Role.SCHOOL_LEADER)
        else None,
        "grades": sorted(set(grades_visible_to(user).values_list("year", flat=True)), reverse=True),
        "states": State.choices,
    }


def _selected(request: AuthedRequest, records: QuerySet) -> QuerySet:  # type: ignore[type-arg]
    """The POSTed selection: the ticked ids, or (scope=all) every record matching the posted filters."""
    if request.POST.get("scope") == "all":
        return records
    ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
    return records.filter(pk__in=ids)


def _report(
    request: AuthedRequest, verb: str, result: TransitionResult, held: str = "以下学生未提交，仍为未提交"
) -> None:
    if result.done:
        messages.success(request, f"{verb}：{len(result.done)} 人。")
    if result.already_handled:
        names = "、".join(f"{name}（{state}）" for _pk, name, state in result.already_handled[:20])
        more = f"等 {len(result.already_handled)} 人" if len(result.already_handled) > 20 else ""
        messages.warning(request, f"以下学生已被处理，未重复操作：{names}{more}")
    if result.refused:
        lines = "；".join(f"{name}：{'；'.join(reasons)}" for _pk, name, reasons in result.refused[:20])
        more = f"（共 {len(result.refused)} 人，仅列出前20人）" if len(result.refused) > 20 else ""
        messages.error(request, f"{held}：{lines}{more}")
    if not (result.done or result.already_handled or result.refused):
        messages.info(request, "没有符合条件的学生。")


def _back(request: AuthedRequest, name: str, filters: Mapping[str, str] | None = None) -> HttpResponse:
    source = request.POST if filters is None else filters
    params = {k: v for k, v in source.items() if k in FILTER_KEYS and v}
    response = redirect(name)
    if params:
        response["Location"] += "?" + urlencode(params)
    return response


# ---------------------------------------------------------------- 新生报到


@roles_required(Role.REGISTRAR)
def checkin(request: AuthedRequest) -> HttpResponse:
    params: QueryDict = request.POST if request.method == "POST" else request.GET
    if request.method == "GET" and "grade" not in request.GET:
        # The intake year by default: the newest grade that has records waiting.
        newest = checkin_candidates(request.user, {}).order_by("-grade").values_list("grade", flat=True).first()
        if newest:
            return redirect(f"{request.path}?grade={newest}")
    candidates = checkin_candidates(request.user, params)
    if request.method == "POST":
        count = services.checkin(actor=request.user, records=_selected(request, candidates), request=request)
        if count:
            messages.success(request, f"已报到注册 {count} 人，可在“学籍管理”中查看和提交。")
        else:
            messages.info(request, "没有选中待报到的学生。")
        return _back(request, "students:checkin")
    context = _page(request, candidates.select_related("offering__major", "direction"))
    context.update(
        offerings=offerings_visible_to(request.user).select_related("major").order_by("major__code"),
        grades=sorted(
            set(checkin_candidates(request.user, {}).values_list("grade", flat=True).distinct()), reverse=True
        ),
    )
    return render(request, "students/checkin.html", context)


# ---------------------------------------------------------------- 学籍管理


@roles_required(*ALL_ROLES)
def student_list(request: AuthedRequest) -> HttpResponse:
    records = student_filter(students_visible_to(request.user), request.GET)
    context = _page(request, records.select_related("offering__major", "direction", "school", "school_class"))
    context.update(_filter_choices(request))
    context["is_registrar"] = request.user.role == Role.REGISTRAR
    context["show_school"] = request.user.role in (Role.DISTRICT_REVIEWER, Role.CITY_ADMIN)
    return render(request, "students/list.html", context)


@require_POST
@roles_required(Role.REGISTRAR)
def student_action(request: AuthedRequest) -> HttpResponse:
    records = _selected(request, student_filter(students_visible_to(request.user), request.POST))
    action = request.POST.get("action")
    if action == "submit":
        result = transition_apply(
            actor=request.user, action=Action.SUBMIT, students=records, check=services.submit_check, request=request
        )
        _report(request, "已提交审核", result)
    elif action == "undo":
        undone = services.checkin_undo(actor=request.user, students=records, request=request)
        if undone.undone:
            messages.success(request, f"已撤销报到 {undone.undone} 人，招生信息恢复为待报到。")
        if undone.refused:
            messages.error(request, f"以下学生已提交过审核，不能撤销报到：{'、'.join(undone.refused[:20])}")
    else:
        messages.error(request, "未知的操作")
    return _back(request, "students:list")


@roles_required(*ALL_ROLES)
def student_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    student = get_object_or_404(
        students_visible_to(request.user).select_related("school", "offering__major", "direction", "school_class"),
        pk=pk,
    )
    show_personal = can_see_personal_data(request.user)
    items = []
    for f in FIELDS:
        value = student.data.get(f.key)
        text = "" if value in (None, "") else str(value)
        items.append((f.label, shown_field_value(f, text, show_personal)))
    history = student.actions.select_related("actor")
    return render(
        request,
        "students/detail.html",
        {
            "student": student,
            "shown_no": student.student_no if show_personal else mask_student_no(student.student_no),
            "items": items,
            "history": history,
            "labels": ACTION_LABELS,
            "states": dict(State.choices),
        },
    )


# ---------------------------------------------------------------- 编辑 and 批量处理


@roles_required(Role.REGISTRAR)
def student_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    student = get_object_or_404(
        students_visible_to(request.user).select_related("school", "direction", "school_class"), pk=pk
    )
    reason = edits.read_only_reason(student.state)
    if reason:
        messages.error(request, f"{student.name}：{reason}")
        return redirect("students:detail", pk=student.pk)
    catalog = school_catalog(student.school)
    # The version the form was filled from travels with it: a save over a newer change is refused.
    edited_at = student.updated_at.isoformat()
    if request.method != "POST":
        form = AdmissionForm(None, catalog=catalog, initial=student_initial(student))
    else:
        form = AdmissionForm(request.POST, catalog=catalog)
        edited_at = request.POST.get("edited_at") or ""
        try:
            loaded_at = datetime.datetime.fromisoformat(edited_at) if edited_at else None
        except ValueError:
            loaded_at = None
        result = edits.student_update(
            actor=request.user, student=student, raw=form.raw(), loaded_at=loaded_at, request=request
        )
        if result.ok:
            if result.changed:
                labels = "、".join(FIELDS_BY_KEY[key].label for key in result.changed)
                messages.success(request, f"已保存：{student.name}（修改了{labels}）")
            else:
                messages.info(request, "没有修改任何内容。")
            return redirect("students:detail", pk=student.pk)
        for error in result.errors:
            if error.severity == "error":
                form.add_error(error.key if error.key in form.fields else None, error.message)
    context = {"form": form, "groups": form_groups(form), "student": student, "edited_at": edited_at}
    return render(request, "students/edit.html", context)


@require_POST
@roles_required(Role.REGISTRAR)
def student_batch(request: AuthedRequest) -> HttpResponse:
    """批量处理: the list's selection (ticked, or all that match) comes in; the first POST shows the fields to
    set, the second (``apply``) sets them and shows who changed and who did not, and why."""
    # The list's filters arrive as they are from the list, and as "f-<name>" from the batch page itself,
    # whose own fields (专业, 年级, …) share names with the filters.
    post = request.POST
    if "apply" in post:
        filters = {k: post.get(f"f-{k}", "") for k in FILTER_KEYS}
    else:
        filters = {k: post.get(k, "") for k in FILTER_KEYS}
    records = _selected(request, student_filter(students_visible_to(request.user), filters))
    school = request.user.school
    count = records.count()
    if not count or school is None:
        messages.info(request, "没有选中学生：请先勾选学生，或点“按条件批量处理”。")
        return _back(request, "students:list", filters)
    chosen = {key for key in request.POST.getlist("set") if key in edits.BATCH_KEYS}
    majors = list(records.order_by().values_list("offering__major__code", flat=True).distinct()[:2])
    initial = {"major": majors[0]} if len(majors) == 1 else None
    form = batch_form(
        request.POST if "apply" in request.POST else None, catalog=school_catalog(school), initial=initial
    )
    context: dict[str, object] = {
        "count": count,
        "read_only": records.exclude(state=State.UNSUBMITTED).count(),
        "selection": [(f"f-{k}", v) for k, v in filters.items() if v] + [("scope", post.get("scope", ""))],
        "ids": post.getlist("ids") if post.get("scope") != "all" else [],
        "filter_items": [(k, v) for k, v in filters.items() if v],
    }
    if "apply" in request.POST:
        values = {f.key: request.POST.get(f.key, "") for f in edits.BATCH_FIELDS if f.key in chosen}
        try:
            result = edits.students_batch_update(actor=request.user, students=records, values=values, request=request)
        except edits.BatchError as error:
            context["error"] = str(error)
        else:
            labels = "、".join(FIELDS_BY_KEY[key].label for key in values)
            context.update(result=result, labels=labels, refused=result.refused[:500])
            return render(request, "students/batch_result.html", context)
    context["rows"] = batch_rows(form, chosen)
    return render(request, "students/batch.html", context)


# ---------------------------------------------------------------- 导出

CONTENT_TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "csv": "text/csv"}
EXPORT_JOBS_SHOWN = 10


def _export_jobs_context(request: AuthedRequest) -> dict[str, object]:
    jobs = list(exports.export_jobs_visible_to(request.user)[:EXPORT_JOBS_SHOWN])
    active = any(j.status in (j.Status.QUEUED, j.Status.RUNNING) for j in jobs)
    return {"jobs": jobs, "active": active}


@roles_required(*ALL_ROLES)
def student_export(request: AuthedRequest) -> HttpResponse:
    """导出 with 导出项选择: GET shows the columns to tick for the list's filters; POST writes the file at once
    (small) or queues a background export with a progress bar (large)."""
    params: QueryDict = request.POST if request.method == "POST" else request.GET
    filters = exports.clean_filters(params)
    students = exports.export_queryset(request.user, filters)
    chosen = exports.clean_columns(params.getlist("columns")) if request.method == "POST" else []
    file_format = "csv" if params.get("format") == "csv" else "xlsx"
    context: dict[str, object] = {
        "groups": exports.column_groups(),
        "chosen": set(chosen or exports.DEFAULT_COLUMNS),
        "format": file_format,
        "filter_items": list(filters.items()),
        "show_school": request.user.role in (Role.DISTRICT_REVIEWER, Role.CITY_ADMIN),
        "masked": not can_see_personal_data(request.user),
        "limit": exports.export_inline_limit(),
        **_export_jobs_context(request),
    }
    if request.method == "POST":
        total = students.count()
        if not chosen:
            context["error"] = "请至少勾选一个导出项"
        elif not total:
            context["error"] = "没有符合条件的学生，未导出"
        elif total > exports.export_inline_limit():
            exports.export_job_create(
                user=request.user, filters=filters, columns=chosen, file_format=file_format, total=total
            )
            messages.success(request, f"共 {total} 人，正在后台导出，完成后可在下方下载。")
            response = redirect("students:export")
            if filters:
                response["Location"] += "?" + urlencode(filters)
            return response
        else:
            content, _count = exports.export_now(
                user=request.user, filters=filters, columns=chosen, file_format=file_format, request=request
            )
            name = f"学籍导出-{timezone.localtime():%Y%m%d-%H%M}.{file_format}"
            download = HttpResponse(content, content_type=CONTENT_TYPES[file_format])
            download["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
            return download
        context["chosen"] = set(chosen or exports.DEFAULT_COLUMNS)
    context["total"] = students.count()
    return render(request, "students/export.html", context)


@roles_required(*ALL_ROLES)
def export_jobs(request: AuthedRequest) -> HttpResponse:
    """htmx: the user's exports, polled every second while one is queued or running."""
    return render(request, "students/export_jobs.html", _export_jobs_context(request))


@roles_required(*ALL_ROLES)
def export_download(request: AuthedRequest, pk: int) -> FileResponse:
    job = get_object_or_404(exports.export_jobs_visible_to(request.user), pk=pk)
    path = exports.export_file(job)
    if path is None:
        raise Http404
    return FileResponse(
        path.open("rb"), as_attachment=True, filename=job.download_name, content_type=CONTENT_TYPES[job.file_format]
    )


# ---------------------------------------------------------------- 学籍审核


@roles_required(*REVIEWERS)
def review(request: AuthedRequest) -> HttpResponse:
    queue = review_queue(request.user)
    if request.method == "POST":
        action = Action.RETURN if request.POST.get("action") == "return" else Action.APPROVE
        try:
            result = transition_apply(
                actor=request.user,
                action=action,
                students=_selected(request, student_filter(queue, request.POST)),
                reason=request.POST.get("reason", ""),
                request=request,
            )
        except ValidationError as error:
            messages.error(request, "；".join(error.messages))
        else:
            _report(
                request,
                "已审核通过" if action == Action.APPROVE else "已退回",
                result,
                held="以下学生未审核通过，仍在待审核中",
            )
        return _back(request, "students:review")
    records = student_filter(queue, request.GET)
    context = _page(request, records.select_related("offering__major", "direction", "school"))
    context.update(_filter_choices(request))
    context["pending_total"] = queue.count()
    context["show_school"] = request.user.role in (Role.DISTRICT_REVIEWER, Role.CITY_ADMIN)
    return render(request, "students/review.html", context)


# ---------------------------------------------------------------- 学籍状态


@roles_required(*ALL_ROLES)
def status(request: AuthedRequest) -> HttpResponse:
    students = students_visible_to(request.user)
    overall = state_counts(students)[0]
    context: dict[str, object] = {"overall": overall, "states": State.choices}
    if request.user.role == Role.CITY_ADMIN:
        context["by_district"] = state_counts(students, "district")
    if request.user.role in (Role.CITY_ADMIN, Role.DISTRICT_REVIEWER):
        context["by_school"] = state_counts(students, "school")
    total = overall["total"]
    context["all_approved"] = bool(total) and overall[State.APPROVED.value] == total
    return render(request, "students/status.html", context)


# ---------------------------------------------------------------- 档案管理 (students migrated from the old system)


@roles_required(*ALL_ROLES)
def archive(request: AuthedRequest) -> HttpResponse:
    """The migrated students, with the same query, export and print tools as 学籍管理 (filter source=legacy);
    the registrar loads a file exported from the old system here."""
    user = request.user
    if request.method == "POST":
        if user.role != Role.REGISTRAR:
            raise PermissionDenied
        school = get_object_or_404(schools_visible_to(user))
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, "请选择原系统导出的文件（xlsx、xls、ods 或 csv）")
            return redirect("students:archive")
        path = private_dir("legacy") / f"{uuid.uuid4().hex}-upload"
        try:
            save_upload(upload, path)  # type: ignore[arg-type]
            result = legacy_import(path=path, school=school, actor=user)
        except WorkbookError as error:
            messages.error(request, f"无法迁入“{upload.name}”：{error.message}")
            return redirect("students:archive")
        finally:
            path.unlink(missing_ok=True)
        if result.loaded:
            messages.success(request, f"已迁入 {result.loaded} 人（审核通过，保留原学籍号）。")
        if result.failed:
            lines = "；".join(f"第{row}行：{reason}" for row, reason in result.failed[:20])
            more = f"（共 {len(result.failed)} 行，仅列出前20行）" if len(result.failed) > 20 else ""
            messages.error(request, f"以下行未迁入：{lines}{more}")
        return redirect("students:archive")
    records = student_filter(students_visible_to(user).filter(source=Student.Source.LEGACY), request.GET)
    context = _page(request, records.select_related("offering__major", "school", "school_class"))
    context["is_registrar"] = user.role == Role.REGISTRAR
    context["show_school"] = user.role in (Role.DISTRICT_REVIEWER, Role.CITY_ADMIN)
    return render(request, "students/archive.html", context)
