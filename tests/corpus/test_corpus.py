"""Every file of the hostile-upload corpus (make_corpus.py) through every upload path: 开始检查, 导入名单 (web and
``xueji import``), 档案管理's legacy import (web and ``xueji import-legacy``) and the 录取名册 load. Each says the
exact message expected, never answers with a 500, finishes within its time limit, and writes nothing when the
file is refused. Memory is measured per file in a child process (``test_reading_stays_within_memory_and_time``)
under an address-space limit, since a reader that allocates per declared cell would kill the server."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.conftest import World
from tests.corpus.make_corpus import CASES, FILES, Case, Loaded, Refused, write_big
from xueji.admissions.models import AdmissionRecord, ImportFailure, ImportJob
from xueji.cli import main as cli_main
from xueji.reconcile.models import RosterEntry, RosterLoad
from xueji.students.models import Student

ROOT = Path(__file__).resolve().parents[2]
SECONDS = 30  # per upload path; the slowest file (the zip bombs) takes about a second
MEMORY_LIMIT = 1536 * 1024 * 1024  # address space of the child process that reads a file
MAX_RSS_MB = 200  # what reading one corpus file may use at most, interpreter and libraries included (about 40 now)


@pytest.fixture(scope="session")
def big_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("corpus-big")
    write_big(folder)
    return folder


def corpus_path(case: Case, big_files: Path, roster: bool = False) -> Path:
    name = (case.roster_file or case.name) if roster else case.name
    return (big_files if case.big else FILES) / name


@contextlib.contextmanager
def time_limit(seconds: int = SECONDS) -> Iterator[None]:
    """Fails the test if the block runs longer than ``seconds`` (SIGALRM interrupts a hang in Python code; the
    elapsed time is checked as well, for time spent in native code that the alarm cannot interrupt)."""

    def expired(signum: int, frame: object) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    started = time.monotonic()
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert time.monotonic() - started < seconds


def counts() -> dict[str, int]:
    return {
        "admissions": AdmissionRecord.objects.count(),
        "students": Student.objects.count(),
        "failures": ImportFailure.objects.count(),
        "roster_loads": RosterLoad.objects.count(),
        "roster_entries": RosterEntry.objects.count(),
    }


def unchanged_except(before: dict[str, int], **grown: int) -> None:
    after = counts()
    assert after == {key: before[key] + grown.get(key, 0) for key in before}


def page(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 200
    return response.content.decode()


def upload(name: str, path: Path) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, path.read_bytes())


IDS = [case.name for case in CASES]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_precheck(world: World, big_files: Path, case: Case) -> None:
    path = corpus_path(case, big_files)
    before = counts()
    with time_limit():
        response = world.client_for(world.registrar_a).post(
            reverse("admissions:precheck"), {"file": upload(case.name, path)}
        )
    text = page(response)
    report = response.context["report"]
    expected = case.admission
    if isinstance(expected, Refused):
        assert report.file_errors == [expected.message]
        assert f"无法检查：{expected.message}" in text
    else:
        assert not report.file_errors
        assert report.rows_checked == expected.rows
        assert {row.row: row.reason() for row in report.rows if row.has_errors} == expected.errors
    unchanged_except(before)


def _import_outcome(case: Case, path: Path, world: World, immediate: bool, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    before = counts()
    jobs = ImportJob.objects.count()
    client = world.client_for(world.registrar_a)
    with time_limit(), django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admissions:import_upload"), {"file": upload(case.name, path)}, follow=True)
    text = page(response)
    expected = case.admission
    if isinstance(expected, Refused):
        if ImportJob.objects.count() == jobs:  # refused at the upload
            assert f"无法导入“{case.name}”：{expected.message}" in text
        else:  # refused by the background job, which says so in the job list
            job = ImportJob.objects.latest("pk")
            assert (job.status, job.error_message) == (ImportJob.Status.FAILED, expected.message)
            assert expected.message in page(client.get(reverse("admissions:import_jobs")))
        unchanged_except(before)
        return
    job = ImportJob.objects.latest("pk")
    failed = len(expected.errors)
    assert (job.status, job.total_rows, job.created_count, job.failed_count) == (
        ImportJob.Status.DONE, expected.rows, expected.rows - failed, failed,
    )  # fmt: skip
    assert tuple(
        AdmissionRecord.objects.filter(import_job=job).order_by("import_row").values_list("name", flat=True)
    ) == (expected.names)
    for failure in job.failures.all():
        assert expected.errors[failure.row_number] in [r["message"] for r in failure.reasons]
    unchanged_except(before, admissions=expected.rows - failed, failures=failed)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.usefixtures("immediate_tasks")
def test_import_on_the_web(world: World, big_files: Path, case: Case, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    _import_outcome(case, corpus_path(case, big_files), world, True, django_capture_on_commit_callbacks)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_import_on_the_command_line(
    world: World, big_files: Path, case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = corpus_path(case, big_files)
    before = counts()
    with time_limit():
        code = cli_main(["import", str(path), "--school", world.school_a.code, "--failures", str(tmp_path / "f.xlsx")])
    out, err = capsys.readouterr()
    expected = case.admission
    if isinstance(expected, Refused):
        assert code == 2, (out, err)
        assert f"无法导入：{expected.message}" in err or f"导入失败：{expected.message}" in err
        unchanged_except(before)
        return
    failed = len(expected.errors)
    assert code == (1 if failed else 0)
    created = expected.rows - failed
    assert f"导入完成：共 {expected.rows} 行，新增 {created}，更新 0，失败 {failed}" in out
    unchanged_except(before, admissions=created, failures=failed)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_legacy_import_on_the_web(world: World, big_files: Path, case: Case) -> None:
    before = counts()
    with time_limit():
        response = world.client_for(world.registrar_a).post(
            reverse("students:archive"), {"file": upload(case.name, corpus_path(case, big_files))}, follow=True
        )
    text = page(response)
    expected = case.admission
    if isinstance(expected, Refused):
        assert f"无法迁入“{case.name}”：{expected.message}" in text
        unchanged_except(before)
        return
    loaded = expected.rows - len(expected.errors)
    assert f"已迁入 {loaded} 人" in text
    for row, message in expected.errors.items():
        assert f"第{row}行：{message}" in text
    names = Student.objects.filter(source=Student.Source.LEGACY).order_by("pk").values_list("name", flat=True)
    assert tuple(names) == expected.names
    unchanged_except(before, admissions=loaded, students=loaded)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_legacy_import_on_the_command_line(
    world: World, big_files: Path, case: Case, capsys: pytest.CaptureFixture[str]
) -> None:
    before = counts()
    with time_limit():
        code = cli_main(["import-legacy", str(corpus_path(case, big_files)), "--school", world.school_a.code])
    out, err = capsys.readouterr()
    expected = case.admission
    if isinstance(expected, Refused):
        assert (code, err.strip()) == (2, f"无法迁入：{expected.message}")
        unchanged_except(before)
        return
    loaded = expected.rows - len(expected.errors)
    assert f"迁入完成：{loaded} 人，未迁入 {len(expected.errors)} 行" in out
    assert err.splitlines() == [f"第{row}行：{message}" for row, message in sorted(expected.errors.items())]
    unchanged_except(before, admissions=loaded, students=loaded)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_roster_load(world: World, big_files: Path, case: Case) -> None:
    name = case.roster_file or case.name
    before = counts()
    with time_limit():
        response = world.client_for(world.city_admin).post(
            reverse("reconcile:roster_upload"),
            {"intake_year": "2026", "file": upload(name, corpus_path(case, big_files, roster=True))},
            follow=True,
        )
    text = page(response)
    expected = case.roster
    # A roster loads whole or not at all: a row error refuses the file like a file error.
    messages = [expected.message] if isinstance(expected, Refused) else list(expected.errors.values())
    if messages:
        assert f"“{name}”未导入，请改正后重新上传：{'；'.join(messages)}" in text
        unchanged_except(before)
        return
    assert isinstance(expected, Loaded)
    assert f"已导入“{name}”：{expected.rows} 行" in text
    load = RosterLoad.objects.get()
    assert tuple(load.entries.order_by("row_number").values_list("name", flat=True)) == expected.names
    unchanged_except(before, roster_loads=1, roster_entries=expected.rows)


# --- memory and time, in a child process -----------------------------------------------------------------------

_READER = """
import json, sys, time
from xueji.records.check import check_file
from xueji.records.context import RowContext
from xueji.reconcile.rosterfile import RosterFileError, roster_read
from tests.records.helpers import make_ctx
started = time.monotonic()
report = check_file(sys.argv[1], make_ctx())
try:
    roster = [line.name for line in roster_read(sys.argv[2])]
except RosterFileError as error:
    roster = error.messages
print(json.dumps({
    "file_errors": report.file_errors,
    "rows": report.rows_checked,
    "roster": roster,
    "seconds": time.monotonic() - started,
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the forked test process.
    "max_rss_mb": next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM")) / 1024,
}, ensure_ascii=False))
"""


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_reading_stays_within_memory_and_time(big_files: Path, case: Case) -> None:
    """The readers every path shares (``check_file`` and ``roster_read``), in a process limited to 1.5 GB of
    address space: a file that made them allocate per declared cell would be killed, not answered."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            _READER,
            str(corpus_path(case, big_files)),
            str(corpus_path(case, big_files, roster=True)),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=SECONDS,
        preexec_fn=_limit_memory,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    outcome = json.loads(result.stdout)
    assert outcome["max_rss_mb"] < MAX_RSS_MB, outcome
    assert outcome["seconds"] < SECONDS
    if isinstance(case.admission, Refused):
        assert outcome["file_errors"] == [case.admission.message]
    else:
        assert (outcome["file_errors"], outcome["rows"]) == ([], case.admission.rows)
    if isinstance(case.roster, Refused):
        assert outcome["roster"] == [case.roster.message]
    elif case.roster.errors:
        assert outcome["roster"] == list(case.roster.errors.values())
    else:
        assert outcome["roster"] == list(case.roster.names)


def test_the_committed_files_are_what_make_corpus_writes(tmp_path: Path) -> None:
    """The corpus is generated, not edited by hand: writing it again gives the same bytes."""
    from tests.corpus.make_corpus import BUILDERS

    for name, build in BUILDERS.items():
        assert build(tmp_path / name).read_bytes() == (FILES / name).read_bytes(), name
