"""编辑 one student: the catalog form, only for 未提交 students of the registrar's school, every change in the
audit log with its before and after, errors next to each field."""

from __future__ import annotations

from django.urls import reverse

from tests.admissions.helpers import person_id, school_a_row
from tests.conftest import World
from tests.records.helpers import resident_id
from tests.students.helpers import checked_in_students
from xueji.admissions.models import AdmissionRecord
from xueji.audit.models import AuditEvent
from xueji.orgs.models import SchoolClass
from xueji.students.forms import student_initial
from xueji.students.models import State, Student


def _form_data(student: Student, **changes: object) -> dict[str, object]:
    data: dict[str, object] = dict(student_initial(student))
    data.update(changes)
    return data


def test_registrar_edits_an_unsubmitted_student_and_the_change_is_audited(world: World) -> None:
    [student] = checked_in_students(world, 1)
    second = SchoolClass.objects.create(
        school=world.school_a, grade=world.grade_a, offering=world.offering_a, name="2026级2班"
    )
    client = world.client_for(world.registrar_a)
    page = client.get(reverse("students:edit", args=[student.pk])).content.decode()
    assert "编辑学籍" in page and student.data["phone"] in page and "监护人联系电话" in page
    response = client.post(
        reverse("students:edit", args=[student.pk]),
        _form_data(student, phone="13711112222", class_name="2026级2班"),
        follow=True,
    )
    assert "已保存" in response.content.decode() and "联系电话" in response.content.decode()
    student.refresh_from_db()
    assert student.data["phone"] == "13711112222"
    assert (student.school_class_id, student.data["class_name"]) == (second.pk, "2026级2班")
    event = AuditEvent.objects.get(action="student.update", object_id=str(student.pk))
    assert event.actor_id == world.registrar_a.pk
    assert event.before == {"phone": "13800138000", "class_name": "2026级1班"}
    assert event.after["phone"] == "13711112222" and event.after["class_name"] == "2026级2班"


def test_errors_are_shown_next_to_each_field_and_nothing_is_saved(world: World) -> None:
    [student] = checked_in_students(world, 1)
    before = dict(student.data)
    client = world.client_for(world.registrar_a)
    response = client.post(
        reverse("students:edit", args=[student.pk]),
        _form_data(student, phone="12345", enrolment_month="2026-13", guardian_name=""),
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "项需要修改" in page
    for key in ("phone", "enrolment_month", "guardian_name"):
        assert f'class="field has-error" id="row-{key}"' in page, key
    assert "监护人姓名不能为空" in page
    student.refresh_from_db()
    assert student.data == before
    assert not AuditEvent.objects.filter(action="student.update").exists()


def test_saving_without_a_change_writes_no_audit_event(world: World) -> None:
    [student] = checked_in_students(world, 1)
    response = world.client_for(world.registrar_a).post(
        reverse("students:edit", args=[student.pk]), _form_data(student), follow=True
    )
    assert "没有修改任何内容" in response.content.decode()
    assert not AuditEvent.objects.filter(action="student.update").exists()


def test_students_in_review_or_approved_are_read_only_to_the_school(world: World) -> None:
    client = world.client_for(world.registrar_a)
    url = reverse("students:edit", args=[world.student_a.pk])
    response = client.get(url, follow=True)
    page = response.content.decode()
    assert "审核中（学校），学校不能修改；如需修改请校领导先退回" in page
    assert ">编辑</a>" not in page
    before = dict(world.student_a.data)
    response = client.post(url, {**school_a_row(7), "phone": "13711112222"}, follow=True)
    assert "学校不能修改" in response.content.decode()
    world.student_a.refresh_from_db()
    assert world.student_a.data == before
    Student.objects.filter(pk=world.student_a.pk).update(state=State.APPROVED)
    page = client.get(url, follow=True).content.decode()
    assert "已审核通过，只能通过学籍变更申请（经审核）修改" in page


def test_the_list_offers_edit_only_for_unsubmitted_students_and_only_to_the_registrar(world: World) -> None:
    [student] = checked_in_students(world, 1)
    registrar_page = world.client_for(world.registrar_a).get(reverse("students:list")).content.decode()
    assert reverse("students:edit", args=[student.pk]) in registrar_page
    assert reverse("students:edit", args=[world.student_a.pk]) not in registrar_page  # in review
    leader_page = world.client_for(world.leader_a).get(reverse("students:list")).content.decode()
    assert reverse("students:edit", args=[student.pk]) not in leader_page


def test_a_corrected_id_number_follows_to_the_admission_record(world: World) -> None:
    [student] = checked_in_students(world, 1)
    new_number = person_id(500)
    client = world.client_for(world.registrar_a)
    # The registrar types the corrected number; the birth date and gender it carries come with it.
    response = client.post(
        reverse("students:edit", args=[student.pk]),
        _form_data(
            student, id_number=new_number, birth_date="2010-03-25", gender="2" if int(new_number[16]) % 2 == 0 else "1"
        ),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    student.refresh_from_db()
    assert student.id_number == new_number and student.data["id_number"] == new_number
    assert AdmissionRecord.objects.get(pk=student.admission_id).id_number == new_number
    event = AuditEvent.objects.get(action="student.update")
    assert event.after["id_number"] == new_number


def test_an_id_number_of_another_person_on_record_is_refused(world: World) -> None:
    [student, other] = checked_in_students(world, 2)
    client = world.client_for(world.registrar_a)
    response = client.post(
        reverse("students:edit", args=[student.pk]),
        _form_data(student, id_number=other.id_number, birth_date=other.data["birth_date"], gender=other.gender),
    )
    page = response.content.decode()
    assert response.status_code == 200 and "本校已有该身份证件号的学籍记录" in page
    # The person admitted (待报到) at school A in the world fixture.
    response = client.post(
        reverse("students:edit", args=[student.pk]),
        _form_data(student, id_number=world.record_a.id_number, birth_date="2010-03-07", gender="1"),
    )
    assert "本校已有该身份证件号的招生信息" in response.content.decode()
    student.refresh_from_db()
    assert student.id_number == person_id(1)


def test_bad_input_is_answered_with_the_form_not_an_error_page(world: World) -> None:
    [student] = checked_in_students(world, 1)
    client = world.client_for(world.registrar_a)
    response = client.post(
        reverse("students:edit", args=[student.pk]),
        {"major": "x" * 5000, "grade": "abc", "birth_date": "\x00", "direction": ["a", "b"], "id_type": "9" * 300},
    )
    assert response.status_code == 200
    assert "项需要修改" in response.content.decode()


def test_the_edit_form_checks_the_id_number_as_it_is_typed(world: World) -> None:
    [student] = checked_in_students(world, 1)
    page = world.client_for(world.registrar_a).get(reverse("students:edit", args=[student.pk])).content.decode()
    assert f'hx-post="{reverse("admissions:form_refresh")}"' in page and 'id="id-hint"' in page


def test_the_detail_page_leads_the_registrar_to_edit_and_to_a_name_change(world: World) -> None:
    [student] = checked_in_students(world, 1)
    page = world.client_for(world.registrar_a).get(reverse("students:detail", args=[student.pk])).content.decode()
    assert reverse("students:edit", args=[student.pk]) in page
    assert reverse("reconcile:name_change_new", args=[student.pk]) in page
    in_review = world.client_for(world.registrar_a).get(reverse("students:detail", args=[world.student_a.pk]))
    assert reverse("students:edit", args=[world.student_a.pk]) not in in_review.content.decode()
    leader = world.client_for(world.leader_a).get(reverse("students:detail", args=[student.pk])).content.decode()
    assert reverse("students:edit", args=[student.pk]) not in leader and "申请改名" not in leader


def test_correcting_the_id_number_in_the_edit_form_moves_the_derived_fields_with_it(world: World) -> None:
    """编辑学籍 refreshes what the ID number gives as 新增 does: a field still holding what the old number gave
    follows the corrected number; one the registrar chose stays."""
    [student] = checked_in_students(world, 1)  # born 2010-03-02, male, 户口所在地 110105 as the number says
    client = world.client_for(world.registrar_a)
    page = client.get(reverse("students:edit", args=[student.pk])).content.decode()
    assert f'name="derived_from" id="derived-from" value="1|{student.id_number}"' in page
    corrected = resident_id("11010120091125002")  # 东城区, born 2009-11-25, female
    data = _form_data(student, id_number=corrected, origin_region="130102", derived_from=f"1|{student.id_number}")
    refreshed = client.post(reverse("admissions:form_refresh"), data, HTTP_HX_REQUEST="true").content.decode()
    assert "证件号有效" in refreshed
    assert 'value="2009-11-25"' in refreshed and '<option value="2" selected>女</option>' in refreshed
    assert 'value="110101"' in refreshed  # 户口所在地 followed the number
    assert 'value="130102"' in refreshed  # 生源地 was the registrar's own choice
    assert f'id="derived-from" value="1|{corrected}" hx-swap-oob="true"' in refreshed
    # a mistyped number changes nothing and keeps the source, so the next valid one still replaces
    typo = client.post(reverse("admissions:form_refresh"), {**data, "id_number": corrected[:-1]}).content.decode()
    assert 'value="2010-03-02"' in typo and f'value="1|{student.id_number}"' in typo
    saved = client.post(
        reverse("students:edit", args=[student.pk]),
        _form_data(student, id_number=corrected, birth_date="2009-11-25", gender="2", household_region="110101"),
    )
    assert saved.status_code == 302
    student.refresh_from_db()
    assert (student.id_number, str(student.birth_date), student.gender) == (corrected, "2009-11-25", "2")
