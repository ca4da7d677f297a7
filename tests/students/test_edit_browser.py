"""编辑学籍 in a real browser: correcting the ID number refreshes 出生日期, 性别 and 户口所在地 as it is typed
(htmx, as in 新增), and the corrected student saves."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.admissions.helpers import school_a_row
from tests.conftest import PASSWORD, make_user, school_a_from_scratch
from tests.records.helpers import resident_id
from xueji.admissions.models import AdmissionRecord
from xueji.admissions.services import admission_save
from xueji.orgs.models import Role
from xueji.students.models import Student
from xueji.students.services import checkin


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_registrar_corrects_the_id_number_and_the_derived_fields_follow(live_server, browser) -> None:  # type: ignore[no-untyped-def]
    *_, school = school_a_from_scratch()
    registrar = make_user("xj", Role.REGISTRAR, school=school)
    assert admission_save(actor=registrar, school=school, raw=school_a_row(1, name="周一")).ok
    checkin(actor=registrar, records=AdmissionRecord.objects.all())
    student = Student.objects.get()
    corrected = resident_id("11010120091125002")  # 东城区, born 2009-11-25, female

    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "xj")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/students/{student.pk}/edit/")
    assert page.input_value("#id_birth_date") == student.birth_date.isoformat()  # type: ignore[union-attr]
    page.fill("#id_id_number", corrected)
    # expect() polls without evaluating a string, which the CSP (no 'unsafe-eval') refuses.
    expect(page.locator("#id_birth_date")).to_have_value("2009-11-25")
    assert page.input_value("#id_gender") == "2"
    assert page.locator("#id-hint").inner_text().startswith("证件号有效")
    page.click("button >> text=保存")
    page.wait_for_url(f"**/students/{student.pk}/")
    student.refresh_from_db()
    assert (student.id_number, str(student.birth_date), student.gender) == (corrected, "2009-11-25", "2")
