"""上报盘: a package made by a district or a school is received; a tampered one is rejected with the reason."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.conftest import World, make_user
from tests.roster.helpers import add_students
from xueji.audit.models import AuditEvent
from xueji.cli import main
from xueji.roster.filing import package_verify, packages_dir
from xueji.roster.models import FilingPackage
from xueji.students.models import State


def _export(world: World, user, **data) -> bytes:  # type: ignore[no-untyped-def]
    response = world.client_for(user).post(reverse("roster:package"), {"grade": "2026", **data})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    return response.content


def _upload(world: World, data: bytes, name: str = "上报盘.zip") -> FilingPackage:
    client = world.client_for(world.city_admin)
    response = client.post(reverse("roster:inbox"), {"file": SimpleUploadedFile(name, data)})
    assert response.status_code == 302
    return FilingPackage.objects.latest("id")


def _rezip(data: bytes, change) -> bytes:  # type: ignore[no-untyped-def]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = {info.filename: archive.read(info.filename) for info in archive.infolist()}
    change(members)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()


@pytest.fixture
def district_package(world: World) -> bytes:
    add_students(world, 5)
    return _export(world, world.reviewer_a)


def test_a_districts_package_is_received(world: World, district_package: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(district_package)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        assert set(archive.namelist()) == {
            "manifest.json",
            "roster.xlsx",
            "roster.pdf",
            "name_changes.json",
            "roster_corrections.json",
        }
    assert manifest["scope"] == {"kind": "district", "code": "110101", "name": "东城区"}
    assert manifest["counts"]["total"] == 6
    assert manifest["counts"]["by_state"][State.APPROVED] == 5
    assert manifest["name_changes"] == 0 and manifest["roster_corrections"] == 0
    assert manifest["generator"].startswith("xueji")
    package = _upload(world, district_package)
    assert package.verdict == FilingPackage.Verdict.RECEIVED, package.reason
    assert (package.scope_name, package.grade, package.uploaded_by) == ("东城区", 2026, world.city_admin)


def test_a_schools_own_package_is_received(world: World) -> None:
    package = _upload(world, _export(world, world.registrar_a))
    assert package.verdict == FilingPackage.Verdict.RECEIVED, package.reason
    assert package.scope_name == "东城职业教育中心"


def test_one_byte_changed_is_rejected(world: World, district_package: bytes) -> None:
    def flip(members: dict[str, bytes]) -> None:
        pdf = bytearray(members["roster.pdf"])
        pdf[len(pdf) // 2] ^= 0x01
        members["roster.pdf"] = bytes(pdf)

    package = _upload(world, _rezip(district_package, flip))
    assert package.verdict == FilingPackage.Verdict.REJECTED
    assert package.reason.startswith("文件 roster.pdf 的 SHA-256 与清单不符")


def test_a_removed_file_is_rejected(world: World, district_package: bytes) -> None:
    package = _upload(world, _rezip(district_package, lambda m: m.pop("roster.xlsx")))
    assert package.verdict == FilingPackage.Verdict.REJECTED
    assert package.reason == "缺少文件 roster.xlsx"


def test_an_edited_manifest_is_rejected(world: World, district_package: bytes) -> None:
    def edit(members: dict[str, bytes]) -> None:
        manifest = json.loads(members["manifest.json"])
        manifest["counts"]["by_state"][State.APPROVED] = 50
        members["manifest.json"] = json.dumps(manifest).encode()

    package = _upload(world, _rezip(district_package, edit))
    assert package.verdict == FilingPackage.Verdict.REJECTED
    assert package.reason == "清单签名不符：清单在导出后被改动过，或不是本系统导出的上报盘"


def test_a_package_that_no_longer_matches_the_database_is_rejected(world: World, district_package: bytes) -> None:
    world.student_a.state = State.REVIEW_DISTRICT
    world.student_a.save()
    package = _upload(world, district_package)
    assert package.verdict == FilingPackage.Verdict.REJECTED
    assert "“审核中（学校）”人数不符：清单 1 人，数据库 0 人" in package.reason
    assert "“审核中（区县）”人数不符：清单 0 人，数据库 1 人" in package.reason
    assert "名单中有 1 人与数据库不符或不在数据库中：李小红" in package.reason


def test_another_citys_package_is_rejected(world: World, district_package: bytes) -> None:
    client = world.client_for(world.other_city_admin)
    client.post(reverse("roster:inbox"), {"file": SimpleUploadedFile("p.zip", district_package)})
    package = FilingPackage.objects.get()
    assert package.city == world.other_city
    assert package.verdict == FilingPackage.Verdict.REJECTED
    assert package.reason == "清单中的范围在本市不存在"


def test_unsafe_archives_are_rejected(world: World) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("../manifest.json", "{}")
    assert _upload(world, out.getvalue()).reason == "文件结构异常：压缩包内含有不安全的路径"
    assert _upload(world, b"not a zip").reason == "不是有效的上报盘（ZIP）文件"


def test_district_cannot_export_a_school_of_another_district(world: World) -> None:
    response = world.client_for(world.reviewer_a).post(
        reverse("roster:package"), {"grade": "2026", "school": world.school_c.pk}
    )
    assert response.status_code == 404


def test_cli_verify_exit_codes(world: World, district_package: bytes, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    good = tmp_path / "good.zip"
    good.write_bytes(district_package)
    assert main(["package", "verify", str(good)]) == 0
    assert "上报盘核对通过：东城区 2026级，共 6 人" in capsys.readouterr().out
    bad = tmp_path / "bad.zip"
    bad.write_bytes(_rezip(district_package, lambda m: m.pop("roster.pdf")))
    assert main(["package", "verify", str(bad)]) == 1
    assert "缺少文件 roster.pdf" in capsys.readouterr().err
    assert package_verify(good).ok


def test_the_package_carries_the_periods_name_changes(world: World) -> None:
    from django.utils import timezone

    from xueji.reconcile.models import NameChange

    NameChange.objects.create(
        student=world.student_a, old_name="李小红", new_name="李晓红", evidence_kind=NameChange.Evidence.choices[0][0],
        status=NameChange.Status.APPROVED, decided_at=timezone.now(),
    )  # fmt: skip
    NameChange.objects.create(
        student=world.student_a, old_name="李晓红", new_name="李笑红", evidence_kind=NameChange.Evidence.choices[0][0]
    )  # still pending: not filed
    data = _export(world, world.reviewer_a)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        changes = json.loads(archive.read("name_changes.json"))
    assert manifest["name_changes"] == 1
    assert [(c["old_name"], c["new_name"]) for c in changes] == [("李小红", "李晓红")]
    assert world.student_a.id_number not in json.dumps(changes, ensure_ascii=False)
    assert _upload(world, data).verdict == FilingPackage.Verdict.RECEIVED


def test_the_city_keeps_each_uploaded_package_and_downloads_it_from_the_list(
    world: World, district_package: bytes
) -> None:
    received = _upload(world, district_package)
    rejected = _upload(world, _rezip(district_package, lambda m: m.pop("roster.xlsx")), name="坏的.zip")
    city = world.client_for(world.city_admin)
    page = city.get(reverse("roster:inbox")).content.decode()
    for package in (received, rejected):
        url = reverse("roster:package_download", kwargs={"pk": package.pk})
        assert url in page
        download = city.get(url)
        assert download.status_code == 200 and "attachment" in download["Content-Disposition"]
        body = b"".join(download.streaming_content)  # type: ignore[attr-defined]
        assert hashlib.sha256(body).hexdigest() == package.file_sha256
    assert b"".join(city.get(reverse("roster:package_download", kwargs={"pk": received.pk})).streaming_content) == (  # type: ignore[attr-defined]
        district_package
    )
    assert AuditEvent.objects.filter(action="filing.download", object_id=str(received.pk)).exists()
    # another city's administrator, and everyone else, cannot have it
    assert world.client_for(world.other_city_admin).get(
        reverse("roster:package_download", kwargs={"pk": received.pk})
    ).status_code == 404  # fmt: skip
    assert world.client_for(world.reviewer_a).get(
        reverse("roster:package_download", kwargs={"pk": received.pk})
    ).status_code == 403  # fmt: skip
    # stored privately: under MEDIA_ROOT, never its upload name, no leftover partial files
    stored = {p.name for p in packages_dir().iterdir()}
    assert {received.stored_name, rejected.stored_name} <= stored
    assert not [name for name in stored if name.startswith(".upload-")]
    assert str(packages_dir()).startswith(str(settings.MEDIA_ROOT))


def test_an_oversized_upload_is_refused_and_not_kept(world: World, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from xueji.records.workbook import Limits
    from xueji.roster import filing

    small = Limits(max_file_bytes=10, max_zip_entries=20, max_unpacked_bytes=100, max_entry_ratio=100)
    monkeypatch.setattr(filing, "PACKAGE_LIMITS", small)
    before = set(packages_dir().iterdir())
    package = _upload(world, b"PK" + b"x" * 100)
    assert package.verdict == FilingPackage.Verdict.REJECTED and package.stored_name == ""
    assert package.reason == "文件太大，不是正常的上报盘"
    assert set(packages_dir().iterdir()) == before
    page = world.client_for(world.city_admin).get(reverse("roster:inbox")).content.decode()
    assert reverse("roster:package_download", kwargs={"pk": package.pk}) not in page


@pytest.mark.usefixtures("immediate_tasks")
def test_a_large_package_is_built_in_the_background_and_received_like_any_other(
    world: World, settings, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    from xueji.roster.models import PackageJob

    settings.XUEJI_PACKAGE_INLINE_ROWS = 3
    add_students(world, 5)
    client = world.client_for(world.reviewer_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("roster:package"), {"grade": "2026"}, follow=True)
    assert "东城区 2026级共 6 人，正在后台生成上报盘" in response.content.decode()
    job = PackageJob.objects.get()
    assert (job.status, job.total_rows, job.scope_name, job.user) == ("done", 6, "东城区", world.reviewer_a)
    jobs = client.get(reverse("roster:package_jobs")).content.decode()
    url = reverse("roster:package_job_download", kwargs={"pk": job.pk})
    assert "已完成" in jobs and url in jobs and "hx-trigger" not in jobs
    download = client.get(url)
    assert download.status_code == 200 and "attachment" in download["Content-Disposition"]
    package = _upload(world, b"".join(download.streaming_content))  # type: ignore[attr-defined]
    assert package.verdict == FilingPackage.Verdict.RECEIVED, package.reason
    assert package.scope_name == "东城区"
    # the job is its user's: another reviewer of the same district does not see or download it
    other = make_user("reviewer_a2", "district_reviewer", region=world.district_a)
    assert world.client_for(other).get(url).status_code == 404
    assert world.client_for(world.registrar_a).get(url).status_code == 404


def test_a_queued_package_whose_user_lost_the_scope_fails_with_a_reason(world: World) -> None:
    from xueji.roster.filing import scope_of_district
    from xueji.roster.models import PackageJob
    from xueji.roster.packagejobs import package_job_create, package_job_run

    job = package_job_create(user=world.reviewer_a, scope=scope_of_district(world.district_a), grade=2026, total=1)
    page = world.client_for(world.reviewer_a).get(reverse("roster:package")).content.decode()
    assert "排队中" in page and 'hx-trigger="every 1s"' in page
    world.reviewer_a.region = world.district_b
    world.reviewer_a.save()
    package_job_run(job.pk)
    job = PackageJob.objects.get(pk=job.pk)
    assert (job.status, job.error_message, job.stored_name) == ("failed", "已无权导出该范围的上报盘", "")


def test_a_small_package_still_comes_straight_back(world: World) -> None:
    from xueji.roster.models import PackageJob

    assert _export(world, world.registrar_a)[:2] == b"PK"
    assert not PackageJob.objects.exists()
