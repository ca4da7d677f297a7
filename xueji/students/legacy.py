"""档案管理: students migrated from the old system, loaded as already registered (审核通过) with their 学籍号.

The old system's export uses the catalog's column names for most fields (the catalog's aliases cover its
spellings); the one column that is not a catalog field, the 学籍号, is found by the names in
``LEGACY_NUMBER_HEADERS`` — the one place that maps the old system's columns. Every row goes through the same
validator as the import; a row that fails, or whose person already holds a student status (一人一籍), or whose
学籍号 is taken, is reported with its reason and not loaded. The rows that pass are written in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from xueji.admissions.models import AdmissionRecord
from xueji.admissions.services import SchoolChoices, json_value, record_columns
from xueji.audit.services import audit_record
from xueji.orgs.models import School, SchoolClass, User
from xueji.orgs.selectors import school_catalog
from xueji.records.catalog import normalise_header
from xueji.records.check import RowReport, check_rows_with_cells
from xueji.records.codes import cell_text
from xueji.records.context import RowContext
from xueji.records.validator import ERROR
from xueji.records.workbook import open_table
from xueji.students.models import HOLDING, State, Student
from xueji.students.workflow import assign_student_numbers

# The old system's 学籍号 column, by the names it has been exported under.
LEGACY_NUMBER_HEADERS = frozenset({"学籍号", "全国学籍号", "学籍编号", "学籍号码"})


@dataclass
class LegacyResult:
    loaded: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)  # (sheet row, reason)


def legacy_import(*, path: str | Path, school: School, actor: User | None) -> LegacyResult:
    """Load one old-system file for ``school``. Raises WorkbookError for a file that cannot be read at all."""
    table = open_table(path)
    number_column = next(
        (c.index for c in table.columns if c.field is None and normalise_header(c.header) in LEGACY_NUMBER_HEADERS),
        None,
    )
    result = LegacyResult()
    rows: list[tuple[int, dict[str, object], str | None]] = []
    for number, clean, errors, cells in check_rows_with_cells(table, RowContext(school=school_catalog(school))):
        problems = [e for e in errors if e.severity == ERROR]
        if problems:
            result.failed.append((number, RowReport(number, problems).reason()))
            continue
        given = (
            cell_text(cells[number_column]).strip() if number_column is not None and number_column < len(cells) else ""
        )
        rows.append((number, clean, given or None))
    if not rows:
        return result
    choices = SchoolChoices.load(school)
    classes = {(c.grade.year, c.name): c.pk for c in SchoolClass.objects.filter(school=school).select_related("grade")}
    now = timezone.now()
    with transaction.atomic():
        numbers = [str(clean["id_number"]) for _n, clean, _g in rows]
        admitted = set(AdmissionRecord.objects.filter(id_number__in=numbers).values_list("id_type", "id_number"))
        holding = set(
            Student.objects.filter(id_number__in=numbers, state__in=HOLDING).values_list("id_type", "id_number")
        )
        wanted = [g for _n, _c, g in rows if g]
        taken = set(Student.objects.filter(student_no__in=wanted).values_list("student_no", flat=True))
        seen_numbers: set[str] = set()
        accepted: list[tuple[dict[str, object], str | None]] = []
        for number, clean, student_no in rows:
            person = (str(clean["id_type"]), str(clean["id_number"]))
            if person in holding or person in admitted:
                result.failed.append((number, "该学生已有学籍或招生信息（一人一籍），不能重复迁入，请联系区县核实"))
            elif student_no and (student_no in taken or student_no in seen_numbers):
                result.failed.append((number, f"学籍号 {student_no} 已被占用"))
            else:
                if student_no:
                    seen_numbers.add(student_no)
                accepted.append((clean, student_no))
        records = AdmissionRecord.objects.bulk_create(
            [
                AdmissionRecord(
                    school=school,
                    created_by=actor,
                    state=AdmissionRecord.State.CHECKED_IN,
                    created_at=now,
                    updated_at=now,
                    **{**record_columns(clean, choices), "data": {k: json_value(v) for k, v in clean.items()}},
                )
                for clean, _given in accepted
            ],
            batch_size=500,
        )
        students = Student.objects.bulk_create(
            [
                Student(
                    school=school,
                    admission=record,
                    grade=record.grade,
                    school_class_id=classes.get((record.grade, str(record.data.get("class_name") or ""))),
                    name=record.name,
                    id_type=record.id_type,
                    id_number=record.id_number,
                    gender=record.gender,
                    birth_date=record.birth_date,
                    offering_id=record.offering_id,
                    direction_id=record.direction_id,
                    admission_method=record.admission_method,
                    data=record.data,
                    state=State.APPROVED,
                    source=Student.Source.LEGACY,
                    student_no=given,
                    created_at=now,
                    updated_at=now,
                )
                for record, (_clean, given) in zip(records, accepted, strict=True)
            ],
            batch_size=500,
        )
        assign_student_numbers([s.pk for s in students if not s.student_no])
        result.loaded = len(students)
        if students:
            audit_record(
                actor=actor,
                action="student.legacy_import",
                after={"school": school.code, "loaded": len(students), "failed": len(result.failed)},
            )
    result.failed.sort()
    return result
