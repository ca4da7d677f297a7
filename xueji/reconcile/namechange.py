"""改名: filing with evidence (type checked by content), the district's decision, and the rename itself."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from xueji.audit.services import audit_record
from xueji.orgs.models import Role, User
from xueji.reconcile.models import NameChange, NameChangeFile
from xueji.storage import private_dir
from xueji.students.models import Student
from xueji.students.selectors import students_visible_to

MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
MAX_EVIDENCE_FILES = 5
# By the first bytes, never by the name or the browser's content type: a renamed .exe stays refused.
SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
)


def evidence_dir() -> Path:
    return private_dir("name_changes")


def name_changes_visible_to(user: User) -> QuerySet[NameChange]:
    """The school and its district reviewers; evidence files are personal documents, the city does not browse them."""
    if user.role not in (Role.REGISTRAR, Role.SCHOOL_LEADER, Role.DISTRICT_REVIEWER):
        return NameChange.objects.none()
    return NameChange.objects.filter(student__in=students_visible_to(user))


def evidence_type(head: bytes) -> tuple[str, str] | None:
    for signature, content_type, extension in SIGNATURES:
        if head.startswith(signature):
            return content_type, extension
    return None


def store_evidence(stream: BinaryIO, original_name: str) -> tuple[str, str, int, str]:
    """Copy one upload under a random name; (stored name, content type, size, sha256). ValidationError if bad."""
    head = stream.read(16)
    kind = evidence_type(head)
    if kind is None:
        raise ValidationError(f"“{original_name}”不是PDF、JPG或PNG文件，请上传证明材料的扫描件或照片")
    content_type, extension = kind
    stored = f"{uuid.uuid4().hex}.{extension}"
    target = evidence_dir() / stored
    digest = hashlib.sha256(head)
    size = len(head)
    with target.open("wb") as out:
        out.write(head)
        while chunk := stream.read(1 << 20):
            size += len(chunk)
            if size > MAX_EVIDENCE_BYTES:
                out.close()
                target.unlink(missing_ok=True)
                raise ValidationError(f"“{original_name}”超过{MAX_EVIDENCE_BYTES // 1024 // 1024} MB")
            digest.update(chunk)
            out.write(chunk)
    return stored, content_type, size, digest.hexdigest()


def name_change_file(
    *,
    student: Student,
    actor: User,
    new_name: str,
    evidence_kind: str,
    files: Sequence[tuple[BinaryIO, str]],
    request: HttpRequest | None = None,
) -> NameChange:
    errors: dict[str, str] = {}
    new_name = " ".join(new_name.split())
    if not new_name:
        errors["new_name"] = "请填写新姓名"
    elif len(new_name) > 50:
        errors["new_name"] = "姓名不能超过50个字符"
    elif new_name == student.name:
        errors["new_name"] = "新姓名与现姓名相同"
    if evidence_kind not in NameChange.Evidence.values:
        errors["evidence_kind"] = "请选择证明材料的种类"
    if not files:
        errors["files"] = "请上传证明材料（PDF、JPG或PNG）"
    elif len(files) > MAX_EVIDENCE_FILES:
        errors["files"] = f"证明材料最多{MAX_EVIDENCE_FILES}个文件"
    if errors:
        raise ValidationError(errors)
    stored: list[tuple[str, str, str, int, str]] = []
    try:
        for stream, original in files:
            stored.append((original[:255], *store_evidence(stream, original)))
        with transaction.atomic():
            change = NameChange.objects.create(
                student=student, old_name=student.name, new_name=new_name, evidence_kind=evidence_kind, filed_by=actor
            )
            NameChangeFile.objects.bulk_create(
                NameChangeFile(name_change=change, original_name=o, stored_name=s, content_type=t, size=n, sha256=h)
                for o, s, t, n, h in stored
            )
            audit_record(
                actor=actor,
                action="name_change.file",
                obj=change,
                before={"name": student.name},
                after={"name": new_name, "files": len(stored)},
                request=request,
            )
    except IntegrityError:
        _remove(stored)
        raise ValidationError("该学生已有待审核的改名申请") from None
    except BaseException:
        _remove(stored)
        raise
    return change


def _remove(stored: list[tuple[str, str, str, int, str]]) -> None:
    for _original, name, *_rest in stored:
        (evidence_dir() / name).unlink(missing_ok=True)


def name_change_decide(
    *, change_id: int, actor: User, approve: bool, reason: str = "", request: HttpRequest | None = None
) -> NameChange:
    """The district's decision. Approval renames the student and keeps the old name as 曾用名 (data former_name)."""
    reason = reason.strip()
    if not approve and not reason:
        raise ValidationError({"reason": "退回必须填写原因"})
    with transaction.atomic():
        # The lock makes two reviewers deciding at once act one after the other: the second finds it decided.
        change = name_changes_visible_to(actor).select_for_update().get(pk=change_id)
        if change.status != NameChange.Status.PENDING:
            raise ValidationError("该改名申请已经处理过")
        change.status = NameChange.Status.APPROVED if approve else NameChange.Status.RETURNED
        change.decided_by = actor
        change.decided_at = timezone.now()
        change.return_reason = "" if approve else reason[:500]
        change.save(update_fields=["status", "decided_by", "decided_at", "return_reason"])
        if approve:
            student = Student.objects.select_for_update().get(pk=change.student_id)
            student.data = {**student.data, "name": change.new_name, "former_name": change.old_name}
            student.name = change.new_name
            student.updated_at = timezone.now()
            student.save(update_fields=["name", "data", "updated_at"])
        audit_record(
            actor=actor,
            action="name_change.approve" if approve else "name_change.return",
            obj=change,
            before={"name": change.old_name},
            after={"name": change.new_name if approve else change.old_name, "reason": reason},
            request=request,
        )
    return change
