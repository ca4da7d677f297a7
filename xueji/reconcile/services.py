"""Writing the admission roster: loads (all or nothing) and the admissions office's corrections."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from xueji.audit.services import audit_record
from xueji.orgs.models import Region, User
from xueji.reconcile.models import RosterCorrection, RosterEntry, RosterLoad
from xueji.reconcile.rosterfile import roster_read
from xueji.records.idnumber import normalise_id_number

BATCH_SIZE = 2000


def roster_load(
    *,
    city: Region,
    actor: User,
    path: Path,
    file_name: str,
    intake_year: int,
    request: HttpRequest | None = None,
    progress: Callable[[int], None] | None = None,
    checked: Callable[[int], None] | None = None,
) -> RosterLoad:
    """Load a roster file as the city's current roster of ``intake_year``; the previous load is kept, no
    longer current. Raises RosterFileError (nothing saved) when any row is wrong. A background load passes
    ``progress`` (rows read so far) and ``checked`` (every row is valid, the writing starts)."""
    lines = roster_read(path, progress=progress)  # reads and checks everything before the first write
    if checked is not None:
        checked(len(lines))
    with transaction.atomic():
        # Locking the city's loads serialises two uploads of the same intake: the second waits and then
        # replaces the first instead of failing on the one-current constraint.
        list(RosterLoad.objects.select_for_update().filter(city=city, intake_year=intake_year).values_list("pk"))
        RosterLoad.objects.filter(city=city, intake_year=intake_year, is_current=True).update(is_current=False)
        load = RosterLoad.objects.create(
            city=city,
            intake_year=intake_year,
            file_name=file_name[:255],
            loaded_by=actor,
            row_count=len(lines),
            is_current=True,
        )
        RosterEntry.objects.bulk_create(
            (
                RosterEntry(
                    load=load,
                    row_number=line.row_number,
                    candidate_no=line.candidate_no,
                    exam_ticket_no=line.exam_ticket_no,
                    name=line.name,
                    id_number=line.id_number,
                    school_code=line.school_code,
                    major=line.major,
                    method=line.method,
                )
                for line in lines
            ),
            batch_size=BATCH_SIZE,
        )
        audit_record(
            actor=actor,
            action="roster.load",
            obj=load,
            after={"file": load.file_name, "intake_year": intake_year, "rows": len(lines)},
            request=request,
        )
    return load


def roster_correct(
    *,
    entry: RosterEntry,
    actor: User,
    field: str,
    new_value: str,
    document_ref: str,
    note: str = "",
    evidence: tuple[BinaryIO, str] | None = None,
    request: HttpRequest | None = None,
) -> RosterCorrection:
    """Record the admissions office's correction of one roster row, with the document it rests on."""
    if field not in RosterCorrection.Field.values:
        raise ValidationError({"field": "请选择更正项"})
    new_value = new_value.strip()
    document_ref = document_ref.strip()
    if field == RosterCorrection.Field.ID_NUMBER:
        new_value = normalise_id_number(new_value)
    errors = {}
    if not new_value:
        errors["new_value"] = "请填写更正后的值"
    elif field == RosterCorrection.Field.SCHOOL_CODE and not (len(new_value) == 10 and new_value.isdigit()):
        errors["new_value"] = "录取学校代码应为10位数字"
    elif len(new_value) > 50:
        errors["new_value"] = "更正后的值不能超过50个字符"
    if not document_ref:
        errors["document_ref"] = "请填写更正依据的文件文号"
    if errors:
        raise ValidationError(errors)
    stored = content_type = ""
    if evidence is not None:
        from xueji.reconcile.namechange import store_evidence

        stored, content_type, _size, _digest = store_evidence(*evidence)
    with transaction.atomic():
        old_value = corrected_values(entry).get(field, getattr(entry, field))
        correction = RosterCorrection.objects.create(
            entry=entry,
            field=field,
            old_value=old_value,
            new_value=new_value,
            document_ref=document_ref[:100],
            note=note.strip()[:500],
            evidence_name=evidence[1][:255] if evidence else "",
            evidence_stored=stored,
            evidence_type=content_type,
            corrected_by=actor,
            corrected_at=timezone.now(),
        )
        audit_record(
            actor=actor,
            action="roster.correct",
            obj=correction,
            before={field: old_value},
            after={field: new_value, "document_ref": correction.document_ref},
            request=request,
        )
    return correction


def corrected_values(entry: RosterEntry) -> dict[str, str]:
    """The latest correction of each field of one row."""
    return {c.field: c.new_value for c in entry.corrections.order_by("corrected_at", "id")}
