"""A 上报盘 checked against the filed record of the grade's closed campaign: differences are notes beside the
verdict, never a rejection."""

from __future__ import annotations

import io
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.campaigns.helpers import open_campaign
from tests.conftest import World
from tests.roster.helpers import add_students
from xueji.campaigns.closing import campaign_close
from xueji.cli import main
from xueji.reconcile.namechange import name_change_decide, name_change_file
from xueji.roster.filing import Verification, package_build, package_verify, scope_of_district, scope_of_school
from xueji.roster.models import FilingPackage
from xueji.students.models import State, Student


def _close(world: World) -> None:
    campaign = open_campaign(world)
    campaign_close(actor=world.city_admin, campaign_id=campaign.pk)


def _verify_district(world: World, tmp_path: Path) -> Verification:
    path = tmp_path / "district.zip"
    path.write_bytes(package_build(user=world.reviewer_a, scope=scope_of_district(world.district_a), grade=2026))
    return package_verify(path, city=world.city_admin.region)


def test_a_package_matching_the_filed_record_has_no_notes(world: World, tmp_path: Path) -> None:
    add_students(world, 3)
    _close(world)
    result = _verify_district(world, tmp_path)
    assert result.ok, result.reason
    assert result.filed_notes == []


def test_students_approved_after_the_close_and_filed_students_missing_are_noted(world: World, tmp_path: Path) -> None:
    filed = add_students(world, 3)
    _close(world)
    late = add_students(world, 1, start=200)[0]  # approved after the close: not filed
    Student.objects.filter(pk=filed[2].pk).update(state=State.REVIEW_CITY)  # no longer approved
    result = _verify_district(world, tmp_path)
    assert result.ok, result.reason  # the package still matches the database: received
    assert result.filed_notes == [
        f"备案记录中有 1 人不在上报盘的审核通过名单中：{filed[2].name}（{filed[2].student_no}）",
        f"上报盘中有 1 名审核通过的学生不在2026年度新生学籍备案的备案记录中（备案后才审核通过，或未备案）："
        f"{late.name}（{late.student_no}）",
    ]
    # The city's upload keeps the notes and shows them on the received-packages list.
    client = world.client_for(world.city_admin)
    data = (tmp_path / "district.zip").read_bytes()
    client.post(reverse("roster:inbox"), {"file": SimpleUploadedFile("上报盘.zip", data)})
    package = FilingPackage.objects.latest("id")
    assert package.verdict == FilingPackage.Verdict.RECEIVED
    assert package.filed_notes == result.filed_notes
    page = client.get(reverse("roster:inbox")).content.decode()
    assert "备案后才审核通过，或未备案" in page and late.student_no in page


def test_a_schools_package_is_compared_with_that_schools_filed_students_only(world: World, tmp_path: Path) -> None:
    add_students(world, 2)  # at school A
    _close(world)
    path = tmp_path / "school_b.zip"
    path.write_bytes(package_build(user=world.city_admin, scope=scope_of_school(world.school_b), grade=2026))
    result = package_verify(path)
    assert result.ok, result.reason
    assert result.filed_notes == []


def test_a_name_changed_through_an_approved_name_change_after_the_close_is_explained(
    world: World, tmp_path: Path
) -> None:
    renamed, edited, _same = add_students(world, 3)
    _close(world)
    change = name_change_file(
        student=renamed,
        actor=world.registrar_a,
        new_name="刘岩",
        evidence_kind="police",
        files=[(io.BytesIO(b"%PDF-1.4 police certificate"), "证明.pdf")],
    )
    name_change_decide(change_id=change.pk, actor=world.reviewer_a, approve=True)
    Student.objects.filter(pk=edited.pk).update(name="吉田昇")  # changed without a 改名: not explained
    result = _verify_district(world, tmp_path)
    assert result.ok, result.reason
    assert result.filed_notes == [
        f"学籍号 {renamed.student_no} 的姓名与备案不同：备案为“刘䶮”，上报盘为“刘岩”（备案后已改名）",
        f"学籍号 {edited.student_no} 的姓名与备案不同：备案为“𠮷田昇”，上报盘为“吉田昇”",
    ]


def test_without_a_closed_campaign_nothing_is_said(world: World, tmp_path: Path) -> None:
    add_students(world, 2)
    open_campaign(world)  # open, not closed: there is no filed record yet
    assert _verify_district(world, tmp_path).filed_notes == []


def test_the_cli_prints_the_notes_beside_the_verdict(world: World, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    add_students(world, 2)
    _close(world)
    late = add_students(world, 1, start=200)[0]
    path = tmp_path / "district.zip"
    path.write_bytes(package_build(user=world.reviewer_a, scope=scope_of_district(world.district_a), grade=2026))
    assert main(["package", "verify", str(path)]) == 0
    out = capsys.readouterr().out
    assert "上报盘核对通过：东城区 2026级" in out
    assert "与备案记录比对（仅提示，不影响核对结果）：" in out
    late_note = f"不在2026年度新生学籍备案的备案记录中（备案后才审核通过，或未备案）：{late.name}（{late.student_no}）"
    assert late_note in out
