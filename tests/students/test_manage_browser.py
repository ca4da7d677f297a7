"""学籍管理 in a real browser: 批量处理 sets a field on the ticked students, and 导出 downloads the ticked
columns of the filtered students as a workbook."""

from __future__ import annotations

from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from tests.admissions.helpers import school_a_row
from tests.conftest import ARTIFACTS, PASSWORD, make_user, school_a_from_scratch
from xueji.admissions.models import AdmissionRecord
from xueji.admissions.services import admission_save
from xueji.orgs.models import Role
from xueji.students.models import Student
from xueji.students.services import checkin


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_registrar_batch_edits_and_exports(live_server, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    *_, school = school_a_from_scratch()
    registrar = make_user("xj", Role.REGISTRAR, school=school)
    names = ["周一", "吴二", "郑三"]
    for serial, name in enumerate(names, start=1):
        assert admission_save(actor=registrar, school=school, raw=school_a_row(serial, name=name)).ok
    checkin(actor=registrar, records=AdmissionRecord.objects.all())

    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN", accept_downloads=True)
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "xj")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.click("nav.sidebar >> text=学籍管理")

    # 批量处理: 周一 and 郑三 become day students (走读).
    for name in ("周一", "郑三"):
        page.locator("table.grid tbody tr", has_text=name).locator("input[name=ids]").check()
    page.click("text=批量处理（选中的）")
    field = page.locator(".batch-field", has=page.locator("#id_attendance_mode"))
    field.locator("input[name=set]").check()
    page.select_option("#id_attendance_mode", label="走读")
    page.click("text=批量修改")
    modes = {s.name: s.data["attendance_mode"] for s in Student.objects.all()}
    assert modes["周一"] == modes["郑三"] == "1" != modes["吴二"]  # 1 = 走读

    # 导出: name and 就读方式 of everyone, as xlsx.
    page.goto(f"{live_server.url}/students/")
    page.click("a.button >> text=导出")
    select_all = page.locator(".select-all input[type=checkbox]")
    select_all.check()
    select_all.uncheck()  # 全选 off: nothing ticked
    page.check("input[name=columns][value=name]")
    page.check("input[name=columns][value=attendance_mode]")
    with page.expect_download() as download_info:
        page.click("button >> text=导出")
    saved = tmp_path / "export.xlsx"
    download_info.value.save_as(saved)
    rows = CalamineWorkbook.from_path(str(saved)).get_sheet_by_index(0).to_python()
    assert rows[0] == ["姓名", "就读方式"]
    exported = {r[0]: r[1] for r in rows[1:] if r[0]}
    assert exported["周一"] == exported["郑三"] == "走读" and set(exported) == set(names)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "students-export.png"), full_page=True)
    page.close()
