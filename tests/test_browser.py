"""A registrar's first login in a real browser: Debian's Chromium driven by Playwright."""

from __future__ import annotations

import pytest

from tests.conftest import ARTIFACTS, PASSWORD, make_user, school_a_from_scratch
from xueji.orgs.models import Role


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_registrar_changes_first_login_password_and_reaches_basic_info(live_server, browser) -> None:  # type: ignore[no-untyped-def]
    *_, school = school_a_from_scratch()
    make_user("xj3111010001", Role.REGISTRAR, school=school, must_change_password=True)

    page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page.goto(f"{live_server.url}/")
    assert "用户登录" in page.content()
    page.fill("#id_username", "xj3111010001")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")

    # First login: the only thing it can do is set its own password.
    page.wait_for_url("**/password/")
    assert "首次登录" in page.content()
    page.fill("#id_old_password", PASSWORD)
    page.fill("#id_new_password1", "Spring-Harbor-2026")
    page.fill("#id_new_password2", "Spring-Harbor-2026")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    assert "密码已修改" in page.content()

    page.click("nav.sidebar >> text=专业与方向")
    page.wait_for_url("**/school/majors/")
    row = page.locator("table.grid tbody tr").first
    assert "计算机应用" in row.inner_text() and "网络应用" in row.inner_text()

    page.click("nav.sidebar >> text=班级")
    page.wait_for_url("**/school/classes/")
    assert "2026级1班" in page.locator("table.grid").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "registrar-classes.png"))
    # The page fits a 1366-wide screen without horizontal scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    page.close()
