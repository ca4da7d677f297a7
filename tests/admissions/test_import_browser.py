"""导入名单 in a real browser: upload a filled template, watch the progress bar reach 100%, download the
failed rows and find the reasons in the last column."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from django.db import connections
from python_calamine import CalamineWorkbook

from tests.admissions.helpers import school_a_row
from tests.conftest import ARTIFACTS, PASSWORD, make_user, school_a_from_scratch
from xueji.admissions import imports
from xueji.admissions.models import AdmissionRecord, ImportJob
from xueji.orgs.models import Role
from xueji.orgs.selectors import school_catalog
from xueji.records.catalog import FIELDS_BY_KEY
from xueji.records.template import write_template

ROWS = 1500


def fill_template(path: Path, school, rows: list[dict[str, object]]) -> None:  # type: ignore[no-untyped-def]
    """The registrar's way: download the school's template, type the rows under its header."""
    import io

    buffer = io.BytesIO()
    write_template(buffer, school_catalog(school))
    template = CalamineWorkbook.from_filelike(io.BytesIO(buffer.getvalue()))
    header = [str(h) for h in template.get_sheet_by_index(0).to_python()[0]]
    keys = []
    for title in header:
        match = next((f.key for f in FIELDS_BY_KEY.values() if title in (f.header, f.label)), None)
        keys.append(match)
    from tests.records.helpers import write_xlsx

    write_xlsx(path, header, [[row.get(k, "") if k else "" for k in keys] for row in rows])


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_registrar_imports_and_downloads_the_failures(
    live_server, browser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    *_, school = school_a_from_scratch()
    make_user("xj3111010001", Role.REGISTRAR, school=school)

    # The worker: each queued job runs in a thread of its own, in small batches so the bar moves visibly.
    monkeypatch.setattr(imports, "BATCH_SIZE", 50)

    def run_in_background(job_id: int) -> None:
        def run() -> None:
            try:
                imports.import_job_run(job_id)
            finally:
                connections.close_all()

        threading.Thread(target=run, daemon=True).start()

    monkeypatch.setattr(imports, "enqueue_import", run_in_background)

    rows = [school_a_row(n) for n in range(1, ROWS + 1)]
    rows[9]["direction"] = "云计算"
    rows[99]["ethnicity"] = "火星族"
    source = tmp_path / "2026级新生.xlsx"
    fill_template(source, school, rows)

    page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN", accept_downloads=True)
    page.goto(f"{live_server.url}/")
    page.fill("#id_username", "xj3111010001")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.click("nav.sidebar >> text=招生信息管理")
    page.click("text=导入名单")
    page.wait_for_url("**/admissions/import/")
    page.set_input_files("form[action$='/import/upload/'] input[type=file]", str(source))
    page.click("form[action$='/import/upload/'] button[type=submit]")
    assert "正在后台导入" in page.locator("ul.messages").inner_text()

    row = page.locator("#import-jobs tbody tr").first
    seen: set[str] = set()
    for _ in range(600):
        seen.add(row.locator(".percent").inner_text())
        if "100%" in seen:
            break
        page.wait_for_timeout(100)
    assert "100%" in seen, seen
    assert "已完成" in row.inner_text()
    cells = row.locator("td.num")
    assert [cells.nth(i).inner_text().split("\n")[0] for i in range(3)] == [str(ROWS), str(ROWS - 2), "2"]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "import-done.png"), full_page=True)

    with page.expect_download() as download_info:
        row.locator("a.failures").click()
    download = download_info.value
    assert download.suggested_filename == "2026级新生-失败数据.xlsx"
    saved = tmp_path / "failures.xlsx"
    download.save_as(saved)
    sheet = CalamineWorkbook.from_path(str(saved)).get_sheet_by_index(0).to_python()
    assert sheet[0][-1] == "失败原因"
    reasons = [str(r[-1]) for r in sheet[1:] if any(r)]
    assert len(reasons) == 2
    assert "“云计算”不是本校该专业的专业方向" in reasons[0]
    assert "火星族" in reasons[1] or "民族" in reasons[1]

    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.DONE
    assert AdmissionRecord.objects.filter(import_job=job).count() == ROWS - 2
    page.close()
