"""Run as ``python -m tests.admissions.worker_setup FILE`` against a database of its own (the worker test):
sets up school A as the ``world`` fixture has it and queues an import of FILE. Prints the job's id."""

from __future__ import annotations

import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xueji.settings")

import django

django.setup()

from django.db import transaction  # noqa: E402

from xueji.admissions.imports import import_job_create  # noqa: E402
from xueji.orgs.models import Direction, Grade, MajorOffering, Region, Role, School, SchoolClass, User  # noqa: E402
from xueji.reference.models import CatalogMajor  # noqa: E402


def main(path: str) -> None:
    city = Region.objects.create(code="110000", name="北京市", kind=Region.Kind.CITY)
    district = Region.objects.create(code="110101", name="东城区", kind=Region.Kind.DISTRICT, parent=city)
    school = School.objects.create(code="3111010001", name="东城职业教育中心", district=district)
    offering = MajorOffering.objects.create(school=school, major=CatalogMajor.objects.get(code="710201"))
    Direction.objects.create(offering=offering, name="网络应用")
    grade = Grade.objects.create(school=school, year=2026)
    SchoolClass.objects.create(school=school, grade=grade, offering=offering, name="2026级1班")
    registrar = User.objects.create(username="registrar_a", role=Role.REGISTRAR, school=school)
    with transaction.atomic(), open(path, "rb") as stream:
        job = import_job_create(actor=registrar, school=school, stream=stream, file_name=os.path.basename(path))
    print(job.pk)


if __name__ == "__main__":
    main(sys.argv[1])
