"""Deadlines in whole days in Asia/Shanghai: the day turns at 16:00 UTC, not at midnight UTC."""

from __future__ import annotations

import datetime

import pytest

from xueji.campaigns.deadlines import Status, combine, days_left, days_text, local_day, stage

UTC = datetime.UTC
DEADLINE = datetime.date(2026, 11, 10)


def _utc(*args: int) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=UTC)


def _stage(now: datetime.datetime, *, started: bool = True, done: bool = False, finished_on=None):  # type: ignore[no-untyped-def]
    return stage(
        key="submit",
        label="学校完成提交",
        deadline=DEADLINE,
        started=started,
        done=done,
        finished_on=finished_on,
        now=now,
    )


def test_the_last_second_of_the_deadline_day_in_shanghai_is_still_on_time() -> None:
    last = _utc(2026, 11, 10, 15, 59, 59)  # 23:59:59 in Shanghai
    assert days_left(DEADLINE, last) == 0
    assert days_text(DEADLINE, last) == "今天截止"
    assert _stage(last).status == Status.IN_PROGRESS


def test_midnight_in_shanghai_is_overdue_though_utc_is_still_on_the_deadline_day() -> None:
    midnight = _utc(2026, 11, 10, 16, 0, 0)  # 00:00 on the 11th in Shanghai; still the 10th in UTC
    assert midnight.date() == DEADLINE
    assert days_left(DEADLINE, midnight) == -1
    assert days_text(DEADLINE, midnight) == "逾期 1 天"
    assert _stage(midnight).status == Status.OVERDUE
    assert _stage(midnight, started=False).status == Status.OVERDUE


def test_the_day_before_counts_one_day_until_shanghai_midnight() -> None:
    assert days_text(DEADLINE, _utc(2026, 11, 9, 15, 59)) == "还剩 1 天"
    assert days_text(DEADLINE, _utc(2026, 11, 9, 16, 0)) == "今天截止"
    assert days_text(DEADLINE, _utc(2026, 11, 7, 0, 0)) == "还剩 3 天"
    assert days_text(DEADLINE, _utc(2026, 11, 12, 16, 30)) == "逾期 3 天"


def test_not_started_before_the_deadline_then_overdue() -> None:
    assert _stage(_utc(2026, 11, 1), started=False).status == Status.NOT_STARTED
    assert _stage(_utc(2026, 11, 20), started=False).status_label == "逾期"


def test_work_finished_after_the_deadline_is_done_but_late() -> None:
    now = _utc(2026, 11, 20)
    on_time = _stage(now, done=True, finished_on=DEADLINE)
    late = _stage(now, done=True, finished_on=local_day(_utc(2026, 11, 11, 16, 0)))  # the 12th in Shanghai
    assert on_time.status == late.status == Status.DONE
    assert (on_time.late, on_time.timing_text(now)) == (False, "按时完成")
    assert (late.late, late.late_days, late.timing_text(now)) == (True, 2, "逾期 2 天完成")
    assert late.summary_text(now) == "逾期 2 天完成"
    assert _stage(now).summary_text(now) == "未完成，逾期 10 天"
    assert _stage(_utc(2026, 11, 7)).summary_text(_utc(2026, 11, 7)) == "进行中，还剩 3 天"


def test_a_district_stage_is_done_only_when_every_school_is() -> None:
    now = _utc(2026, 11, 1)
    done = _stage(now, done=True, finished_on=datetime.date(2026, 10, 30))
    waiting = _stage(now, started=False)
    both = combine(key="submit", label="学校完成提交", deadline=DEADLINE, parts=[done, waiting], now=now)
    assert both.status == Status.IN_PROGRESS
    alone = combine(key="submit", label="学校完成提交", deadline=DEADLINE, parts=[done, done], now=now)
    assert (alone.status, alone.finished_on) == (Status.DONE, datetime.date(2026, 10, 30))
    assert combine(key="submit", label="x", deadline=DEADLINE, parts=[], now=now).status == Status.NOT_STARTED


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError):
        local_day(datetime.datetime(2026, 11, 10, 12, 0))
