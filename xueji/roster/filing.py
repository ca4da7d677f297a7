"""上报盘: a ZIP a district (its schools) or a school (its own) hands to the city, and the city's check of it.

The package holds the roster as xlsx and PDF, the period's name changes and roster corrections (JSON lists)
and ``manifest.json``: scope, grade, counts by state, generator version, time, the SHA-256 of every file,
and an HMAC of the manifest made with this installation's secret key. Packages are made and checked on the
same installation (the district exports, the city uploads), so the HMAC proves the manifest is the one the
system wrote; the SHA-256 values then prove every file is too. What is checked against the database: the
counts per state of that scope and grade, and the students listed in the xlsx.

ID numbers in the package are masked whoever makes it: a package made by a district must not show more than
that district sees, and the same scope gives the same package whoever exports it.
"""

from __future__ import annotations

import hashlib
import io
import json
import tempfile
import uuid
import zipfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from xueji.admissions.selectors import mask_id_number
from xueji.audit.services import audit_record
from xueji.orgs.models import Region, School, User
from xueji.records.workbook import Limits, WorkbookError, check_archive, new_workbook
from xueji.roster.models import FilingPackage
from xueji.roster.printing import STATE_LABELS, roster_document, roster_pdf_bytes, roster_rows, roster_students
from xueji.storage import private_dir
from xueji.students.models import State, Student

FORMAT = "xueji-filing-package"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
ROSTER_XLSX = "roster.xlsx"
ROSTER_PDF = "roster.pdf"
NAME_CHANGES = "name_changes.json"
ROSTER_CORRECTIONS = "roster_corrections.json"
# Columns of the package's xlsx; the check reads the students back by these.
PACKAGE_COLUMNS = ("seq", "school", "student_no", "name", "gender", "id_number", "major", "class", "state")
# A district's package is one xlsx and one PDF of its new students: tens of MB at most.
PACKAGE_LIMITS = Limits(
    max_file_bytes=200 * 1024 * 1024, max_zip_entries=20, max_unpacked_bytes=500 * 1024 * 1024, max_entry_ratio=100
)
_HMAC_SALT = "xueji.roster.filing.manifest"


def generator_version() -> str:
    try:
        return f"xueji {version('xueji')}"
    except PackageNotFoundError:  # run from a source tree that was not installed
        return "xueji"


@dataclass(frozen=True)
class Scope:
    kind: str  # "district" or "school"
    code: str
    name: str
    city: Region

    def students(self) -> QuerySet[Student]:
        if self.kind == "district":
            return Student.objects.filter(school__district__code=self.code)
        return Student.objects.filter(school__code=self.code)

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "code": self.code, "name": self.name}


def scope_of_school(school: School) -> Scope:
    return Scope("school", school.code, school.name, school.district.city)


def scope_of_district(district: Region) -> Scope:
    return Scope("district", district.code, district.name, district.city)


# ---------------------------------------------------------------- hooks filled by 改名 and 录取名册更正


def filing_name_changes(scope: Scope, grade: int) -> list[dict[str, Any]]:
    """The approved name changes (改名) of the scope's students of the grade, one dict each (ID numbers
    masked, as everywhere in a package)."""
    from xueji.reconcile.models import NameChange

    changes = (
        NameChange.objects.filter(student__in=scope.students().filter(grade=grade), status=NameChange.Status.APPROVED)
        .select_related("student__school")
        .order_by("decided_at", "pk")
    )
    return [
        {
            "school_code": c.student.school.code,
            "student_no": c.student.student_no or "",
            "id_number": mask_id_number(c.student.id_number),
            "old_name": c.old_name,
            "new_name": c.new_name,
            "evidence": c.get_evidence_kind_display(),
            "decided_at": c.decided_at.isoformat() if c.decided_at else "",
        }
        for c in changes
    ]


def filing_roster_corrections(scope: Scope, grade: int) -> list[dict[str, Any]]:
    """The admission-roster corrections (录取名册更正) of the current roster rows admitted to the scope's
    schools for the grade, one dict each (ID numbers masked)."""
    from xueji.reconcile.models import RosterCorrection

    schools = (
        School.objects.filter(district__code=scope.code)
        if scope.kind == "district"
        else School.objects.filter(code=scope.code)
    )
    corrections = (
        RosterCorrection.objects.filter(
            entry__load__city=scope.city,
            entry__load__intake_year=grade,
            entry__load__is_current=True,
            entry__school_code__in=schools.values("code"),
        )
        .select_related("entry")
        .order_by("corrected_at", "pk")
    )
    masked = RosterCorrection.Field.ID_NUMBER
    return [
        {
            "school_code": c.entry.school_code,
            "candidate_no": c.entry.candidate_no,
            "field": c.get_field_display(),
            "old_value": mask_id_number(c.old_value) if c.field == masked else c.old_value,
            "new_value": mask_id_number(c.new_value) if c.field == masked else c.new_value,
            "document_ref": c.document_ref,
            "corrected_at": c.corrected_at.isoformat(),
        }
        for c in corrections
    ]


# ---------------------------------------------------------------- writing


def _state_counts(students: QuerySet[Student]) -> dict[str, int]:
    counts = Counter(students.values_list("state", flat=True))
    return {state.value: counts.get(state.value, 0) for state in State}


def _xlsx(rows: Sequence[Sequence[str]]) -> bytes:

    from xueji.records.check import neutralise
    from xueji.roster.printing import COLUMNS_BY_KEY

    buffer = io.BytesIO()
    workbook = new_workbook(buffer)
    sheet = workbook.add_worksheet("新生名单")
    for index, key in enumerate(PACKAGE_COLUMNS):
        sheet.write_string(0, index, COLUMNS_BY_KEY[key].label)
        sheet.set_column(index, index, COLUMNS_BY_KEY[key].width * 1.2)
    for number, row in enumerate(rows, start=1):
        for index, value in enumerate(row):
            sheet.write_string(number, index, neutralise(value))
    workbook.close()
    return buffer.getvalue()


def _sign(manifest: dict[str, Any]) -> str:
    body = json.dumps({k: v for k, v in manifest.items() if k != "signature"}, sort_keys=True, ensure_ascii=False)
    return salted_hmac(_HMAC_SALT, body, algorithm="sha256").hexdigest()


def _package_rows(scope: Scope, grade: int) -> list[list[str]]:
    students = roster_students(scope.students(), grade=grade)
    return roster_rows(students, PACKAGE_COLUMNS, show_id_number=False)


def package_build(
    *,
    user: User,
    scope: Scope,
    grade: int,
    request: HttpRequest | None = None,
    step: Callable[[str], None] | None = None,
) -> bytes:
    """The ZIP of one scope and grade. ``step`` is told what is being made (a background build shows it)."""
    report = step or (lambda _label: None)
    report("读取名单")
    students = list(roster_students(scope.students(), grade=grade))
    rows = roster_rows(students, PACKAGE_COLUMNS, show_id_number=False)
    pdf_columns = ["seq", *(["school"] if scope.kind == "district" else []), "name", "gender", "id_number"]
    pdf_columns += ["major", "class", "state", "student_no"]
    document = roster_document(students, columns=pdf_columns, show_id_number=False, heading=scope.name, grade=grade)
    name_changes = filing_name_changes(scope, grade)
    corrections = filing_roster_corrections(scope, grade)
    report("生成 xlsx")
    roster_xlsx = _xlsx(rows)
    report("生成 PDF")
    files = {
        ROSTER_XLSX: roster_xlsx,
        ROSTER_PDF: roster_pdf_bytes(document),
        NAME_CHANGES: json.dumps(name_changes, ensure_ascii=False, indent=1).encode(),
        ROSTER_CORRECTIONS: json.dumps(corrections, ensure_ascii=False, indent=1).encode(),
    }
    counts = _state_counts(scope.students().filter(grade=grade))
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "generator": generator_version(),
        "generated_at": timezone.localtime().isoformat(timespec="seconds"),
        "generated_by": user.username,
        "scope": scope.as_dict(),
        "grade": grade,
        "counts": {"total": sum(counts.values()), "by_state": counts},
        "name_changes": len(name_changes),
        "roster_corrections": len(corrections),
        "files": {
            name: {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)} for name, data in files.items()
        },
    }
    manifest["signature"] = _sign(manifest)
    report("打包")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))
        for name, data in files.items():
            archive.writestr(name, data)
    with transaction.atomic():
        audit_record(
            actor=user,
            action="filing.export",
            after={"scope": scope.as_dict(), "grade": grade, "rows": len(rows)},
            request=request,
        )
    return buffer.getvalue()


# ---------------------------------------------------------------- checking


@dataclass
class Verification:
    ok: bool = False
    problems: list[str] = field(default_factory=list)
    manifest: dict[str, Any] | None = None
    scope: Scope | None = None
    # Differences from the filed record of a closed campaign (xueji.campaigns.filed): told, never a rejection.
    filed_notes: list[str] = field(default_factory=list)

    @property
    def reason(self) -> str:
        return "；".join(self.problems)


def _scope_from_manifest(data: dict[str, Any], city: Region | None) -> Scope | None:
    scope = data.get("scope") or {}
    kind, code = scope.get("kind"), str(scope.get("code") or "")
    if kind == "district":
        district = Region.objects.filter(kind=Region.Kind.DISTRICT, code=code).select_related("parent").first()
        found = scope_of_district(district) if district else None
    elif kind == "school":
        school = School.objects.filter(code=code).select_related("district__parent").first()
        found = scope_of_school(school) if school else None
    else:
        return None
    if found is not None and city is not None and found.city.pk != city.pk:
        return None
    return found


def _read_members(path: Path, result: Verification) -> dict[str, bytes] | None:
    if not zipfile.is_zipfile(path):
        result.problems.append("不是有效的上报盘（ZIP）文件")
        return None
    try:
        check_archive(path, PACKAGE_LIMITS)
    except WorkbookError as error:
        result.problems.append(error.message.replace("Excel或ODS", "上报盘"))
        return None
    with zipfile.ZipFile(path) as archive:
        names = [info.filename for info in archive.infolist() if not info.is_dir()]
        if len(set(names)) != len(names):
            result.problems.append("压缩包内有重名文件")
            return None
        return {name: archive.read(name) for name in names}


def package_verify(path: str | Path, *, city: Region | None = None) -> Verification:
    """Check a package: archive safety, manifest signature, every file's SHA-256 and presence, the scope (in
    ``city`` when given), the counts per state and the listed students against the database now. When the
    grade's campaign has been closed, the approved students listed are also compared with the filed record;
    differences become ``filed_notes`` and do not decide acceptance."""
    result = Verification()
    members = _read_members(Path(path), result)
    if members is None:
        return result
    if MANIFEST not in members:
        result.problems.append(f"缺少清单文件 {MANIFEST}")
        return result
    try:
        manifest = json.loads(members[MANIFEST])
        assert isinstance(manifest, dict) and manifest.get("format") == FORMAT
    except (ValueError, AssertionError):
        result.problems.append("清单文件无法读取或不是上报盘清单")
        return result
    result.manifest = manifest
    if not constant_time_compare(str(manifest.get("signature") or ""), _sign(manifest)):
        result.problems.append("清单签名不符：清单在导出后被改动过，或不是本系统导出的上报盘")
    listed: dict[str, Any] = manifest.get("files") or {}
    for name in sorted(set(listed) - set(members)):
        result.problems.append(f"缺少文件 {name}")
    for name in sorted(set(members) - set(listed) - {MANIFEST}):
        result.problems.append(f"多出清单中没有的文件 {name}")
    for name in sorted(set(listed) & set(members)):
        digest = hashlib.sha256(members[name]).hexdigest()
        if digest != (listed[name] or {}).get("sha256"):
            result.problems.append(
                f"文件 {name} 的 SHA-256 与清单不符（清单 {listed[name].get('sha256')}，实际 {digest}）"
            )
    scope = _scope_from_manifest(manifest, city)
    grade = manifest.get("grade")
    if scope is None or not isinstance(grade, int):
        result.problems.append("清单中的范围在本市不存在" if scope is None else "清单中的年级无效")
        return result
    result.scope = scope
    if result.problems:  # a tampered file is not read further
        return result
    rows = _read_xlsx(members[ROSTER_XLSX])
    _compare_with_database(result, scope, grade, manifest, rows)
    result.ok = not result.problems
    from xueji.campaigns.filed import filed_differences

    result.filed_notes = filed_differences(scope, grade, rows)
    return result


def _compare_with_database(
    result: Verification, scope: Scope, grade: int, manifest: dict[str, Any], rows: list[list[str]]
) -> None:
    counts = _state_counts(scope.students().filter(grade=grade))
    claimed = (manifest.get("counts") or {}).get("by_state") or {}
    for state, label in STATE_LABELS.items():
        if int(claimed.get(state, 0)) != counts[state]:
            result.problems.append(f"“{label}”人数不符：清单 {claimed.get(state, 0)} 人，数据库 {counts[state]} 人")
    # Compared without the 序号 column: one student fewer shifts every number after it.
    listed = Counter(tuple(row[1:]) for row in rows)
    actual = Counter(tuple(row[1:]) for row in _package_rows(scope, grade))
    extra, missing = listed - actual, actual - listed
    name_at = PACKAGE_COLUMNS.index("name") - 1
    if extra:
        names = "、".join(row[name_at] for row in list(extra.elements())[:10])
        result.problems.append(f"名单中有 {sum(extra.values())} 人与数据库不符或不在数据库中：{names}")
    if missing:
        names = "、".join(row[name_at] for row in list(missing.elements())[:10])
        result.problems.append(f"数据库中有 {sum(missing.values())} 人不在名单中或信息不同：{names}")


_NEUTRALISED = {"'" + trigger for trigger in "=+-@\t\r"}


def _read_xlsx(data: bytes) -> list[list[str]]:
    from python_calamine import CalamineWorkbook

    with tempfile.NamedTemporaryFile(suffix=".xlsx") as handle:
        handle.write(data)
        handle.flush()
        sheet = CalamineWorkbook.from_path(handle.name).get_sheet_by_index(0).to_python()
    width = len(PACKAGE_COLUMNS)
    rows = []
    for raw in sheet[1:]:
        cells = [("" if value is None else str(value)) for value in raw][:width]
        cells += [""] * (width - len(cells))
        if any(cells):
            rows.append([cell[1:] if cell[:2] in _NEUTRALISED else cell for cell in cells])
    return rows


def packages_dir() -> Path:
    return private_dir("filings")


def package_file(package: FilingPackage) -> Path | None:
    if not package.stored_name:
        return None
    path = packages_dir() / package.stored_name
    return path if path.is_file() else None


def package_receive(*, user: User, stream: Any, file_name: str, request: HttpRequest | None = None) -> FilingPackage:
    """The city's upload: saved within the size limit, verified, and logged either way. The file itself is
    kept (received or rejected: what was filed, and what was refused and why, can be looked at later)."""
    if user.region is None:
        raise ValueError("the uploader has no city")
    digest = hashlib.sha256()
    size = 0
    folder = packages_dir()
    # Written beside its final place, so the rename that keeps it is atomic and a failure leaves no stray file.
    handle = tempfile.NamedTemporaryFile(dir=folder, prefix=".upload-", suffix=".zip", delete=False)
    partial = Path(handle.name)
    stored_name = ""
    try:
        with handle:
            while chunk := stream.read(1 << 20):
                size += len(chunk)
                if size > PACKAGE_LIMITS.max_file_bytes:
                    result = Verification(problems=["文件太大，不是正常的上报盘"])
                    break
                digest.update(chunk)
                handle.write(chunk)
            else:
                handle.flush()
                result = package_verify(partial, city=user.region)
                stored_name = f"{uuid.uuid4().hex}.zip"
        manifest = result.manifest or {}
        with transaction.atomic():
            package = FilingPackage.objects.create(
                city=user.region,
                scope_kind=result.scope.kind if result.scope else "",
                scope_code=result.scope.code if result.scope else "",
                scope_name=result.scope.name if result.scope else "",
                grade=manifest.get("grade") if isinstance(manifest.get("grade"), int) else None,
                file_name=file_name[:255],
                file_sha256=digest.hexdigest(),
                file_bytes=size,
                stored_name=stored_name,
                uploaded_by=user,
                verdict=FilingPackage.Verdict.RECEIVED if result.ok else FilingPackage.Verdict.REJECTED,
                reason=result.reason,
                filed_notes=result.filed_notes,
                manifest=result.manifest if isinstance(result.manifest, dict) else None,
            )
            audit_record(
                actor=user,
                action="filing.receive" if result.ok else "filing.reject",
                obj=package,
                after={
                    "file": file_name,
                    "sha256": package.file_sha256,
                    "reason": result.reason,
                    "filed_notes": result.filed_notes,
                },
                request=request,
            )
            if stored_name:
                partial.rename(folder / stored_name)
    except BaseException:
        if stored_name:  # the row was not written: the file it would have named goes too
            (folder / stored_name).unlink(missing_ok=True)
        raise
    finally:
        partial.unlink(missing_ok=True)
    return package
