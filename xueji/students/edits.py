"""Changing students the school still holds (未提交): 编辑 one student, and 批量处理 of one or more fields.

Both run the validator (``xueji.records.validator``) on the whole student with the new values, exactly as the
import and 按条件提交 do, and both keep every change's before/after in the audit log. Students in review are
read-only to the school (a change needs the record returned first); approved students change only through a
reviewed request.
"""

from __future__ import annotations

import datetime
import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from xueji.admissions.models import AdmissionRecord
from xueji.admissions.services import SchoolChoices, conflict_error, json_value, record_fields
from xueji.audit.services import audit_record
from xueji.orgs.models import School, SchoolClass, User
from xueji.orgs.selectors import school_catalog
from xueji.records.catalog import FIELDS, FIELDS_BY_KEY, IDENTITY, Field, Kind
from xueji.records.context import RowContext
from xueji.records.validator import ERROR, FieldError, RowValidator
from xueji.students.models import State, Student
from xueji.students.workflow import chunked

# Why a student the school may not change is refused, by state.
READ_ONLY_REASONS = {
    State.REVIEW_SCHOOL: "审核中（学校），学校不能修改；如需修改请校领导先退回",
    State.REVIEW_DISTRICT: "审核中（区县），学校不能修改；如需修改请区县先退回",
    State.REVIEW_CITY: "审核中（市级），学校不能修改；如需修改请市级先退回",
    State.APPROVED: "已审核通过，只能通过学籍变更申请（经审核）修改",
}

# 批量处理 sets one value on many students: fields that describe a person (身份信息) or are one person's own
# (exam numbers and score, addresses, phones, guardian) make no sense in bulk and are left to 编辑.
_PER_PERSON_KINDS = frozenset({Kind.SERIAL, Kind.NUMBER, Kind.PHONE, Kind.EMAIL, Kind.POSTCODE, Kind.NAME})
_PER_PERSON_KEYS = frozenset({"home_address", "guardian_relation", "household_region", "origin_region"})
BATCH_FIELDS: tuple[Field, ...] = tuple(
    f for f in FIELDS if f.group != IDENTITY and f.kind not in _PER_PERSON_KINDS and f.key not in _PER_PERSON_KEYS
)
BATCH_KEYS = frozenset(f.key for f in BATCH_FIELDS)

# The catalog keys a Student keeps in its own columns too (queried, sorted and joined on).
IDENTITY_COLUMNS = ("name", "id_type", "id_number", "gender", "birth_date")


STALE_FORM = (
    "{name}的信息在您打开编辑页之后（{when}）已被修改，为免覆盖那次修改，本次未保存。请重新打开编辑页，核对后再修改"
)


def read_only_reason(state: str) -> str | None:
    return READ_ONLY_REASONS.get(State(state))


def _shown(value: object) -> object:
    return None if value in (None, "") else value


def _diff(before: Mapping[str, object], after: Mapping[str, object]) -> dict[str, tuple[object, object]]:
    keys = [f.key for f in FIELDS if _shown(before.get(f.key)) != _shown(after.get(f.key))]
    return {key: (_shown(before.get(key)), _shown(after.get(key))) for key in keys}


def school_classes(school: School) -> dict[tuple[int, str], int]:
    """The school's classes by (grade, name): the class a student's 年级 and 班级 name."""
    return {
        (year, name): pk
        for pk, year, name in SchoolClass.objects.filter(school=school).values_list("pk", "grade__year", "name")
    }


def _class_id(classes: Mapping[tuple[int, str], int], grade: object, name: object) -> int | None:
    if not name or not isinstance(grade, int):
        return None
    return classes.get((grade, str(name)))


# ---------------------------------------------------------------- 编辑 one student


@dataclass
class EditResult:
    ok: bool
    errors: list[FieldError] = field(default_factory=list)
    changed: dict[str, tuple[object, object]] = field(default_factory=dict)


def _person_conflict(student: Student, id_type: str, id_number: str) -> str | None:
    """A new ID number must not belong to another student or another admission record (一人一籍 begins at
    admission: one record per person across the install)."""
    other = (
        Student.objects.filter(id_type=id_type, id_number=id_number)
        .exclude(pk=student.pk)
        .select_related("school__district")
        .first()
    )
    if other is not None:
        if other.school_id == student.school_id:
            return f"本校已有该身份证件号的学籍记录（{other.name}），请核实"
        return "该身份证件号已在其他学校有学籍记录，同一人只能在一所学校注册学籍，请联系区县核实"
    record = (
        AdmissionRecord.objects.filter(id_type=id_type, id_number=id_number)
        .exclude(pk=student.admission_id)
        .select_related("school")
        .first()
    )
    if record is not None:
        if record.school_id == student.school_id:
            return f"本校已有该身份证件号的招生信息（{record.name}），请核实"
        return "该身份证件号已在其他学校登记了招生信息，同一人只能在一所学校注册学籍，请联系区县核实"
    return None


def student_update(
    *,
    actor: User,
    student: Student,
    raw: Mapping[str, object],
    loaded_at: datetime.datetime | None = None,
    request: HttpRequest | None = None,
) -> EditResult:
    """编辑: save one 未提交 student from the form's raw values, through the validator. The admission record's
    identity columns follow a corrected name or ID number, so that its one-record-per-person constraint keeps
    guarding the number the student now has. ``loaded_at`` is the ``updated_at`` the form was filled from: the
    form sends every field, so saving it over a newer change (another registrar's edit, a 批量处理, a return
    with its reason) would undo that change without anyone seeing it; it is refused instead."""
    school = student.school
    validator = RowValidator(RowContext(school=school_catalog(school)))
    clean, errors = validator.validate(raw)
    if any(e.severity == ERROR for e in errors):
        return EditResult(False, errors)
    values = record_fields(clean, SchoolChoices.load(school))
    with transaction.atomic():
        locked = Student.objects.select_for_update().get(pk=student.pk)
        reason = read_only_reason(locked.state)
        if reason:
            return EditResult(False, [FieldError("", "", "", reason)])
        if loaded_at is not None and locked.updated_at != loaded_at:
            when = timezone.localtime(locked.updated_at).strftime("%H:%M:%S")
            return EditResult(False, [FieldError("", "", "", STALE_FORM.format(name=locked.name, when=when))])
        if (values["id_type"], values["id_number"]) != (locked.id_type, locked.id_number):
            conflict = _person_conflict(locked, values["id_type"], values["id_number"])
            if conflict:
                return EditResult(False, [conflict_error(conflict, values["id_number"])])
        changed = _diff(locked.data, values["data"])
        class_id = _class_id(school_classes(school), values["grade"], clean.get("class_name"))
        if not changed and class_id == locked.school_class_id:
            return EditResult(True)
        for name, value in values.items():
            setattr(locked, name, value)
        locked.school_class_id = class_id
        locked.updated_at = timezone.now()
        locked.save()
        identity = {column: getattr(locked, column) for column in IDENTITY_COLUMNS}
        if any(key in changed for key in IDENTITY_COLUMNS):
            AdmissionRecord.objects.filter(pk=locked.admission_id).update(**identity, updated_at=locked.updated_at)
        audit_record(
            actor=actor,
            action="student.update",
            obj=locked,
            before={key: old for key, (old, _new) in changed.items()},
            after={key: new for key, (_old, new) in changed.items()},
            request=request,
        )
    return EditResult(True, [e for e in errors if e.severity != ERROR], changed)


# ---------------------------------------------------------------- 批量处理


@dataclass
class BatchResult:
    changed: list[tuple[int, str]] = field(default_factory=list)  # (id, name)
    unchanged: list[tuple[int, str]] = field(default_factory=list)  # already had the values
    refused: list[tuple[int, str, list[str]]] = field(default_factory=list)  # (id, name, reasons)

    @property
    def summary(self) -> str:
        parts = [f"已修改 {len(self.changed)} 人"]
        if self.unchanged:
            parts.append(f"{len(self.unchanged)} 人原本就是这些值、未改动")
        if self.refused:
            parts.append(f"{len(self.refused)} 人未修改（原因见下）")
        return "，".join(parts)


class BatchError(ValueError):
    """The request itself is wrong (no field chosen, a field that cannot be set in bulk)."""


def _merge_data(ids: Sequence[int], patch: Mapping[str, object], columns: Mapping[str, object]) -> None:
    """One UPDATE per chunk that merges ``patch`` into every student's ``data`` (a None value removes the key)
    and sets ``columns``: set-based, where a save per student would be thousands of round trips."""
    table = Student._meta.db_table
    quote = connection.ops.quote_name
    assignments: list[str] = []
    params: list[Any] = []
    keep = {k: v for k, v in patch.items() if v is not None}
    drop = [k for k, v in patch.items() if v is None]
    if connection.vendor == "postgresql":
        expression = "data || %s::jsonb"
        params.append(json.dumps(keep, ensure_ascii=False))
        for key in drop:
            expression = f"({expression}) - %s"
            params.append(key)
    else:  # SQLite's json_patch follows RFC 7396: a null member removes the key
        expression = "json_patch(data, %s)"
        params.append(json.dumps({**keep, **dict.fromkeys(drop)}, ensure_ascii=False))
    assignments.append(f"data = {expression}")
    for column, value in columns.items():
        assignments.append(f"{quote(column)} = %s")
        params.append(value)
    with connection.cursor() as cursor:
        for chunk in chunked(ids):
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f"UPDATE {table} SET {', '.join(assignments)} WHERE id IN ({marks}) AND state = %s",
                [*params, *chunk, State.UNSUBMITTED.value],
            )


def students_batch_update(
    *,
    actor: User,
    students: QuerySet[Student],
    values: Mapping[str, object],
    request: HttpRequest | None = None,
) -> BatchResult:
    """批量处理: set ``values`` (catalog key → raw value, blank clears an optional field) on every 未提交
    student of ``students`` (already limited to the actor's scope). Each student is validated whole with the
    new values; one whose change would bring a new problem (a class of another grade, a required field left
    blank, 统招 without 准考证号) keeps its old values and is listed with the reasons. Problems a student had
    before (say an empty 监护人电话) do not stop the change: they are 按条件提交's to report."""
    if not values:
        raise BatchError("请至少选择一个要修改的项目")
    wrong = sorted(set(values) - BATCH_KEYS)
    if wrong:
        labels = "、".join(FIELDS_BY_KEY[k].label if k in FIELDS_BY_KEY else k for k in wrong)
        raise BatchError(f"{labels}不能批量修改，请逐个编辑")
    result = BatchResult()
    now = timezone.now()
    with transaction.atomic():
        rows = list(students.select_for_update(of=("self",)).select_related("school").order_by("pk"))
        validators: dict[int, RowValidator] = {}
        choices: dict[int, SchoolChoices] = {}
        classes: dict[int, dict[tuple[int, str], int]] = {}
        # (school, the columns that follow, the data patch) → students: one UPDATE per group.
        groups: dict[tuple[int, str, str], list[int]] = defaultdict(list)
        changes: list[dict[str, object]] = []
        for student in rows:
            reason = read_only_reason(student.state)
            if reason:
                result.refused.append((student.pk, student.name, [reason]))
                continue
            validator = validators.get(student.school_id)
            if validator is None:
                validator = validators[student.school_id] = RowValidator(
                    RowContext(school=school_catalog(student.school))
                )
                choices[student.school_id] = SchoolChoices.load(student.school)
                classes[student.school_id] = school_classes(student.school)
            old = dict(student.data)
            _old_clean, old_errors = validator.validate(old)
            new_raw = {**old, **values}
            clean, new_errors = validator.validate(new_raw)
            known = {(e.key, e.message) for e in old_errors if e.severity == ERROR}
            fresh = [e for e in new_errors if e.severity == ERROR and (e.key, e.message) not in known]
            if fresh:
                result.refused.append((student.pk, student.name, [f"{e.label}：{e.message}" for e in fresh]))
                continue
            patch = {key: json_value(clean[key]) if key in clean else None for key in values}
            after = {**old, **{k: v for k, v in patch.items() if v is not None}}
            for key in [k for k, v in patch.items() if v is None]:
                after.pop(key, None)
            diff = _diff(old, after)
            if not diff:
                result.unchanged.append((student.pk, student.name))
                continue
            columns = _batch_columns(student, clean, values, choices[student.school_id], classes[student.school_id])
            groups[(student.school_id, json.dumps(columns, sort_keys=True), json.dumps(patch, sort_keys=True))].append(
                student.pk
            )
            result.changed.append((student.pk, student.name))
            changes.append(
                {
                    "id": student.pk,
                    "name": student.name,
                    "before": {key: old for key, (old, _new) in diff.items()},
                    "after": {key: new for key, (_old, new) in diff.items()},
                }
            )
        for (_school, columns_json, patch_json), ids in groups.items():
            columns = {**json.loads(columns_json), "updated_at": connection.ops.adapt_datetimefield_value(now)}
            _merge_data(ids, json.loads(patch_json), columns)
        if changes or result.refused:
            audit_record(
                actor=actor,
                action="student.batch_update",
                after={
                    "values": {key: _shown(value) for key, value in values.items()},
                    "changed": len(changes),
                    "unchanged": len(result.unchanged),
                    "refused": [{"id": pk, "name": name, "reasons": reasons} for pk, name, reasons in result.refused],
                    "students": changes,
                },
                request=request,
            )
    return result


def _batch_columns(
    student: Student,
    clean: Mapping[str, object],
    values: Mapping[str, object],
    choices: SchoolChoices,
    classes: Mapping[tuple[int, str], int],
) -> dict[str, object]:
    """The Student columns that mirror the changed catalog keys."""
    columns: dict[str, object] = {}
    if "grade" in values and isinstance(clean.get("grade"), int):
        columns["grade"] = clean["grade"]
    if "admission_method" in values and clean.get("admission_method"):
        columns["admission_method"] = clean["admission_method"]
    if "major" in values or "direction" in values:
        offering = choices.offerings.get(str(clean.get("major") or ""))
        if offering is not None:
            columns["offering_id"] = offering.pk
            direction = choices.directions.get((offering.pk, str(clean.get("direction") or "")))
            columns["direction_id"] = direction.pk if direction else None
    if "class_name" in values or "grade" in values:
        grade = clean.get("grade", student.grade)
        columns["school_class_id"] = _class_id(classes, grade, clean.get("class_name"))
    return columns
