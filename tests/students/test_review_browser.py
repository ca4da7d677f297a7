"""The whole 学籍 path in a real browser: the registrar checks in and submits, the school leader approves,
the district returns one and approves the rest, the registrar fixes and resubmits, the district and the
city approve, and the 学籍状态 page shows every student 审核通过."""

from __future__ import annotations

import pytest

from tests.admissions.helpers import school_a_row
from tests.conftest import ARTIFACTS, browser_login, make_user, school_a_from_scratch
from xueji.admissions.services import admission_save
from xueji.orgs.models import Role
from xueji.students.models import State, Student


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_registrar_to_city_until_everyone_is_approved(live_server, browser) -> None:  # type: ignore[no-untyped-def]
    city, district, school = school_a_from_scratch()
    registrar = make_user("xj", Role.REGISTRAR, school=school)
    make_user("xl", Role.SCHOOL_LEADER, school=school)
    make_user("qx", Role.DISTRICT_REVIEWER, region=district)
    make_user("city", Role.CITY_ADMIN, region=city)
    names = ["赵一", "钱二", "孙三", "李四"]
    for serial, name in enumerate(names, start=1):
        assert admission_save(actor=registrar, school=school, raw=school_a_row(serial, name=name)).ok

    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page.on("dialog", lambda dialog: dialog.accept())

    def login(username: str) -> None:
        browser_login(page, live_server.url, username)

    def messages() -> str:
        return page.locator("ul.messages").inner_text()

    def row_of(name: str):  # type: ignore[no-untyped-def]
        return page.locator("table.grid tbody tr", has_text=name)

    # 学籍管理员: 新生报到 (everyone), then 按条件提交.
    login("xj")
    page.click("nav.sidebar >> text=新生报到")
    assert page.locator("table.grid tbody tr").count() == 4
    page.click("text=全部报到注册")
    assert "已报到注册 4 人" in messages()
    page.click("nav.sidebar >> text=学籍管理")
    page.click("text=按条件提交")
    assert "已提交审核：4 人" in messages()

    # 校领导 approves all four.
    login("xl")
    page.click("nav.sidebar >> text=学籍审核")
    assert page.locator("#pending-count").inner_text() == "4"
    page.click("text=全部审核通过")
    assert "已审核通过：4 人" in messages()
    assert page.locator("#pending-count").inner_text() == "0"

    # 区县 returns 孙三 with a reason and approves the other three.
    login("qx")
    page.click("nav.sidebar >> text=学籍审核")
    row_of("孙三").locator("input[name=ids]").check()
    page.fill("input[name=reason]", "准考证号与录取名册不一致")
    page.click("button[value=return]")
    assert "已退回：1 人" in messages()
    page.click("text=全部审核通过")
    assert "已审核通过：3 人" in messages()

    # The registrar sees the reason, and resubmits 孙三.
    login("xj")
    page.click("nav.sidebar >> text=学籍管理")
    assert "准考证号与录取名册不一致" in row_of("孙三").inner_text()
    row_of("孙三").locator("input[name=ids]").check()
    page.click("text=提交选中的学生")
    assert "已提交审核：1 人" in messages()

    # Leader and district approve the resubmitted one; the city approves all four.
    for username in ("xl", "qx"):
        login(username)
        page.click("nav.sidebar >> text=学籍审核")
        assert page.locator("#pending-count").inner_text() == "1"
        page.click("text=全部审核通过")
    login("city")
    page.click("nav.sidebar >> text=学籍审核")
    assert page.locator("#pending-count").inner_text() == "4"
    page.click("text=全部审核通过")
    assert "已审核通过：4 人" in messages()

    page.click("nav.sidebar >> text=学籍状态")
    assert "全部 4 名学生均已审核通过" in page.locator("#all-approved").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "status-all-approved.png"), full_page=True)
    assert set(Student.objects.values_list("state", flat=True)) == {State.APPROVED}
    assert all(no.startswith("G") for no in Student.objects.values_list("student_no", flat=True))
    history = Student.objects.get(name="孙三").actions.values_list("action", flat=True)
    assert list(history) == ["submit", "approve", "return", "submit", "approve", "approve", "approve"]
    page.close()
