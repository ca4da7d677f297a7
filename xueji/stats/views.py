"""统计查询: one dimension at a time, as a table, a chart drawn on the server (SVG: bars, or a pie for a few values
that make up the whole), a 学籍状态 × 审核级别 table, and an xlsx of all of it."""

from __future__ import annotations

import io
from urllib.parse import quote

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render

from xueji.orgs.models import Role
from xueji.orgs.selectors import districts_visible_to, grades_visible_to, schools_visible_to
from xueji.orgs.views import AuthedRequest, roles_required
from xueji.records.check import neutralise
from xueji.records.workbook import new_workbook
from xueji.stats.charts import percent, pie_slices
from xueji.stats.selectors import DIMENSIONS, STATES, CrossRow, Row, state_cross_table, stats_table

ALL_ROLES = (Role.REGISTRAR, Role.SCHOOL_LEADER, Role.DISTRICT_REVIEWER, Role.CITY_ADMIN)
DEFAULT_DIMENSION = {Role.CITY_ADMIN: "district", Role.DISTRICT_REVIEWER: "school"}
DRILL_ROLES = (Role.CITY_ADMIN, Role.DISTRICT_REVIEWER)
BAR_WIDTH = 360  # px of the longest bar


def _xlsx(
    title: str,
    label: str,
    rows: list[Row],
    grade: int | None,
    cross: tuple[str, list[CrossRow], dict[str, int]] | None = None,
) -> HttpResponse:
    buffer = io.BytesIO()
    workbook = new_workbook(buffer)
    sheet = workbook.add_worksheet("统计")
    bold = workbook.add_format({"bold": True})
    share = workbook.add_format({"num_format": "0.0%"})
    has_previous = any(r.previous is not None for r in rows)
    header = [label, f"{grade}级" if grade else "人数", "占比"]
    if has_previous and grade:
        header += [f"{grade - 1}级", "增减"]
    sheet.write_row(0, 0, header, bold)
    total = sum(r.count for r in rows)
    for index, row in enumerate(rows, start=1):
        sheet.write_string(index, 0, neutralise(row.label))
        sheet.write_number(index, 1, row.count)
        sheet.write_number(index, 2, row.count / total if total else 0, share)
        if has_previous and row.previous is not None:
            sheet.write_number(index, 3, row.previous)
            sheet.write_number(index, 4, row.count - row.previous)
    sheet.write_string(len(rows) + 1, 0, "合计", bold)
    sheet.write_number(len(rows) + 1, 1, total, bold)
    if has_previous:
        previous_total = sum(r.previous or 0 for r in rows)
        sheet.write_number(len(rows) + 1, 3, previous_total, bold)
        sheet.write_number(len(rows) + 1, 4, total - previous_total, bold)
    sheet.set_column(0, 0, 28)
    if cross is not None:
        by_label, cross_rows, totals = cross
        states = list(STATES)
        table = workbook.add_worksheet("学籍状态×审核级别")
        table.write_row(0, 0, [by_label, *(str(STATES[s]) for s in states), "合计"], bold)
        for index, cross_row in enumerate(cross_rows, start=1):
            table.write_string(index, 0, neutralise(cross_row.label))
            table.write_row(index, 1, [cross_row.by_state[s] for s in states] + [cross_row.total])
        table.write_string(len(cross_rows) + 1, 0, "合计", bold)
        table.write_row(len(cross_rows) + 1, 1, [totals[s] for s in states] + [totals["total"]], bold)
        table.set_column(0, 0, 28)
        table.set_column(1, len(states) + 1, 14)
    workbook.close()
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(title + '.xlsx')}"
    return response


def _change_text(total: int, previous_total: int | None) -> str:
    if previous_total is None:
        return ""
    change = total - previous_total
    if change == 0:
        return "持平"
    share = f"（{abs(change) * 100 / previous_total:.1f}%）" if previous_total else ""
    return f"{'增加' if change > 0 else '减少'} {abs(change)} 人{share}"


@roles_required(*ALL_ROLES)
def index(request: AuthedRequest) -> HttpResponse:
    user = request.user
    key = request.GET.get("dim") or DEFAULT_DIMENSION.get(Role(user.role), "major")
    if key not in DIMENSIONS:
        key = "major"
    grades = sorted(set(grades_visible_to(user).values_list("year", flat=True)), reverse=True)
    raw_grade = request.GET.get("grade", "")
    grade = int(raw_grade) if raw_grade.isdigit() else (grades[0] if grades else None)
    district = None
    if user.role == Role.CITY_ADMIN and request.GET.get("district", "").isdigit():
        district = get_object_or_404(districts_visible_to(user), pk=int(request.GET["district"]))
    # The last step of the drill-down (city → district → school): one school of the user's scope.
    school = None
    if user.role in DRILL_ROLES and request.GET.get("school", "").isdigit():
        school = get_object_or_404(schools_visible_to(user).select_related("district"), pk=int(request.GET["school"]))
        district = school.district if user.role == Role.CITY_ADMIN else None
    district_id = district.pk if district else None
    school_id = school.pk if school else None
    rows = stats_table(user, key, grade, district_id, school_id)
    dimension = DIMENSIONS[key]
    where = school.name if school else district.name if district else ""
    title = f"{grade or ''}级新生按{dimension.label}统计" + (f"（{where}）" if where else "")
    # 学籍状态 × 审核级别: per district for the city, per school for a district (or a city's drilled district).
    cross = None
    if key == "state":
        by = "district" if user.role == Role.CITY_ADMIN and not district else "school"
        cross_rows, cross_totals = state_cross_table(user, grade, by, district_id, school_id)
        cross = ("区县" if by == "district" else "学校", cross_rows, cross_totals)
    if request.GET.get("format") == "xlsx":
        return _xlsx(title, dimension.label, rows, grade, cross)
    total = sum(r.count for r in rows)
    top = max((r.count for r in rows), default=0)
    bars = [(r, int(BAR_WIDTH * r.count / top) if top else 0) for r in rows]
    slices = pie_slices([(r.label, r.count) for r in rows]) if dimension.chart == "pie" else []
    drill: dict[str, int] = {}
    drill_param = ""
    if user.role == Role.CITY_ADMIN and key == "district" and not district:
        drill = {d.name: d.pk for d in districts_visible_to(user)}
        drill_param = "district"
    elif user.role in DRILL_ROLES and key == "school" and not school:
        schools = schools_visible_to(user).filter(district=district) if district else schools_visible_to(user)
        names = list(schools.values_list("name", "pk"))
        counted = {name: sum(1 for n, _ in names if n == name) for name, _ in names}
        drill = {name: pk for name, pk in names if counted[name] == 1}  # a name two schools share links nowhere
        drill_param = "school"
    has_previous = any(r.previous is not None for r in rows)
    previous_total = sum(r.previous or 0 for r in rows) if has_previous else None
    return render(
        request,
        "stats/index.html",
        {
            "dimensions": [(k, d.label) for k, d in DIMENSIONS.items()],
            "key": key,
            "dimension_label": dimension.label,
            "grades": grades,
            "grade": grade,
            "district": district,
            "rows": rows,
            "table_rows": [(r, percent(r.count, total)) for r in rows],
            "bars": bars,
            "slices": slices,
            "total": total,
            "previous_total": previous_total,
            "change_text": _change_text(total, previous_total),
            "title": title,
            "drill": drill,
            "drill_dim": "school" if drill_param == "district" else "major",
            "drill_param": drill_param,
            "school": school,
            "chart_height": 24 * len(rows) + 10,
            "pie_height": max(250, 22 * len(slices) + 20),
            "bar_width": BAR_WIDTH,
            "cross": cross,
            "states": list(STATES.items()),
            "is_city": user.role == Role.CITY_ADMIN,
        },
    )
