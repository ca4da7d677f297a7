"""年度学籍备案 in a real browser: the city publishes the campaign with its notice and deadlines, the school's
registrar finds it on the home page and marks it read, the district records the school's signed roster as
received, and the city sees who has read the notice and the school's materials stage."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone

from tests.conftest import ARTIFACTS, browser_login, make_user, school_a_from_scratch
from xueji.orgs.models import Role


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_city_publishes_the_school_reads_the_district_receives_the_city_follows(live_server, browser) -> None:  # type: ignore[no-untyped-def]
    city, district, school = school_a_from_scratch()
    make_user("xj", Role.REGISTRAR, school=school)
    make_user("qx", Role.DISTRICT_REVIEWER, region=district)
    make_user("city", Role.CITY_ADMIN, region=city)
    today = timezone.localdate()

    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")

    def login(username: str) -> None:
        browser_login(page, live_server.url, username)

    def messages() -> str:
        return page.locator("ul.messages").inner_text()

    # 市教委 publishes the campaign from its list page.
    login("city")
    page.click("nav.sidebar >> text=年度学籍备案")
    page.click("text=发布备案工作")
    page.fill("#id_title", "2026年度新生学籍备案")
    page.fill("#id_intake_year", "2026")
    page.fill("#id_notice", "各区县教委、各中等职业学校：\n请于截止日前完成2026级新生学籍备案。")
    page.fill("#id_contacts", "张老师 010-66001234 数据采集")
    for name, days in [
        ("school_submit_by", 5),
        ("school_materials_by", 10),
        ("district_review_by", 15),
        ("district_filing_from", 18),
        ("district_filing_until", 20),
    ]:
        page.fill(f"#id_{name}", (today + datetime.timedelta(days=days)).isoformat())
    page.click("button:has-text('发布')")
    assert "已发布：2026年度新生学籍备案" in messages()
    assert "张老师 010-66001234（数据采集）" in page.locator("main").inner_text()
    detail = page.url

    # The registrar sees it on the home page, unread, with what the school still has to do; marks it read.
    login("xj")
    panel = page.locator("section.campaign-home")
    assert "2026年度新生学籍备案" in panel.inner_text()
    assert "请于截止日前完成2026级新生学籍备案" in panel.inner_text()
    assert panel.locator(".tag", has_text="未读").count() == 1
    panel.locator("button", has_text="标记已读").click()
    assert "已标记为已读：2026年度新生学籍备案" in messages()
    assert page.locator("section.campaign-home .tag", has_text="未读").count() == 0

    # The district records the school's signed roster as received today.
    login("qx")
    page.goto(detail)
    page.click("text=材料清单")
    sheet = page.locator("section.panel", has_text=school.name)
    roster = sheet.locator("tr", has_text="签字盖章的新生名单（一式三份）")
    roster.locator("input[name=note]").fill("三份齐全")
    roster.locator("button", has_text="已收到").click()
    assert "已记录接收" in messages()
    roster = page.locator("section.panel", has_text=school.name).locator("tr", has_text="签字盖章的新生名单")
    assert f"✓ {today.isoformat()}" in roster.inner_text()
    assert "三份齐全" in roster.inner_text()

    # The city sees who has read the notice, and the school in the progress table.
    login("city")
    page.goto(detail)
    page.click("text=阅读情况")
    text = page.locator("main").inner_text()
    assert re.search(r"xj：\d{4}-\d\d-\d\d \d\d:\d\d 已读", text)
    assert "qx：未读" in text  # (the city, which publishes, is not among the readers)
    assert "已读 1 / 共 2 个账号" in text
    page.goto(detail)
    page.click("text=进度")
    school_row = page.locator("table.grid tr", has_text=school.name)
    assert "已收 1 / 应交 3" in school_row.inner_text()  # the signed roster; the package and the pages still owed
    page.screenshot(path=str(ARTIFACTS / "campaign-progress.png"), full_page=True)
