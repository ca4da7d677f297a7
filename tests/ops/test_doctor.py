"""`xueji doctor`: every check reports the fault it exists for, one line each, and the exit code says 错误."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

from tests.test_cli import _run
from xueji.audit.models import AuditEvent
from xueji.audit.services import audit_record
from xueji.cli import main
from xueji.ops import doctor
from xueji.ops.doctor import Status
from xueji.ops.models import WorkerHeartbeat
from xueji.ops.workers import worker_heartbeat

GOOD_KEY = "kJ7x-" * 12


@pytest.fixture
def production(settings, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Settings of a healthy deployment behind TLS; each test breaks one thing."""
    settings.DEBUG = False
    settings.SECRET_KEY = GOOD_KEY
    settings.ALLOWED_HOSTS = ["xueji.example.edu.cn"]
    settings.HTTPS = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = settings.SECURE_HSTS_PRELOAD = True
    settings.SECURE_SSL_REDIRECT = True
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.TASK_BACKEND = "db"
    settings.DATA_DIR = tmp_path
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    for name in ("main.ttf", "rare.ttf"):
        (fonts / name).write_bytes(b"\x00\x01\x00\x00" + b"\x00" * 64)
    settings.XUEJI_PDF_FONTS = [str(fonts / "main.ttf"), str(fonts / "rare.ttf")]
    return settings


@pytest.mark.django_db
def test_a_healthy_deployment_is_all_normal_and_exits_zero(production, capsys) -> None:  # type: ignore[no-untyped-def]
    worker_heartbeat()
    audit_record(actor=None, action="test.event")
    findings = doctor.doctor_run()
    assert {f.status for f in findings} == {Status.OK}, [f for f in findings if f.status is not Status.OK]
    assert main(["doctor"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(doctor.CHECKS)
    assert all(line.startswith("正常  ") for line in lines)
    assert any(line.startswith("正常  数据库迁移：已全部执行") for line in lines)


@pytest.mark.django_db
def test_debug_on_is_an_error_and_the_exit_code_says_so(production, capsys) -> None:  # type: ignore[no-untyped-def]
    production.DEBUG = True
    worker_heartbeat()
    assert main(["doctor"]) == 1
    assert "错误  调试模式：XUEJI_DEBUG=1" in capsys.readouterr().out


def test_a_short_secret_key_is_an_error(production) -> None:  # type: ignore[no-untyped-def]
    production.SECRET_KEY = "secret"
    finding = doctor.check_secret_key()
    assert finding.status is Status.ERROR and "太短或太简单" in finding.detail


def test_secret_key_source_is_reported(production, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("XUEJI_SECRET_KEY_FILE", "/run/secrets/xueji-key")
    assert "/run/secrets/xueji-key" in doctor.check_secret_key().detail


def test_any_host_is_an_error_and_local_only_a_warning(production) -> None:  # type: ignore[no-untyped-def]
    production.ALLOWED_HOSTS = ["*"]
    assert doctor.check_allowed_hosts().status is Status.ERROR
    production.ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    assert doctor.check_allowed_hosts().status is Status.WARNING


def test_plain_http_to_the_outside_is_a_warning(production) -> None:  # type: ignore[no-untyped-def]
    production.HTTPS = False
    finding = doctor.check_https()
    assert finding.status is Status.WARNING and "XUEJI_HTTPS=1" in finding.detail


def test_a_deploy_check_finding_is_reported(production) -> None:  # type: ignore[no-untyped-def]
    production.SECURE_CONTENT_TYPE_NOSNIFF = False
    finding = doctor.check_deploy()
    assert finding.status is Status.WARNING and "security.W006" in finding.detail


@pytest.mark.django_db
def test_no_worker_with_tasks_waiting_long_is_an_error(production) -> None:  # type: ignore[no-untyped-def]
    task = DBTaskResult.objects.create(
        args_kwargs={"args": [], "kwargs": {}}, task_path="xueji.admissions.tasks.import_job_task",
        backend_name="default", run_after=get_date_max(),
    )  # fmt: skip
    DBTaskResult.objects.filter(pk=task.pk).update(enqueued_at=timezone.now() - dt.timedelta(hours=1))
    finding = doctor.check_workers()
    assert finding.status is Status.ERROR and "没有在运行的后台任务进程" in finding.detail
    # A worker is alive but the task still waits: a warning that workers may be too few or stuck.
    worker_heartbeat()
    assert doctor.check_workers().status is Status.WARNING


@pytest.mark.django_db
def test_a_silent_worker_is_not_counted(production) -> None:  # type: ignore[no-untyped-def]
    worker_heartbeat()
    assert doctor.check_workers().status is Status.OK
    WorkerHeartbeat.objects.update(seen_at=timezone.now() - dt.timedelta(minutes=10))
    finding = doctor.check_workers()
    assert finding.status is Status.WARNING and "没有后台任务进程报到" in finding.detail


@pytest.mark.django_db
def test_unreachable_redis_is_an_error(production) -> None:  # type: ignore[no-untyped-def]
    production.TASK_BACKEND = "rq"
    production.REDIS_URL = "redis://:hunter2@127.0.0.1:1/0"
    production.RQ_QUEUES = {"default": {"URL": production.REDIS_URL}}
    finding = doctor.check_workers()
    assert finding.status is Status.ERROR and "无法连接 Redis" in finding.detail
    assert "hunter2" not in finding.detail  # the password is not printed


def test_low_disk_is_an_error_and_little_disk_a_warning(production, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    gib = 1024**3
    monkeypatch.setattr(doctor.shutil, "disk_usage", lambda _: SimpleNamespace(total=500 * gib, free=gib // 2))
    assert doctor.check_disk().status is Status.ERROR
    monkeypatch.setattr(doctor.shutil, "disk_usage", lambda _: SimpleNamespace(total=500 * gib, free=3 * gib))
    assert doctor.check_disk().status is Status.WARNING


def test_an_unwritable_data_directory_is_an_error(production, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    production.DATA_DIR = tmp_path / "does-not-exist"
    finding = doctor.check_disk()
    assert finding.status is Status.ERROR and "不可写" in finding.detail


def test_missing_fonts(production, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    main_font, rare_font = production.XUEJI_PDF_FONTS
    production.XUEJI_PDF_FONTS = [main_font, str(tmp_path / "HanaMinA.ttf")]
    assert doctor.check_fonts().status is Status.WARNING  # only rare characters suffer
    production.XUEJI_PDF_FONTS = [str(tmp_path / "wqy-microhei.ttc"), rare_font]
    finding = doctor.check_fonts()
    assert finding.status is Status.ERROR and "apt install fonts-wqy-microhei" in finding.detail
    cff = tmp_path / "NotoSansCJK.otf"
    cff.write_bytes(b"OTTO" + b"\x00" * 64)
    production.XUEJI_PDF_FONTS = [str(cff)]
    assert "OpenType/CFF" in doctor.check_fonts().detail


@pytest.mark.django_db
def test_an_altered_audit_event_is_an_error(production) -> None:  # type: ignore[no-untyped-def]
    first = audit_record(actor=None, action="test.first")
    audit_record(actor=None, action="test.second")
    AuditEvent.objects.filter(pk=first.pk).update(after={"changed": True})
    finding = doctor.check_audit()
    assert finding.status is Status.ERROR and "哈希链校验未通过" in finding.detail


@pytest.mark.django_db
def test_a_check_that_crashes_is_reported_and_the_rest_still_run(production, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    def broken() -> doctor.Finding:
        raise RuntimeError("font cache unreadable")

    monkeypatch.setattr(doctor, "CHECKS", [("PDF 字体", broken, False), *doctor.CHECKS[-1:]])
    findings = doctor.doctor_run()
    assert findings[0].status is Status.ERROR and "font cache unreadable" in findings[0].detail
    assert findings[1].name == "审计日志"


def test_unmigrated_database_and_unreachable_database(tmp_path: Path) -> None:
    fresh = _run(["doctor"], tmp_path)
    assert fresh.returncode == 1
    assert "错误  数据库迁移：" in fresh.stdout and "运行 xueji manage migrate" in fresh.stdout

    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(
        XUEJI_DATA_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="xueji.settings",
        DATABASE_URL="postgres://xueji:hunter2@127.0.0.1:1/xueji",
    )
    down = subprocess.run(
        [sys.executable, "-m", "xueji", "doctor"], capture_output=True, text=True, env=env, timeout=120
    )
    assert down.returncode == 1
    lines = down.stdout.splitlines()
    assert any(line.startswith("错误  数据库：检查失败") for line in lines), down.stdout
    assert "错误  审计日志：未检查：数据库无法连接" in lines
    assert "hunter2" not in down.stdout
