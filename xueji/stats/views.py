"""统计查询: one dimension at a time, as a table, a bar chart drawn on the server (SVG) and an xlsx."""

from __future__ import annotations

import io
from urllib.parse import quote

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render

from xueji.orgs.models import Role
from xueji.orgs.selectors import districts_visible_to, grades_visible_to
from xueji.orgs.views import AuthedRequest, roles_required
from xueji.records.check import neutralise
from xueji.records.workbook import new_workbook
from xueji.stats.selectors import DIMENSIONS, Row, stats_table

ALL_ROLES = (Role.REGISTRAR, Role.SCHOOL_LEADER, Role.DISTRICT_REVIEWER, Role.CITY_ADMIN)
DEFAULT_DIMENSION = {Role.CITY_ADMIN: "district", Role.DISTRICT_REVIEWER: "school"}
BAR_WIDTH = 360  # px of the longest bar


def _xlsx(title: str, label: str, rows: list[Row], grade: int | None) -> HttpResponse:
    buffer = io.BytesIO()
    workbook = new_workbook(buffer)
    sheet = workbook.add_worksheet("统计")
    bold = workbook.add_format({"bold": True})
    sheet.write_row(0, 0, [label, f"{grade}级" if grade else "人数", f"{grade - 1}级" if grade else ""], bold)
    for index, row in enumerate(rows, start=1):
        sheet.write_string(index, 0, neutralise(row.label))
        sheet.write_number(index, 1, row.count)
        if row.previous is not None:
            sheet.write_number(index, 2, row.previous)
    sheet.write_string(len(rows) + 1, 0, "合计", bold)
    sheet.write_number(len(rows) + 1, 1, sum(r.count for r in rows), bold)
    sheet.set_column(0, 0, 28)
    workbook.close()
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(title + '.xlsx')}"
    return response


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
    rows = stats_table(user, key, grade, district.pk if district else None)
    dimension = DIMENSIONS[key]
    title = f"{grade or ''}级新生按{dimension.label}统计" + (f"（{district.name}）" if district else "")
    if request.GET.get("format") == "xlsx":
        return _xlsx(title, dimension.label, rows, grade)
    top = max((r.count for r in rows), default=0)
    bars = [(r, int(BAR_WIDTH * r.count / top) if top else 0) for r in rows]
    drill = {}
    if user.role == Role.CITY_ADMIN and key == "district" and not district:
        drill = {d.name: d.pk for d in districts_visible_to(user)}
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
            "bars": bars,
            "total": sum(r.count for r in rows),
            "previous_total": sum(r.previous or 0 for r in rows) if grade else None,
            "title": title,
            "drill": drill,
            "chart_height": 24 * len(rows) + 10,
            "bar_width": BAR_WIDTH,
        },
    )
