"""Security headers on every response, no caching of anything a signed-in user receives, and the request log:
one line per request with its id, user, path, status and duration, JSON on request, never an ID number."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import World
from xueji.ops.logs import JsonFormatter, RequestContextFilter, TextFormatter

TEMPLATE_DIRS = sorted(Path(__file__).resolve().parents[2].joinpath("xueji").glob("*/templates"))
ID_NUMBER = "11010120100101001X"
INLINE = (r"<script(?![^>]*\bsrc=)[^>]*>", r"<style", r"\son[a-z]+\s*=", r"\sstyle\s*=", "javascript:")


def test_every_page_carries_the_security_headers(world: World) -> None:
    for response in (Client().get(reverse("login")), world.client_for(world.registrar_a).get(reverse("home"))):
        csp = response["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp and "style-src 'self'" in csp
        assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["X-Frame-Options"] == "DENY"
        assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_nothing_a_signed_in_user_receives_is_cached(world: World) -> None:
    client = world.client_for(world.registrar_a)
    page = client.get(reverse("admissions:index"))
    download = client.get(reverse("admissions:import_failures", args=[world.job_a.pk]))
    assert page.status_code == download.status_code == 200
    for response in (page, download):
        assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    # Static files stay cacheable, even for a signed-in user.
    static = client.get("/static/xueji/xueji.js")
    assert static.status_code == 200 and "no-store" not in static.get("Cache-Control", "")


def test_templates_have_no_inline_script_style_or_event_handler() -> None:
    """The CSP refuses them in the browser: behaviour belongs in static/xueji/xueji.js (data- attributes)."""
    offenders = []
    for folder in TEMPLATE_DIRS:
        for template in folder.rglob("*.html"):
            text = template.read_text(encoding="utf-8")
            for pattern in (
                r"<script(?![^>]*\bsrc=)[^>]*>",
                r"<style",
                r"\son[a-z]+\s*=",
                r"\sstyle\s*=",
                "javascript:",
            ):
                if re.search(pattern, text, re.IGNORECASE):
                    offenders.append(f"{template.relative_to(folder.parent.parent)}: {pattern}")
    assert offenders == []


def test_hsts_only_with_https(tmp_path: Path) -> None:
    code = (
        "import django; django.setup(); from django.test import Client; "
        "r = Client().get('/login/', secure=True, HTTP_HOST='xueji.example.edu.cn'); "
        "print(r.status_code, r.get('Strict-Transport-Security', 'none'))"
    )

    def run(**env: str) -> str:
        environment = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")}
        environment.update(
            XUEJI_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="xueji.settings",
            XUEJI_ALLOWED_HOSTS="xueji.example.edu.cn", **env,
        )  # fmt: skip
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    assert run(XUEJI_HTTPS="1") == "200 max-age=31536000; includeSubDomains; preload"
    assert run() == "200 none"


def test_each_request_logs_one_line_with_id_user_path_status_and_duration(world: World, caplog) -> None:  # type: ignore[no-untyped-def]
    client = world.client_for(world.registrar_a)
    with caplog.at_level(logging.INFO, logger="xueji.request"):
        response = client.get(reverse("admissions:index"), {"q": ID_NUMBER}, HTTP_X_REQUEST_ID="lb-4f2a9c01")
    (record,) = [r for r in caplog.records if r.name == "xueji.request"]
    RequestContextFilter().filter(record)
    entry = json.loads(JsonFormatter().format(record))
    assert response["X-Request-ID"] == "lb-4f2a9c01"  # the load balancer's id is kept, so the two logs join
    assert entry["request_id"] == "lb-4f2a9c01"
    assert entry["user_id"] == world.registrar_a.pk
    assert entry["method"] == "GET" and entry["path"] == reverse("admissions:index") and entry["status"] == 200
    assert isinstance(entry["duration_ms"], float)
    assert ID_NUMBER not in json.dumps(entry)  # the query string (a search by ID number) is never logged


def test_an_unsafe_incoming_request_id_is_replaced(world: World) -> None:
    response = Client().get(reverse("login"), HTTP_X_REQUEST_ID="x\r\nSet-Cookie: a=b")
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_id_numbers_are_masked_in_messages_and_tracebacks() -> None:
    logger = logging.getLogger("xueji.test")
    try:
        raise ValueError(f"duplicate key value violates unique constraint: (id_number)=({ID_NUMBER})")
    except ValueError:
        record = logger.makeRecord("xueji.test", logging.ERROR, __file__, 1, "student %s failed", (ID_NUMBER,),
                                   sys.exc_info())  # fmt: skip
    RequestContextFilter().filter(record)
    for formatted in (JsonFormatter().format(record), TextFormatter().format(record)):
        assert ID_NUMBER not in formatted
        assert "110101********001X" in formatted
    # A 学籍号 (G + ID number) and a 15-digit legacy number are masked too; shorter numbers are not.
    from xueji.ops.logs import mask_id_numbers

    assert mask_id_numbers("G110101201001010017 / 110101100101001") == "G110101********0017 / 110101*****1001"
    assert mask_id_numbers("job 12345, phone 13800138000") == "job 12345, phone 13800138000"


def test_json_log_lines_from_a_configured_process(tmp_path: Path) -> None:
    """XUEJI_LOG_FORMAT=json as an operator sets it: every line the process writes is one JSON object."""
    code = (
        "import django, logging; django.setup(); from django.test import Client; "
        "Client().get('/login/', HTTP_HOST='localhost'); "
        f"logging.getLogger('xueji').warning('import of {ID_NUMBER} refused')"
    )
    environment = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    environment.update(XUEJI_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="xueji.settings", XUEJI_LOG_FORMAT="json")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment)
    assert result.returncode == 0, result.stderr
    entries = [json.loads(line) for line in result.stderr.splitlines()]
    request = next(e for e in entries if e["logger"] == "xueji.request")
    assert request["path"] == "/login/" and request["status"] == 200 and request["user_id"] is None
    warning = next(e for e in entries if e["logger"] == "xueji")
    assert warning["level"] == "WARNING" and warning["message"] == "import of 110101********001X refused"
    assert ID_NUMBER not in result.stderr


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_no_query_string_or_id_number_reaches_the_log(world: World, caplog, log_format: str) -> None:  # type: ignore[no-untyped-def]
    formatter = JsonFormatter() if log_format == "json" else TextFormatter()
    client = world.client_for(world.registrar_a)
    with caplog.at_level(logging.INFO):
        client.get(f"/students/by-number/{ID_NUMBER}/")  # a 404, logged by Django with its path
    lines = []
    for record in caplog.records:
        RequestContextFilter().filter(record)
        lines.append(formatter.format(record))
    assert lines and not any(ID_NUMBER in line for line in lines)
