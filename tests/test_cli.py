"""The `xueji` command: demo data, reference loading, deploy checks, the audit verifier."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest


def _run(args: list[str], data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    environment.update({"XUEJI_DATA_DIR": str(data_dir), "DJANGO_SETTINGS_MODULE": "xueji.settings", **env})
    return subprocess.run(
        [sys.executable, "-m", "xueji", *args], capture_output=True, text=True, env=environment, timeout=180
    )


def test_demo_prepares_an_embedded_install_with_accounts_for_every_role(tmp_path: Path) -> None:
    result = _run(["demo", "--no-serve"], tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "行政区划 6823 条" in out
    for role in ("市级管理员", "区县审核人", "校领导", "学籍管理员"):
        assert role in out
    assert "xj3111010001" in out and "Xueji-demo-2026" in out
    assert (tmp_path / "xueji.sqlite3").exists()
    # Running it again is safe: same accounts, nothing duplicated.
    again = _run(["demo", "--no-serve"], tmp_path)
    assert again.returncode == 0 and again.stdout.count("xj3111010001") == 1
    verify = _run(["verify-audit"], tmp_path)
    assert verify.returncode == 0 and "哈希链校验通过" in verify.stdout
    # The demo's admission list came in through the real import once: 58 rows, 2 left wrong on purpose.
    assert "已为第一所演示学校导入 58 条招生信息" in out
    assert "导入" not in again.stdout
    assert _run(["audit", "verify"], tmp_path).returncode == 0


def test_deploy_check_passes_with_production_settings(tmp_path: Path) -> None:
    result = _run(
        ["manage", "check", "--deploy", "--fail-level", "WARNING"],
        tmp_path,
        XUEJI_HTTPS="1",
        XUEJI_SECRET_KEY=secrets.token_urlsafe(60),
        XUEJI_ALLOWED_HOSTS="xueji.example.edu.cn",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_debug_is_off_unless_asked(tmp_path: Path) -> None:
    code = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
    env = {k: v for k, v in os.environ.items() if k not in ("XUEJI_DEBUG",)}
    env.update({"XUEJI_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "xueji.settings"})
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "False"


def test_secret_key_can_come_from_a_file(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("k" * 60 + "\n", encoding="utf-8")
    code = "import django; django.setup(); from django.conf import settings; print(settings.SECRET_KEY)"
    env = {
        **os.environ,
        "XUEJI_DATA_DIR": str(tmp_path),
        "XUEJI_SECRET_KEY_FILE": str(key_file),
        "DJANGO_SETTINGS_MODULE": "xueji.settings",
    }
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "k" * 60


def test_unknown_command_is_refused_with_usage(tmp_path: Path) -> None:
    result = _run(["frobnicate"], tmp_path)
    assert result.returncode == 2 and "invalid choice" in result.stderr


@pytest.mark.django_db
def test_create_city_refuses_a_district_code(tmp_path: Path) -> None:
    result = _run(["create-city", "110101"], tmp_path)
    assert result.returncode != 0
    assert "不是有效的省级或地级行政区划代码" in result.stderr
