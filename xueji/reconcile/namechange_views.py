"""改名 screens: the school files, the district decides, evidence shown only within that scope."""

from __future__ import annotations

from typing import BinaryIO, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from xueji.audit.services import audit_record
from xueji.orgs.models import Role
from xueji.orgs.views import AuthedRequest, roles_required
from xueji.reconcile import namechange
from xueji.reconcile.models import NameChange
from xueji.records.idnumber import normalise_id_number
from xueji.students.selectors import students_visible_to

SEES = (Role.REGISTRAR, Role.SCHOOL_LEADER, Role.DISTRICT_REVIEWER)


@roles_required(*SEES)
def name_change_list(request: AuthedRequest) -> HttpResponse:
    changes = namechange.name_changes_visible_to(request.user).select_related("student__school")
    status = request.GET.get("status") or ""
    if status in NameChange.Status.values:
        changes = changes.filter(status=status)
    # The registrar's way in: find the student by name or ID number, then file the change from the result.
    q = (request.GET.get("q") or "").strip()[:40]
    found = None
    if q and request.user.role == Role.REGISTRAR:
        number = normalise_id_number(q)
        students = students_visible_to(request.user)
        found = list(
            (
                students.filter(id_number=number)
                if any(c.isdigit() for c in number)
                else students.filter(name__startswith=q)
            ).order_by("name")[:20]
        )
    return render(
        request,
        "reconcile/name_changes.html",
        {
            "changes": changes[:200],
            "statuses": NameChange.Status.choices,
            "status": status,
            "q": q,
            "found": found,
            "is_registrar": request.user.role == Role.REGISTRAR,
        },
    )


@roles_required(Role.REGISTRAR)
def name_change_new(request: AuthedRequest, student_pk: int) -> HttpResponse:
    student = get_object_or_404(students_visible_to(request.user), pk=student_pk)
    errors: list[str] = []
    if request.method == "POST":
        uploads = request.FILES.getlist("files")
        try:
            change = namechange.name_change_file(
                student=student,
                actor=request.user,
                new_name=request.POST.get("new_name", ""),
                evidence_kind=request.POST.get("evidence_kind", ""),
                files=[(cast(BinaryIO, f), f.name or "证明材料") for f in uploads],
                request=request,
            )
        except ValidationError as error:
            errors = error.messages
        else:
            messages.success(request, f"已提交改名申请：{change.old_name} → {change.new_name}，等待区县审核。")
            return redirect("reconcile:name_change_detail", pk=change.pk)
    return render(
        request,
        "reconcile/name_change_new.html",
        {"student": student, "kinds": NameChange.Evidence.choices, "errors": errors, "posted": request.POST},
    )


@roles_required(*SEES)
def name_change_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    change = get_object_or_404(
        namechange.name_changes_visible_to(request.user).select_related("student__school", "filed_by", "decided_by"),
        pk=pk,
    )
    return render(
        request,
        "reconcile/name_change_detail.html",
        {
            "change": change,
            "files": change.files.all(),
            "can_decide": request.user.role == Role.DISTRICT_REVIEWER and change.status == NameChange.Status.PENDING,
        },
    )


@roles_required(*SEES)
def name_change_evidence(request: AuthedRequest, pk: int, file_pk: int) -> FileResponse:
    change = get_object_or_404(namechange.name_changes_visible_to(request.user), pk=pk)
    evidence = get_object_or_404(change.files.all(), pk=file_pk)
    path = namechange.evidence_dir() / evidence.stored_name
    if not path.is_file():
        raise Http404
    audit_record(actor=request.user, action="name_change.evidence_view", obj=change, after={"file": evidence.pk})
    return FileResponse(
        path.open("rb"), filename=evidence.original_name, content_type=evidence.content_type, as_attachment=False
    )


@require_POST
@roles_required(Role.DISTRICT_REVIEWER)
def name_change_decide(request: AuthedRequest, pk: int) -> HttpResponse:
    change = get_object_or_404(namechange.name_changes_visible_to(request.user), pk=pk)
    approve = request.POST.get("action") == "approve"
    try:
        namechange.name_change_decide(
            change_id=change.pk,
            actor=request.user,
            approve=approve,
            reason=request.POST.get("reason", ""),
            request=request,
        )
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
    else:
        messages.success(request, "已审核通过，姓名已更改，原姓名记为曾用名。" if approve else "已退回改名申请。")
    return redirect("reconcile:name_change_detail", pk=change.pk)
