"""Who sees which admission records and import jobs: the scope functions of 招生信息管理.

Like ``xueji.orgs.selectors``, every view starts from these; a record outside them is a 404, never a 403
that would confirm it exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from xueji.admissions.models import AdmissionRecord, ImportJob
from xueji.orgs.models import Role, User
from xueji.orgs.selectors import schools_visible_to
from xueji.records.catalog import Field, Kind
from xueji.records.idnumber import normalise_id_number


def admissions_visible_to(user: User) -> QuerySet[AdmissionRecord]:
    return AdmissionRecord.objects.filter(school__in=schools_visible_to(user))


def import_jobs_visible_to(user: User) -> QuerySet[ImportJob]:
    """Import jobs are the school's own work: its registrar and leader see them, nobody else."""
    if user.role not in (Role.REGISTRAR, Role.SCHOOL_LEADER):
        return ImportJob.objects.none()
    return ImportJob.objects.filter(school__in=schools_visible_to(user))


def can_see_personal_data(user: User) -> bool:
    """Full ID numbers, phones and addresses: only the registrar who enters and corrects them."""
    return user.role == Role.REGISTRAR


# Personal data beyond the ID number (PIPL): shown in full only to those who may see personal data, masked as
# HIDDEN for everyone else on pages and in exports. The one definition; the ID number and 学籍号 are masked by
# the functions below instead, so that two people can still be told apart.
PERSONAL_KINDS = frozenset({Kind.PHONE, Kind.EMAIL})
PERSONAL_KEYS = frozenset({"home_address", "postcode", "guardian_name"})
HIDDEN = "（仅学籍管理员可见）"


def is_personal_field(f: Field) -> bool:
    return f.kind in PERSONAL_KINDS or f.key in PERSONAL_KEYS


def shown_field_value(f: Field, text: str, show_personal: bool) -> str:
    """A field's text as a user who may (or may not) see personal data is shown it."""
    if show_personal or not text:
        return text
    if f.kind is Kind.ID_NUMBER:
        return mask_id_number(text)
    return HIDDEN if is_personal_field(f) else text


def mask_id_number(number: str) -> str:
    """110105********001X: enough to tell two people apart on a list, not enough to use."""
    if len(number) <= 8:
        return number[:2] + "*" * max(0, len(number) - 2)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_student_no(number: str | None) -> str:
    """A 学籍号 holds the ID number ("G" + 18 digits) or the birth date ("L" + region + date + serial): masked
    the same way for those who may not see ID numbers."""
    if not number:
        return ""
    return number[0] + mask_id_number(number[1:]) if number[0] in "GL" else mask_id_number(number)


@dataclass(frozen=True)
class AdmissionQuery:
    """The list's filters, all optional."""

    school_id: int | None = None
    grade: int | None = None
    offering_id: int | None = None
    admission_method: str = ""
    state: str = ""
    text: str = ""  # a name (prefix) or an ID number (exact)


def admissions_query(user: User, query: AdmissionQuery) -> QuerySet[AdmissionRecord]:
    records = admissions_visible_to(user)
    if query.school_id:
        records = records.filter(school_id=query.school_id)
    if query.grade:
        records = records.filter(grade=query.grade)
    if query.offering_id:
        records = records.filter(offering_id=query.offering_id)
    if query.admission_method:
        records = records.filter(admission_method=query.admission_method)
    if query.state:
        records = records.filter(state=query.state)
    text = query.text.strip()
    if text:
        number = normalise_id_number(text)
        if number and any(ch.isdigit() for ch in number) and len(number) >= 6:
            records = records.filter(Q(id_number=number) | Q(id_number=number.upper()))
        else:
            records = records.filter(name__startswith=text)
    return records


def keyset_page(
    records: QuerySet[AdmissionRecord], *, after: int | None, size: int
) -> tuple[list[AdmissionRecord], int | None]:
    """One page, newest first, continuing below id ``after``; the second value is the next page's ``after``.

    Keyset paging (WHERE id < last ORDER BY id DESC LIMIT n) costs the same on page 1 and page 2000, unlike
    OFFSET, which reads and throws away every row before the page."""
    if after:
        records = records.filter(pk__lt=after)
    rows = list(records.order_by("-pk").select_related("offering__major", "direction", "school")[: size + 1])
    if len(rows) > size:
        return rows[:size], rows[size - 1].pk
    return rows, None
