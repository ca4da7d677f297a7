"""The Content-Security-Policy in a real browser: every page of a registrar and a district reviewer loads with no
refused script or style, and the behaviour that used to be inline (confirmations, 全选) still works."""

from __future__ import annotations

import pytest

from tests.admissions.helpers import school_a_row
from tests.conftest import browser_login, make_school, make_user, school_a_from_scratch
from xueji.admissions.models import AdmissionRecord
from xueji.admissions.services import admission_save
from xueji.orgs.models import Role
from xueji.students.services import checkin

REGISTRAR_PAGES = [
    "/", "/org/school/", "/org/school/majors/", "/org/school/grades/", "/org/school/classes/", "/org/school/terms/",
    "/admissions/", "/admissions/records/new/", "/admissions/import/", "/students/checkin/", "/students/",
    "/students/export/", "/students/status/", "/students/archive/", "/roster/", "/reconcile/name-changes/",
    "/campaigns/", "/api-tokens/", "/api/v1/docs",
]  # fmt: skip
REVIEWER_PAGES = ["/", "/org/schools/", "/org/accounts/", "/org/accounts/issue/", "/students/review/", "/stats/"]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_pages_load_under_the_csp_and_page_behaviour_still_works(live_server, browser) -> None:  # type: ignore[no-untyped-def]
    _, district, school = school_a_from_scratch()
    make_school("3111010002", "东城商务职高", district)
    registrar = make_user("xj", Role.REGISTRAR, school=school)
    make_user("qx", Role.DISTRICT_REVIEWER, region=district)
    for serial, name in enumerate(["周一", "吴二", "郑三"], start=1):
        assert admission_save(actor=registrar, school=school, raw=school_a_row(serial, name=name)).ok
    checkin(actor=registrar, records=AdmissionRecord.objects.filter(name__in=["周一", "吴二"]))

    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    refused: list[str] = []
    page.on(
        "console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None
    )
    page.on("pageerror", lambda error: refused.append(str(error)))

    def login(username: str) -> None:
        browser_login(page, live_server.url, username)

    login("xj")
    for path in REGISTRAR_PAGES:
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None and response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]

    # 全选 (xueji.js, data-select-all) ticks every student of the page.
    page.goto(f"{live_server.url}/students/")
    page.check("input[data-select-all=ids]")
    assert page.locator("input[name=ids]:checked").count() == 2
    # A confirmation (data-confirm) that is dismissed stops the delete; accepted, it goes ahead.
    page.goto(f"{live_server.url}/admissions/")
    row = page.locator("table.grid tbody tr", has_text="郑三")
    page.once("dialog", lambda dialog: dialog.dismiss())
    row.locator("button", has_text="删除").click()
    page.wait_for_load_state()
    assert AdmissionRecord.objects.filter(name="郑三").exists()
    page.once("dialog", lambda dialog: dialog.accept())
    row.locator("button", has_text="删除").click()
    page.wait_for_load_state()
    page.wait_for_url(f"{live_server.url}/admissions/**")
    assert not AdmissionRecord.objects.filter(name="郑三").exists()

    login("qx")
    for path in REVIEWER_PAGES:
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None and response.status == 200, path
    page.goto(f"{live_server.url}/org/accounts/issue/")
    page.check("#select-all")
    assert page.locator("#issue-form input[name=schools]:checked").count() == 2

    assert refused == []
    page.close()
