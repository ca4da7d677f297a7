"""Benchmark: the 年度学籍备案 campaign of one city at its full size.

    .venv/bin/python bench/campaign.py [--schools 100] [--students 30000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/campaign.py

Builds a city of 10 districts and 100 schools with 30,000 students of the intake (DESIGN.md: one city's year),
90% 审核通过 and the rest spread over the other states, with their 提交 and district approvals in the review
history (set up, not timed). Then times: the city's progress (every district and school, 4 stages each), the
city's and a district's home page (the campaign card and panel), the city's progress xlsx, and the close
(the filed record frozen by INSERT … SELECT, the summary computed). SQLite always; PostgreSQL when
DATABASE_URL is set (a fresh database beside the one named, dropped afterwards).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def child(database_url: str, data_dir: str, schools: int, count: int) -> None:
    import bench_db  # type: ignore[import-not-found]

    bench_db.django_setup(database_url, data_dir)
    import datetime

    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from xueji.admissions.models import AdmissionRecord
    from xueji.campaigns.closing import campaign_close
    from xueji.campaigns.models import FiledStudent
    from xueji.campaigns.services import CampaignInput, campaign_open
    from xueji.orgs.models import MajorOffering, Region, Role, School, User
    from xueji.reference.models import CatalogMajor
    from xueji.students.models import ReviewAction, State, Student

    city = Region.objects.create(code="110000", name="北京市", kind=Region.Kind.CITY)
    districts = [
        Region.objects.create(code=f"1101{n:02d}", name=f"第{n}区", kind=Region.Kind.DISTRICT, parent=city)
        for n in range(1, 11)
    ]
    major = CatalogMajor.objects.get(code="710201")
    school_list = [
        School.objects.create(code=f"31110{n:05d}", name=f"第{n}职业学校", district=districts[n % 10])
        for n in range(schools)
    ]
    offerings = {s.pk: MajorOffering.objects.create(school=s, major=major) for s in school_list}
    users = {
        "city": User.objects.create(username="city", role=Role.CITY_ADMIN, region=city, must_change_password=False),
        "district": User.objects.create(
            username="district", role=Role.DISTRICT_REVIEWER, region=districts[0], must_change_password=False
        ),
    }
    data = {"name": "", "ethnicity": "01", "nationality": "CHN", "phone": "13800138000"}
    states = [State.APPROVED] * 18 + [State.UNSUBMITTED, State.REVIEW_CITY]
    submitted_at = timezone.now() - datetime.timedelta(days=5)
    for start in range(0, count, 5000):
        numbers = range(start, min(count, start + 5000))
        records = AdmissionRecord.objects.bulk_create(
            [
                AdmissionRecord(school=school_list[n % schools], grade=2026, name=f"学生{n}", id_type="1",
                                id_number=f"110101201001{n % 28 + 1:02d}{n:05d}", admission_method="1",
                                offering=offerings[school_list[n % schools].pk],
                                state=AdmissionRecord.State.CHECKED_IN, data=data)
                for n in numbers
            ]
        )  # fmt: skip
        students = Student.objects.bulk_create(
            [
                Student(school_id=r.school_id, admission=r, grade=2026, name=r.name, id_type="1",
                        id_number=r.id_number, offering_id=r.offering_id, admission_method="1", data=data,
                        state=states[n % len(states)],
                        student_no=f"G{r.id_number}" if states[n % len(states)] == State.APPROVED else None)
                for n, r in zip(numbers, records, strict=True)
            ]
        )  # fmt: skip
        ReviewAction.objects.bulk_create(
            [
                ReviewAction(student=s, action="submit", from_state="unsubmitted", to_state="review_school",
                             at=submitted_at)
                for s in students
                if s.state != State.UNSUBMITTED
            ]
            + [
                ReviewAction(student=s, action="approve", from_state="review_district", to_state="review_city",
                             at=submitted_at)
                for s in students
                if s.state in (State.APPROVED, State.REVIEW_CITY)
            ]
        )  # fmt: skip
    today = timezone.localdate()
    campaign = campaign_open(
        actor=users["city"],
        data=CampaignInput(
            title="2026年度新生学籍备案",
            intake_year=2026,
            notice="通知",
            contacts=[{"name": "张老师", "phone": "010-66001234", "note": ""}],
            school_submit_by=today - datetime.timedelta(days=3),
            school_materials_by=today + datetime.timedelta(days=3),
            district_review_by=today + datetime.timedelta(days=5),
            district_filing_from=today + datetime.timedelta(days=6),
            district_filing_until=today + datetime.timedelta(days=8),
        ),
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    timings: dict[str, float] = {}

    def median_of_5(label: str, user: User, path: str, params: dict[str, str] | None = None) -> None:
        client = Client()
        client.force_login(user)
        samples = []
        for _ in range(5):
            started = time.perf_counter()
            response = client.get(path, params or {}, HTTP_HOST="127.0.0.1")
            samples.append(time.perf_counter() - started)
            assert response.status_code == 200, (path, response.status_code)
        timings[label] = statistics.median(samples)

    median_of_5(
        f"city progress page, {schools} schools (median of 5)", users["city"], f"/campaigns/{campaign.pk}/progress/"
    )
    median_of_5(
        "city progress xlsx (median of 5)", users["city"], f"/campaigns/{campaign.pk}/progress/", {"format": "xlsx"}
    )
    median_of_5("city home page (median of 5)", users["city"], "/")
    median_of_5("district home page (median of 5)", users["district"], "/")
    started = time.perf_counter()
    campaign_close(actor=users["city"], campaign_id=campaign.pk)
    timings["close: freeze the filed record and the summary"] = time.perf_counter() - started
    filed = FiledStudent.objects.filter(campaign=campaign).count()
    assert filed == Student.objects.filter(state=State.APPROVED).count(), filed
    timings[f"(filed students: {filed:,})"] = 0.0
    print(json.dumps(timings))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--schools", type=int, default=100)
    parser.add_argument("--students", type=int, default=30_000)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.schools, args.students)
        return
    import bench_db  # type: ignore[import-not-found]

    for label, timings, _stderr in bench_db.run_children(
        __file__, ["--schools", str(args.schools), "--students", str(args.students)]
    ):
        for name, seconds in timings.items():
            figure = (
                "" if name.startswith("(") else (f"{seconds * 1000:8.0f} ms" if seconds < 1 else f"{seconds:8.2f} s ")
            )
            print(f"{label:10} {name:50} {figure}")


if __name__ == "__main__":
    main()
