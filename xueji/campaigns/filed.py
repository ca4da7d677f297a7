"""A 上报盘 checked against the filed record (备案学籍): once the city has closed the campaign of a grade, the
approved students a package lists should be the students filed at the close, under the names filed.

Differences are notes for the city, not a reason to refuse the package: the package is checked against the
database as it is now (``xueji.roster.filing``), and a student may rightly have been approved, renamed or
moved since the close. An approved 改名 decided after the close is named as the reason for a different name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from xueji.campaigns.models import Campaign, FiledStudent
from xueji.students.models import State

if TYPE_CHECKING:
    from xueji.roster.filing import Scope

# Names listed in one note at most; the count says how many there are.
SHOWN = 10


def _listed(people: Sequence[tuple[str, str]]) -> str:
    shown = "、".join(f"{name}（{student_no}）" if student_no else name for student_no, name in people[:SHOWN])
    return shown + ("等" if len(people) > SHOWN else "")


def filed_campaign(scope: Scope, grade: int) -> Campaign | None:
    """The closed campaign of the scope's city for the grade (the latest closed, should there be more)."""
    return (
        Campaign.objects.filter(city=scope.city, intake_year=grade, status=Campaign.Status.CLOSED)
        .order_by("-closed_at", "-pk")
        .first()
    )


def filed_differences(scope: Scope, grade: int, rows: Sequence[Sequence[str]]) -> list[str]:
    """The package's approved rows (``rows`` in ``PACKAGE_COLUMNS`` order) against the filed record of the
    same scope: filed students missing from the package, approved students in it that were not filed, and a
    different name for the same 学籍号. Nothing when no campaign of the grade has been closed."""
    from xueji.reconcile.models import NameChange
    from xueji.roster.filing import PACKAGE_COLUMNS
    from xueji.roster.printing import STATE_LABELS

    campaign = filed_campaign(scope, grade)
    if campaign is None:
        return []
    no_at, name_at, state_at = (PACKAGE_COLUMNS.index(key) for key in ("student_no", "name", "state"))
    approved = STATE_LABELS[State.APPROVED.value]
    packaged: dict[str, str] = {}
    for row in rows:
        if row[state_at] == approved:
            packaged[row[no_at]] = row[name_at]
    filed_rows = FiledStudent.objects.filter(campaign=campaign)
    if scope.kind == "district":
        filed_rows = filed_rows.filter(district__code=scope.code)
    else:
        filed_rows = filed_rows.filter(school__code=scope.code)
    filed = {
        f.student_no: (f.student_id, f.name)
        for f in filed_rows.order_by("student_no").only("student_no", "student_id", "name")
    }

    notes: list[str] = []
    missing = [(no, filed[no][1]) for no in filed if no not in packaged]
    if missing:
        notes.append(f"备案记录中有 {len(missing)} 人不在上报盘的审核通过名单中：{_listed(missing)}")
    unfiled = [(no, packaged[no]) for no in packaged if no not in filed]
    if unfiled:
        notes.append(
            f"上报盘中有 {len(unfiled)} 名审核通过的学生不在{campaign.title}的备案记录中"
            f"（备案后才审核通过，或未备案）：{_listed(unfiled)}"
        )
    renamed = {no: (filed[no], packaged[no]) for no in filed if no in packaged and filed[no][1] != packaged[no]}
    if renamed:
        explained = set(
            NameChange.objects.filter(
                student_id__in=[student_id for (student_id, _name), _now in renamed.values()],
                status=NameChange.Status.APPROVED,
                decided_at__gt=campaign.closed_at,
            ).values_list("student_id", "new_name")
        )
        for no, ((student_id, filed_name), now) in list(renamed.items())[:SHOWN]:
            why = "（备案后已改名）" if (student_id, now) in explained else ""
            notes.append(f"学籍号 {no} 的姓名与备案不同：备案为“{filed_name}”，上报盘为“{now}”{why}")
        if len(renamed) > SHOWN:
            notes.append(f"另有 {len(renamed) - SHOWN} 人的姓名与备案不同")
    return notes
