"""Notice attachments: the type decided by content (never by the name or the browser), stored privately under
MEDIA_ROOT/campaigns/ with a random name, served only through a scoped view."""

from __future__ import annotations

import hashlib
import uuid
import zipfile
from pathlib import Path
from typing import BinaryIO

from django.core.exceptions import ValidationError

from xueji.reconcile.namechange import evidence_type
from xueji.storage import private_dir

MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
MAX_ATTACHMENTS = 10
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .doc / .xls
# An Office Open XML or OpenDocument file is a zip; what it is, is told by the part it holds.
ZIP_KINDS: tuple[tuple[str, str, str], ...] = (
    ("word/document.xml", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
    ("xl/workbook.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
)
ODF_KINDS = {
    b"application/vnd.oasis.opendocument.text": "odt",
    b"application/vnd.oasis.opendocument.spreadsheet": "ods",
}
ACCEPTED = "PDF、Word（doc/docx）、Excel（xls/xlsx）、ODF（odt/ods）、JPG或PNG"


def attachments_dir() -> Path:
    return private_dir("campaigns")


def _zip_kind(path: Path) -> tuple[str, str] | None:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                mimetype = archive.read("mimetype")[:100]
                if mimetype in ODF_KINDS:
                    return mimetype.decode(), ODF_KINDS[mimetype]
            for part, content_type, extension in ZIP_KINDS:
                if part in names:
                    return content_type, extension
    except zipfile.BadZipFile:
        return None
    return None


def _ole_extension(original_name: str) -> tuple[str, str]:
    # An OLE compound file is a .doc or an .xls; the name is trusted only to choose between those two.
    if original_name.lower().endswith((".xls", ".et")):
        return "application/vnd.ms-excel", "xls"
    return "application/msword", "doc"


def store_attachment(stream: BinaryIO, original_name: str) -> tuple[str, str, int, str]:
    """Copy one upload under a random name: (stored name, content type, size, sha256). ValidationError when
    the file is empty, too large or not one of the accepted kinds; nothing is left behind then."""
    target = attachments_dir() / f"{uuid.uuid4().hex}.upload"
    digest = hashlib.sha256()
    size = 0
    try:
        with target.open("wb") as out:
            while chunk := stream.read(1 << 20):
                size += len(chunk)
                if size > MAX_ATTACHMENT_BYTES:
                    raise ValidationError(f"“{original_name}”超过{MAX_ATTACHMENT_BYTES // 1024 // 1024} MB")
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise ValidationError(f"“{original_name}”是空文件")
        with target.open("rb") as handle:
            head = handle.read(16)
        kind = evidence_type(head)
        if kind is None and head.startswith(b"PK\x03\x04"):
            kind = _zip_kind(target)
        elif kind is None and head.startswith(OLE_SIGNATURE):
            kind = _ole_extension(original_name)
        if kind is None:
            raise ValidationError(f"“{original_name}”不是可接受的附件格式，请上传{ACCEPTED}文件")
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    content_type, extension = kind
    stored = target.with_suffix(f".{extension}")
    target.rename(stored)
    return stored.name, content_type, size, digest.hexdigest()


def remove_stored(stored_name: str) -> None:
    (attachments_dir() / stored_name).unlink(missing_ok=True)
