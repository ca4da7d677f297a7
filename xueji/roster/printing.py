"""新生名单: the students of one school and grade (optionally one major or one class), as rows for the printed
PDF and for the 上报盘 workbook. Scope is the caller's: pass a queryset from ``students_visible_to``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from xueji.admissions.selectors import can_see_personal_data, mask_id_number
from xueji.audit.services import audit_record
from xueji.orgs.models import MajorOffering, School, SchoolClass, User
from xueji.roster.pdf import RosterDocument, render_roster
from xueji.students.models import State, Student


@dataclass(frozen=True)
class RosterColumn:
    key: str
    label: str
    width: float  # relative width on the A4 page


ROSTER_COLUMNS: tuple[RosterColumn, ...] = (
    RosterColumn("seq", "序号", 5),
    RosterColumn("school", "学校", 16),
    RosterColumn("student_no", "学籍号", 15),
    RosterColumn("name", "姓名", 10),
    RosterColumn("gender", "性别", 5),
    RosterColumn("birth_date", "出生日期", 11),
    RosterColumn("id_number", "身份证件号", 21),
    RosterColumn("major", "专业", 17),
    RosterColumn("direction", "专业方向", 12),
    RosterColumn("class", "班级", 12),
    RosterColumn("state", "学籍状态", 12),
)
COLUMNS_BY_KEY = {c.key: c for c in ROSTER_COLUMNS}
DEFAULT_COLUMNS = ("seq", "name", "gender", "id_number", "major", "class", "state", "student_no")
GENDERS = {"1": "男", "2": "女"}
STATE_LABELS = {s.value: str(s.label) for s in State}


def clean_columns(keys: Iterable[str]) -> list[str]:
    wanted = set(keys)
    chosen = [c.key for c in ROSTER_COLUMNS if c.key in wanted]
    return chosen or list(DEFAULT_COLUMNS)


def roster_students(
    students: QuerySet[Student],
    *,
    grade: int,
    school: School | None = None,
    offering: MajorOffering | None = None,
    school_class: SchoolClass | None = None,
    source: str | None = None,
) -> QuerySet[Student]:
    """Every student of the grade, whatever the review state (the 学籍状态 column says where each one is), in
    class order and, within a class, in check-in order. ``source`` keeps only the new students (新生报到) or
    only those migrated from the old system (原系统迁入)."""
    students = students.filter(grade=grade)
    if source is not None:
        students = students.filter(source=source)
    if school is not None:
        students = students.filter(school=school)
    if offering is not None:
        students = students.filter(offering=offering)
    if school_class is not None:
        students = students.filter(school_class=school_class)
    return students.select_related("school", "offering__major", "direction", "school_class").order_by(
        "school__code", "school_class__name", "pk"
    )


def roster_rows(students: Iterable[Student], columns: Sequence[str], *, show_id_number: bool) -> list[list[str]]:
    rows = []
    for seq, student in enumerate(students, start=1):
        values = {
            "seq": str(seq),
            "school": student.school.name,
            "student_no": student.student_no or "",
            "name": student.name,
            "gender": GENDERS.get(student.gender, ""),
            "birth_date": student.birth_date.isoformat() if student.birth_date else "",
            "id_number": student.id_number if show_id_number else mask_id_number(student.id_number),
            "major": student.offering.major.name,
            "direction": student.direction.name if student.direction else "",
            "class": student.school_class.name if student.school_class else "",
            "state": STATE_LABELS.get(student.state, student.state),
        }
        rows.append([values[key] for key in columns])
    return rows


def roster_totals(students: Sequence[Student]) -> list[str]:
    genders = Counter(GENDERS.get(s.gender, "未填") for s in students)
    states = Counter(s.state for s in students)
    line = f"合计：{len(students)} 人（男 {genders.get('男', 0)} 人，女 {genders.get('女', 0)} 人"
    if genders.get("未填"):
        line += f"，性别未填 {genders['未填']} 人"
    line += "）"
    by_state = "，".join(f"{STATE_LABELS[s.value]} {states[s.value]} 人" for s in State if states.get(s.value))
    return [line, f"其中：{by_state}"] if by_state else [line]


def roster_document(
    students: Sequence[Student],
    *,
    columns: Sequence[str],
    show_id_number: bool,
    heading: str,
    grade: int,
    scope_note: str = "",
    kind: str = "新生名单",
) -> RosterDocument:
    today = timezone.localdate()
    return RosterDocument(
        title=f"{heading} {grade}级{kind}",
        school=heading,
        grade=grade,
        printed_on=f"{today.year}年{today.month}月{today.day}日",
        headers=[COLUMNS_BY_KEY[key].label for key in columns],
        rows=roster_rows(students, columns, show_id_number=show_id_number),
        widths=[COLUMNS_BY_KEY[key].width for key in columns],
        scope_note=scope_note,
        totals=roster_totals(students),
    )


def roster_pdf_bytes(document: RosterDocument) -> bytes:
    return render_roster(document, getattr(settings, "XUEJI_PDF_FONTS", ()))


def roster_print(
    *,
    user: User,
    students: QuerySet[Student],
    school: School,
    grade: int,
    offering: MajorOffering | None = None,
    school_class: SchoolClass | None = None,
    source: str | None = None,
    columns: Sequence[str],
    request: HttpRequest | None = None,
) -> bytes:
    """The printed 新生名单 of one school. The 身份证件号 is printed in full only for the registrar, the same rule
    as 导出 (can_see_personal_data): the registrar prints the copies that are signed, sealed and filed, and
    checks each number against the ID card; a leader or a district printing a working copy gets the masked
    number, so a PDF never shows more than the same user's export would."""
    if source is not None and source not in Student.Source.values:
        raise ValueError(f"unknown student source {source!r}")
    listed = list(
        roster_students(
            students, grade=grade, school=school, offering=offering, school_class=school_class, source=source
        )
    )
    notes = []
    if source is not None:
        notes.append(f"来源：{Student.Source(source).label}")
    if offering is not None:
        notes.append(f"专业：{offering.major.name}")
    if school_class is not None:
        notes.append(f"班级：{school_class.name}")
    document = roster_document(
        listed,
        columns=columns,
        show_id_number=can_see_personal_data(user),
        heading=school.name,
        grade=grade,
        scope_note="　".join(notes),
        kind="迁入学生名单" if source == Student.Source.LEGACY else "新生名单",
    )
    pdf = roster_pdf_bytes(document)
    with transaction.atomic():
        audit_record(
            actor=user,
            action="roster.print",
            obj=school,
            after={
                "grade": grade,
                "major": offering.pk if offering else None,
                "class": school_class.pk if school_class else None,
                "source": source,
                "columns": list(columns),
                "rows": len(listed),
                "personal_data": can_see_personal_data(user),
            },
            request=request,
        )
    return pdf
