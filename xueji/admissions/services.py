"""Writing admission records: one at a time (新增 / 编辑 / 删除) and in batches (the import).

Both paths run the same validator (``xueji.records.validator``) and the same person rules:
- a 待报到 record of the same person at the same school is updated (not duplicated);
- a record of the same person at another school, or one already checked in (已报到, i.e. the person
  holds a student status), is refused with a reason the district can act on.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from xueji.admissions.models import AdmissionRecord, ImportJob
from xueji.audit.services import audit_record
from xueji.orgs.models import Direction, MajorOffering, School, User
from xueji.orgs.selectors import school_catalog
from xueji.records.catalog import FIELDS_BY_KEY
from xueji.records.context import RowContext
from xueji.records.validator import ERROR, FieldError, RowValidator

# Columns of AdmissionRecord filled from the clean row (the rest lives in ``data``).
MODEL_COLUMNS = ("grade", "name", "id_type", "id_number", "gender", "birth_date", "admission_method")


def json_value(value: object) -> object:
    """Clean values as JSON: dates as ISO text, scores as text (exact), everything else as it is."""
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


@dataclass(frozen=True)
class SchoolChoices:
    """The school's offerings and directions by the keys the validator's clean row uses."""

    offerings: dict[str, MajorOffering]  # by catalog major code
    directions: dict[tuple[int, str], Direction]  # by (offering id, direction name)

    @classmethod
    def load(cls, school: School) -> SchoolChoices:
        offerings = {o.major.code: o for o in MajorOffering.objects.filter(school=school).select_related("major")}
        directions = {(d.offering_id, d.name): d for d in Direction.objects.filter(offering__school=school)}
        return cls(offerings, directions)


def record_columns(clean: Mapping[str, object], choices: SchoolChoices) -> dict[str, Any]:
    """Column values (foreign keys as ids) for a clean, error-free row: what the import writes."""
    offering = choices.offerings[str(clean["major"])]
    direction_name = clean.get("direction")
    direction = choices.directions.get((offering.pk, str(direction_name))) if direction_name else None
    return {
        "grade": int(clean["grade"]),  # type: ignore[call-overload]
        "name": clean["name"],
        "id_type": clean["id_type"],
        "id_number": clean["id_number"],
        "gender": clean.get("gender") or "",
        "birth_date": clean.get("birth_date"),
        "admission_method": clean["admission_method"],
        "offering_id": offering.pk,
        "direction_id": direction.pk if direction else None,
        "data": clean,  # made JSON by the writer: dates as ISO text, scores as exact text
    }


def record_fields(clean: Mapping[str, object], choices: SchoolChoices) -> dict[str, Any]:
    """Model field values for a clean, error-free row: what 新增 / 编辑 set on the instance."""
    values = record_columns(clean, choices)
    values["offering"] = choices.offerings[str(clean["major"])]
    direction_id = values.pop("direction_id")
    values["direction"] = next((d for d in choices.directions.values() if d.pk == direction_id), None)
    del values["offering_id"]
    values["data"] = {key: json_value(value) for key, value in clean.items()}
    return values


@dataclass(frozen=True)
class ExistingPerson:
    """Just enough of an existing record to decide about a row of the same person."""

    pk: int
    school_id: int
    state: str

    def conflict_with(self, school: School) -> str | None:
        """Why this record blocks saving a row of the same person at ``school`` (None: it does not)."""
        if self.school_id != school.pk:
            other = School.objects.select_related("district").get(pk=self.school_id)
            state = AdmissionRecord.State(self.state).label
            return (
                f"该身份证件号已在“{other.name}”（{other.district.name}，学校标识码{other.code}）登记了招生信息"
                f"（{state}），同一人只能在一所学校注册学籍，请联系区县核实"
            )
        if self.state != AdmissionRecord.State.PENDING:
            return "该学生已报到注册、已有学籍，招生信息不能再修改；如需更正请在学籍管理中办理"
        return None


def existing_people(school: School, people: Iterable[tuple[str, str]]) -> dict[tuple[str, str], ExistingPerson]:
    """Existing records of these people anywhere, locked until the caller's transaction ends (so two imports
    of the same person cannot both decide to create; on SQLite the write lock does the same). Plain values,
    not model instances: the import asks this for 1,000 rows at a time."""
    wanted = set(people)
    if not wanted:
        return {}
    numbers = sorted({number for _type, number in wanted})
    rows = (
        AdmissionRecord.objects.select_for_update()
        .filter(id_number__in=numbers)
        .values_list("pk", "id_type", "id_number", "school_id", "state")
    )
    return {(t, n): ExistingPerson(pk, sid, st) for pk, t, n, sid, st in rows if (t, n) in wanted}


def conflict_error(message: str, id_number: str) -> FieldError:
    return FieldError("id_number", FIELDS_BY_KEY["id_number"].label, id_number, message)


@dataclass
class SaveResult:
    record: AdmissionRecord | None
    errors: list[FieldError]
    created: bool = False

    @property
    def ok(self) -> bool:
        return self.record is not None


def admission_save(
    *,
    actor: User,
    school: School,
    raw: Mapping[str, object],
    record: AdmissionRecord | None = None,
    request: HttpRequest | None = None,
) -> SaveResult:
    """新增 (record=None) or 编辑 one admission record from raw form values, through the validator."""
    validator = RowValidator(RowContext(school=school_catalog(school)))
    clean, errors = validator.validate(raw)
    if any(e.severity == ERROR for e in errors):
        return SaveResult(None, errors)
    choices = SchoolChoices.load(school)
    values = record_fields(clean, choices)
    with transaction.atomic():
        found = existing_people(school, [(values["id_type"], values["id_number"])])
        other = found.get((values["id_type"], values["id_number"]))
        if record is not None:
            record = AdmissionRecord.objects.select_for_update().get(pk=record.pk)
            if record.state != AdmissionRecord.State.PENDING:
                itself = ExistingPerson(record.pk, record.school_id, record.state)
                return SaveResult(None, [conflict_error(itself.conflict_with(school) or "", record.id_number)])
        if other is not None and (record is None or other.pk != record.pk):
            message = other.conflict_with(school) or "本校已有该身份证件号的招生信息，请直接修改那一条"
            return SaveResult(None, [conflict_error(message, values["id_number"])])
        before = dict(record.data) if record is not None else None
        created = record is None
        if record is None:
            record = AdmissionRecord(school=school, created_by=actor)
        for field, value in values.items():
            setattr(record, field, value)
        record.updated_at = timezone.now()
        record.save()
        audit_record(
            actor=actor,
            action="admission.create" if created else "admission.update",
            obj=record,
            before=before,
            after=record.data,
            request=request,
        )
    return SaveResult(record, [e for e in errors if e.severity != ERROR], created)


class AdmissionNotEditable(Exception):
    pass


def admission_delete(*, actor: User, record: AdmissionRecord, request: HttpRequest | None = None) -> None:
    with transaction.atomic():
        record = AdmissionRecord.objects.select_for_update().get(pk=record.pk)
        if record.state != AdmissionRecord.State.PENDING:
            raise AdmissionNotEditable("已报到的招生信息不能删除")
        audit_record(actor=actor, action="admission.delete", obj=record, before=record.data, request=request)
        record.delete()


def touch_job(job: ImportJob, **fields: object) -> None:
    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now(), **fields)
