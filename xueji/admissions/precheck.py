"""The web pre-check (开始检查): keep the upload privately, check it, keep the annotated workbook.

Files live under ``MEDIA_ROOT/precheck/`` named by an unguessable token; the token is remembered in the
uploader's session, so only that user can download the annotated file. Nothing is imported.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from xueji.orgs.models import School
from xueji.orgs.selectors import school_catalog
from xueji.records.check import CheckReport, check_file, write_annotated
from xueji.records.context import RowContext
from xueji.records.workbook import WorkbookError, save_upload
from xueji.storage import private_dir

KEEP_SECONDS = 24 * 3600


@dataclass(frozen=True)
class PrecheckResult:
    token: str
    report: CheckReport
    annotated: bool


def precheck_dir() -> Path:
    return private_dir("precheck")


def _sweep(folder: Path) -> None:
    """Pre-check files are scratch: anything older than a day goes."""
    cutoff = time.time() - KEEP_SECONDS
    for path in folder.iterdir():
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)


def annotated_path(token: str) -> Path:
    return precheck_dir() / f"{token}-annotated.xlsx"


def precheck_run(*, school: School, stream: IO[bytes], file_name: str) -> PrecheckResult:
    folder = precheck_dir()
    _sweep(folder)
    token = secrets.token_urlsafe(18)
    source = folder / f"{token}-upload"
    try:
        try:
            save_upload(stream, source)  # type: ignore[arg-type]
        except WorkbookError as error:
            report = CheckReport(file=file_name, file_errors=[error.message])
            return PrecheckResult(token, report, annotated=False)
        report = check_file(source, RowContext(school=school_catalog(school)))
        report.file = file_name
        annotated = False
        if not report.file_errors and report.rows:
            write_annotated(source, report, annotated_path(token))
            annotated = True
        return PrecheckResult(token, report, annotated)
    finally:
        source.unlink(missing_ok=True)  # the upload itself is not kept: nothing is imported
