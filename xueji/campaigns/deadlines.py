"""Deadlines and stages, in whole days in Asia/Shanghai. Plain Python: the rules are tested on their own.

A deadline is a calendar day: the stage is due by the end of that day in Asia/Shanghai (23:59:59 there,
15:59:59 UTC). "还剩 N 天" and "逾期 N 天" count whole days between today's date there and the deadline, so
16:00 UTC is already the next day for every user, whatever the server's clock zone. Work after a deadline is
allowed; a stage finished on a later day than its deadline is 已完成 and marked late (逾期完成).

Each stage is one of:

    未开始   nothing of the stage has been done yet, and the deadline has not passed
    进行中   some of it has been done, and the deadline has not passed
    已完成   all of it has been done (late when the day it was finished is after the deadline)
    逾期     not finished, and the deadline has passed

What "something done" and "all done" mean is decided per stage by the caller (``progress.py``):

    学校完成提交      done: the school has at least one student of the grade and none is 未提交;
                      started: at least one student of the grade has left 未提交.
                      finished on: the day of the last 提交 of a student of the grade.
    学校材料报送区县  done: the district has ticked every required material of the school (改名证明材料 is
                      required only when a student of the grade has an approved or pending 改名);
                      started: at least one ticked. Finished on: the latest 接收日期.
    区县完成审核      done: the school has at least one student of the grade and every one is past the
                      district (审核中（市级）or 审核通过); started: at least one is.
                      Finished on: the day of the last district approval of the grade.
    区县向市级报送    (a district) done: the city has ticked every required material of the district;
                      started: at least one. Finished on: the latest 接收日期.

A district's 学校完成提交, 学校材料报送区县 and 区县完成审核 are its active schools' stages taken together: done
when every school is done (finished on the last school's day), 未开始 when none has started.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Status(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    OVERDUE = "overdue"


STATUS_LABELS = {
    Status.NOT_STARTED: "未开始",
    Status.IN_PROGRESS: "进行中",
    Status.DONE: "已完成",
    Status.OVERDUE: "逾期",
}
# Overdue first, then what is under way, then what has not begun, finished last.
STATUS_ORDER = {Status.OVERDUE: 0, Status.IN_PROGRESS: 1, Status.NOT_STARTED: 2, Status.DONE: 3}


def local_day(moment: datetime.datetime) -> datetime.date:
    """The calendar day of an aware moment in Asia/Shanghai."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: deadlines are counted on aware moments")
    return moment.astimezone(SHANGHAI).date()


def days_left(deadline: datetime.date, now: datetime.datetime) -> int:
    """Whole days from today (in Asia/Shanghai) to the deadline: 0 on the day itself, negative once passed."""
    return (deadline - local_day(now)).days


def days_text(deadline: datetime.date, now: datetime.datetime) -> str:
    left = days_left(deadline, now)
    if left > 0:
        return f"还剩 {left} 天"
    if left == 0:
        return "今天截止"
    return f"逾期 {-left} 天"


@dataclass(frozen=True)
class Stage:
    key: str
    label: str
    deadline: datetime.date
    status: Status
    started: bool = False
    finished_on: datetime.date | None = None
    detail: str = ""  # e.g. 未提交 3 / 共 40

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def late(self) -> bool:
        """Finished after its deadline, or not finished and past it."""
        if self.status == Status.DONE:
            return self.finished_on is not None and self.finished_on > self.deadline
        return self.status == Status.OVERDUE

    @property
    def late_days(self) -> int:
        if self.status == Status.DONE and self.finished_on is not None:
            return max(0, (self.finished_on - self.deadline).days)
        return 0

    def timing_text(self, now: datetime.datetime) -> str:
        """还剩 3 天 / 今天截止 / 逾期 2 天 / 按时完成 / 逾期 2 天完成."""
        if self.status == Status.DONE:
            return f"逾期 {self.late_days} 天完成" if self.late else "按时完成"
        return days_text(self.deadline, now)

    def summary_text(self, now: datetime.datetime) -> str:
        """One cell for reports: 按时完成 / 逾期 2 天完成 / 未完成，逾期 2 天 / 进行中，还剩 3 天."""
        if self.status == Status.DONE:
            return self.timing_text(now)
        if self.status == Status.OVERDUE:
            return f"未完成，{days_text(self.deadline, now)}"
        return f"{self.status_label}，{days_text(self.deadline, now)}"


def stage_status(*, started: bool, done: bool, deadline: datetime.date, now: datetime.datetime) -> Status:
    if done:
        return Status.DONE
    if days_left(deadline, now) < 0:
        return Status.OVERDUE
    return Status.IN_PROGRESS if started else Status.NOT_STARTED


def stage(
    *,
    key: str,
    label: str,
    deadline: datetime.date,
    started: bool,
    done: bool,
    finished_on: datetime.date | None,
    now: datetime.datetime,
    detail: str = "",
) -> Stage:
    status = stage_status(started=started, done=done, deadline=deadline, now=now)
    return Stage(key, label, deadline, status, started or done, finished_on if status == Status.DONE else None, detail)


def combine(
    *, key: str, label: str, deadline: datetime.date, parts: Sequence[Stage], now: datetime.datetime, detail: str = ""
) -> Stage:
    """A district's stage from its schools' stages (see the module's rules). No school: not started."""
    done = bool(parts) and all(p.status == Status.DONE for p in parts)
    started = any(p.started for p in parts)
    finished = max((p.finished_on for p in parts if p.finished_on), default=None) if done else None
    return stage(
        key=key,
        label=label,
        deadline=deadline,
        started=started,
        done=done,
        finished_on=finished,
        now=now,
        detail=detail,
    )
