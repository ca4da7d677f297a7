"""Students for the 学籍管理 tests: admitted through the form's service and checked in, as a registrar would."""

from __future__ import annotations

from tests.admissions.helpers import person_id, school_a_row
from tests.conftest import World
from xueji.admissions.models import AdmissionRecord
from xueji.admissions.services import admission_save
from xueji.students.models import Student
from xueji.students.services import checkin


def checked_in_students(world: World, count: int, first: int = 1) -> list[Student]:
    """``count`` complete, valid 未提交 students at school A (2026级, 计算机应用 · 网络应用, 2026级1班)."""
    serials = range(first, first + count)
    for serial in serials:
        result = admission_save(actor=world.registrar_a, school=world.school_a, raw=school_a_row(serial))
        assert result.ok, result.errors
    records = AdmissionRecord.objects.filter(id_number__in=[person_id(n) for n in serials])
    assert checkin(actor=world.registrar_a, records=records) == count
    return list(Student.objects.filter(id_number__in=[person_id(n) for n in serials]).order_by("pk"))
