"""改名: evidence checked by content, stored privately, seen only in scope; approval renames and resolves."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.conftest import World
from xueji.reconcile.matching import Category
from xueji.reconcile.models import NameChange
from xueji.reconcile.namechange import evidence_dir, name_change_decide, name_change_file
from xueji.reconcile.selectors import findings_for, reconcile_blockers
from xueji.students.models import Student

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def file_change(world: World, new_name: str = "李晓红") -> NameChange:
    return name_change_file(
        student=world.student_a,
        actor=world.registrar_a,
        new_name=new_name,
        evidence_kind="police",
        files=[(io.BytesIO(PDF), "证明.pdf")],
    )


def test_evidence_of_the_wrong_type_is_refused(world: World) -> None:
    client = world.client_for(world.registrar_a)
    before = set(evidence_dir().iterdir())
    fake = SimpleUploadedFile("证明.pdf", b"MZ\x90\x00 an executable renamed to pdf", content_type="application/pdf")
    response = client.post(
        reverse("reconcile:name_change_new", kwargs={"student_pk": world.student_a.pk}),
        {"new_name": "李晓红", "evidence_kind": "police", "files": fake},
    )
    assert response.status_code == 200
    assert "不是PDF、JPG或PNG文件" in response.content.decode()
    assert not NameChange.objects.exists() and set(evidence_dir().iterdir()) == before


def test_oversized_evidence_is_refused(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("xueji.reconcile.namechange.MAX_EVIDENCE_BYTES", 1024)
    with pytest.raises(Exception, match="超过"):
        name_change_file(
            student=world.student_a,
            actor=world.registrar_a,
            new_name="李晓红",
            evidence_kind="household",
            files=[(io.BytesIO(PNG + b"\x00" * 2048), "户口卡.png")],
        )
    assert not NameChange.objects.exists()


def test_filed_by_the_registrar_and_stored_privately(world: World) -> None:
    client = world.client_for(world.registrar_a)
    response = client.post(
        reverse("reconcile:name_change_new", kwargs={"student_pk": world.student_a.pk}),
        {"new_name": "李晓红", "evidence_kind": "police", "files": SimpleUploadedFile("证明.png", PNG)},
    )
    change = NameChange.objects.get()
    assert response.status_code == 302 and change.old_name == "李小红" and change.status == "pending"
    stored = change.files.get()
    assert stored.content_type == "image/png"
    assert (Path(evidence_dir()) / stored.stored_name).read_bytes() == PNG
    url = reverse("reconcile:name_change_evidence", kwargs={"pk": change.pk, "file_pk": stored.pk})
    assert b"".join(world.client_for(world.reviewer_a).get(url).streaming_content) == PNG  # type: ignore[attr-defined]
    for persona in ("registrar_b", "reviewer_b"):
        assert world.client_for(getattr(world, persona)).get(url).status_code == 404
    assert world.client_for(world.city_admin).get(url).status_code == 403


def test_return_needs_a_reason_and_keeps_the_name(world: World) -> None:
    change = file_change(world)
    with pytest.raises(Exception, match="退回必须填写原因"):
        name_change_decide(change_id=change.pk, actor=world.reviewer_a, approve=False)
    name_change_decide(change_id=change.pk, actor=world.reviewer_a, approve=False, reason="证明材料不清晰")
    world.student_a.refresh_from_db()
    assert world.student_a.name == "李小红"


def test_approval_renames_keeps_the_former_name_and_resolves_the_mismatch(roster_world: World) -> None:
    w = roster_world
    assert reconcile_blockers([w.student_a.pk])
    change = file_change(w)
    client = w.client_for(w.reviewer_a)
    client.post(reverse("reconcile:name_change_decide", kwargs={"pk": change.pk}), {"action": "approve"})
    student = Student.objects.get(pk=w.student_a.pk)
    assert student.name == "李晓红" and student.data["former_name"] == "李小红"
    assert reconcile_blockers([student.pk]) == {}
    _load, findings = findings_for(w.registrar_a)
    assert [f.category for f in findings if f.registered and f.registered.student_id == student.pk] == [Category.MATCH]


def test_a_reviewer_of_another_district_cannot_decide(world: World) -> None:
    change = file_change(world)
    response = world.client_for(world.reviewer_b).post(
        reverse("reconcile:name_change_decide", kwargs={"pk": change.pk}), {"action": "approve"}
    )
    assert response.status_code == 404
    change.refresh_from_db()
    assert change.status == "pending"


def test_the_registrar_finds_the_student_to_rename(world: World) -> None:
    page = world.client_for(world.registrar_a).get(reverse("reconcile:name_changes"), {"q": "李小"}).content.decode()
    assert reverse("reconcile:name_change_new", kwargs={"student_pk": world.student_a.pk}) in page
    page = world.client_for(world.registrar_b).get(reverse("reconcile:name_changes"), {"q": "李小"}).content.decode()
    assert "没有找到该学生" in page
