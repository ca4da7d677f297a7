"""A real worker process is killed in the middle of an import; a restarted worker finishes the job with exact
counts. Runs against a database of its own (a SQLite file, or a fresh PostgreSQL database when the suite runs
on PostgreSQL), because the worker is another process and cannot see the test transaction."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.admissions.helpers import school_a_row, workbook

ROOT = Path(__file__).resolve().parents[2]
ROWS = 6000
BAD_ROWS = {17, 2500, 5999}  # unknown 健康状况: these fail


@pytest.fixture
def database(tmp_path: Path) -> Iterator[tuple[str, Callable[[str], tuple]]]:
    """(DATABASE_URL for the subprocesses, a query function for the test)."""
    base = os.environ.get("DATABASE_URL", "")
    if base.startswith("postgres"):
        import psycopg

        parts = urlsplit(base)
        name = f"{parts.path.lstrip('/')}_worker_{os.getpid()}"[:63]
        admin = urlunsplit(parts._replace(path="/postgres"))
        url = urlunsplit(parts._replace(path=f"/{name}"))
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')

        def query(sql: str) -> tuple:
            with psycopg.connect(url) as conn:
                return conn.execute(sql).fetchone()  # type: ignore[return-value]

        try:
            yield url, query
        finally:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        path = tmp_path / "worker.sqlite3"

        def query(sql: str) -> tuple:
            with sqlite3.connect(path, timeout=20) as conn:
                return conn.execute(sql).fetchone()

        yield f"sqlite:///{path}", query


def test_killed_worker_job_is_resumed_with_exact_counts(
    tmp_path: Path, database: tuple[str, Callable[[str], tuple]]
) -> None:
    url, query = database
    rows = [school_a_row(n) for n in range(1, ROWS + 1)]
    for n in BAD_ROWS:
        rows[n - 1]["health_status"] = "很差"
    source = workbook(tmp_path / "名单.xlsx", rows)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "XUEJI_DATA_DIR": str(tmp_path / "data"),
        "XUEJI_TASK_BACKEND": "db",
        "XUEJI_IMPORT_STALE_SECONDS": "3",
        "XUEJI_IMPORT_BATCH_SIZE": "200",
        "DJANGO_SETTINGS_MODULE": "xueji.settings",
    }
    run = {"cwd": ROOT, "env": env, "check": True, "capture_output": True, "text": True, "timeout": 180}
    subprocess.run([sys.executable, "-m", "xueji", "load-reference"], **run)  # type: ignore[call-overload]
    job_id = int(subprocess.run([sys.executable, "-m", "tests.admissions.worker_setup", str(source)], **run).stdout)

    def job() -> tuple:
        return query(
            "SELECT status, committed_rows, created_count, failed_count, total_rows, attempts "
            f"FROM admissions_importjob WHERE id = {job_id}"
        )

    def start_worker() -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "xueji", "worker", "--interval", "0.2"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    worker = start_worker()
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            status, committed, *_ = job()
            if status == "running" and 0 < committed <= ROWS - 1000:
                break
            assert status != "done", "the import finished before the worker could be killed"
            time.sleep(0.02)
        else:
            pytest.fail(f"the job never got going: {job()}")
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
    status, committed, created, failed, _total, _attempts = job()
    assert status == "running" and 0 < committed < ROWS
    assert committed % 200 == 0  # whole batches only
    assert query(f"SELECT COUNT(*) FROM admissions_admissionrecord WHERE import_job_id = {job_id}")[0] == created

    worker = start_worker()
    try:
        deadline = time.monotonic() + 120
        while job()[0] != "done" and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
    status, committed, created, failed, total, attempts = job()
    assert (status, committed, total) == ("done", ROWS, ROWS)
    assert (created, failed) == (ROWS - len(BAD_ROWS), len(BAD_ROWS))
    assert attempts == 2
    saved = query(
        "SELECT COUNT(*), COUNT(DISTINCT id_number), COUNT(DISTINCT import_row) "
        f"FROM admissions_admissionrecord WHERE import_job_id = {job_id}"
    )
    assert saved == (created, created, created)
    failed_rows = query(f"SELECT COUNT(*) FROM admissions_importfailure WHERE job_id = {job_id}")[0]
    assert failed_rows == len(BAD_ROWS)
