"""The 编辑 and 批量处理 forms: the catalog-generated admission form, reused."""

from __future__ import annotations

from collections.abc import Mapping

from xueji.admissions.forms import AdmissionForm, FormRow
from xueji.records.context import SchoolCatalog
from xueji.students.edits import BATCH_FIELDS
from xueji.students.models import Student


def student_initial(student: Student) -> dict[str, str]:
    """A student's stored clean values as the form shows them (codes for selects, ISO dates)."""
    values = {key: "" if value is None else str(value) for key, value in student.data.items()}
    if student.direction_id and student.direction is not None:
        values["direction"] = student.direction.name
    if student.school_class_id and student.school_class is not None:
        values["class_name"] = student.school_class.name
    return values


def batch_form(
    data: Mapping[str, object] | None, *, catalog: SchoolCatalog, initial: dict[str, str] | None = None
) -> AdmissionForm:
    """With ``initial`` major (every selected student has the same one) the 专业方向 drop-down lists its
    directions."""
    return AdmissionForm(data, catalog=catalog, initial=initial)


def batch_rows(form: AdmissionForm, chosen: set[str]) -> list[tuple[FormRow, bool]]:
    """The fields 批量处理 may set, each with whether the user ticked it."""
    return [(FormRow(f, form[f.key]), f.key in chosen) for f in BATCH_FIELDS]
