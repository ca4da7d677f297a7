"""编辑 sends the whole form: a save over a change made since the form was opened would undo that change
unseen (a lost update). Such a save is refused with the time of the other change; a fresh form saves."""

from __future__ import annotations

import re

from django.urls import reverse

from tests.conftest import World
from tests.students.helpers import checked_in_students
from xueji.students.edits import students_batch_update
from xueji.students.forms import student_initial
from xueji.students.models import Student


def _opened(client, student: Student) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """The form as the browser holds it after opening 编辑: its fields and its hidden version."""
    page = client.get(reverse("students:edit", args=[student.pk])).content.decode()
    edited_at = re.search(r'name="edited_at" value="([^"]+)"', page)
    assert edited_at is not None
    return {**student_initial(student), "edited_at": edited_at.group(1)}


def test_a_form_opened_before_another_change_does_not_overwrite_it(world: World) -> None:
    [student] = checked_in_students(world, 1)
    first, second = world.client_for(world.registrar_a), world.client_for(world.registrar_a)
    form_a = _opened(first, student)
    form_b = _opened(second, student)
    saved = first.post(reverse("students:edit", args=[student.pk]), {**form_a, "phone": "13711112222"}, follow=True)
    assert "已保存" in saved.content.decode()
    # The second tab still shows the old phone; it changes the guardian's and saves.
    stale = second.post(reverse("students:edit", args=[student.pk]), {**form_b, "guardian_phone": "13622223333"})
    assert stale.status_code == 200
    assert "已被修改" in stale.content.decode() and "本次未保存" in stale.content.decode()
    student.refresh_from_db()
    assert (student.data["phone"], student.data["guardian_phone"]) == ("13711112222", "13900139000")
    # Opened again, the form shows the first change and saves the second on top of it.
    fresh = _opened(second, student)
    second.post(reverse("students:edit", args=[student.pk]), {**fresh, "guardian_phone": "13622223333"})
    student.refresh_from_db()
    assert (student.data["phone"], student.data["guardian_phone"]) == ("13711112222", "13622223333")


def test_a_batch_change_after_the_form_was_opened_is_not_undone(world: World) -> None:
    [student] = checked_in_students(world, 1)
    client = world.client_for(world.registrar_a)
    form = _opened(client, student)
    result = students_batch_update(
        actor=world.registrar_a,
        students=Student.objects.filter(pk=student.pk),
        values={"attendance_mode": "走读"},
    )
    assert result.changed
    student.refresh_from_db()
    batch_value = student.data["attendance_mode"]
    assert batch_value != form["attendance_mode"]
    client.post(reverse("students:edit", args=[student.pk]), {**form, "phone": "13711112222"})
    student.refresh_from_db()
    assert (student.data["attendance_mode"], student.data["phone"]) == (batch_value, "13800138000")
