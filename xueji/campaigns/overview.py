"""What one account has still to do in an open campaign, and its own next deadline: for the home page and
the campaign's page. The counts come from the students selectors and ``progress``."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.urls import reverse

from xueji.campaigns.deadlines import Stage, Status
from xueji.campaigns.models import Campaign, CampaignRead
from xueji.campaigns.progress import FILING, MATERIALS, REVIEW, SUBMIT, districts_progress, schools_progress
from xueji.campaigns.selectors import open_campaigns_for, read_audience
from xueji.orgs.models import Role, User
from xueji.orgs.selectors import districts_visible_to, schools_visible_to
from xueji.students.models import State
from xueji.students.selectors import review_queue, students_visible_to

# The stages each role answers for, in deadline order.
OWN_STAGES = {
    Role.REGISTRAR: (SUBMIT, MATERIALS),
    Role.SCHOOL_LEADER: (SUBMIT, MATERIALS),
    Role.DISTRICT_REVIEWER: (REVIEW, FILING),
    Role.CITY_ADMIN: (FILING,),
}


@dataclass(frozen=True)
class Todo:
    label: str
    count: int
    url: str


@dataclass
class Overview:
    campaign: Campaign
    read: bool
    now: datetime.datetime
    stages: list[Stage] = field(default_factory=list)  # the user's own stages
    todo: list[Todo] = field(default_factory=list)
    missing_materials: list[str] = field(default_factory=list)

    @property
    def next_stage(self) -> Stage | None:
        """The first of the user's stages not finished yet (overdue ones included); None when all are done."""
        return next((s for s in sorted(self.stages, key=lambda s: s.deadline) if s.status != Status.DONE), None)

    @property
    def next_timing(self) -> str:
        stage = self.next_stage
        return stage.timing_text(self.now) if stage else ""

    @property
    def attention(self) -> bool:
        return not self.read or any(t.count for t in self.todo) or any(s.status == Status.OVERDUE for s in self.stages)


def open_overviews(user: User, now: datetime.datetime) -> list[Overview]:
    """The overviews of the open campaigns of the user's city. The home page asks twice (its card and its
    panel) in one request: the answer is kept on the request's user object, which lives for that request."""
    cached: list[Overview] | None = getattr(user, "_campaign_overviews", None)
    if cached is None:
        campaigns = open_campaigns_for(user).prefetch_related("attachments")
        cached = [campaign_overview(user, campaign, now) for campaign in campaigns]
        user._campaign_overviews = cached  # type: ignore[attr-defined]
    return cached


def campaign_overview(user: User, campaign: Campaign, now: datetime.datetime) -> Overview:
    """What ``user`` still has to do in ``campaign``. Next deadlines never need the day a finished stage
    was finished, so the review history is not read."""
    read = CampaignRead.objects.filter(campaign=campaign, user=user).exists()
    overview = Overview(campaign=campaign, read=read, now=now)
    year = campaign.intake_year
    checklist = reverse("campaigns:checklist", kwargs={"pk": campaign.pk})
    students_url = reverse("students:list") + f"?grade={year}"
    waiting = review_queue(user).filter(grade=year).count()
    role = Role(user.role)
    if role in (Role.REGISTRAR, Role.SCHOOL_LEADER):
        rows = schools_progress(campaign, schools_visible_to(user), now, history=False)
        if not rows:
            return overview
        school = rows[0]
        overview.stages = [school.stage(k) for k in OWN_STAGES[role]]
        overview.missing_materials = school.missing_labels
        if role == Role.REGISTRAR:
            unsubmitted = students_visible_to(user).filter(grade=year, state=State.UNSUBMITTED).count()
            overview.todo.append(Todo("未提交的学籍", unsubmitted, students_url + "&state=unsubmitted"))
        else:
            overview.todo.append(Todo("待审核", waiting, reverse("students:review")))
        overview.todo.append(Todo("未交区县的材料", len(school.missing), checklist))
    elif role == Role.DISTRICT_REVIEWER:
        districts = districts_progress(
            campaign, districts_visible_to(user), schools_visible_to(user), now, history=False
        )
        if not districts:
            return overview
        district = districts[0]
        overview.stages = [district.stage(k) for k in OWN_STAGES[role]]
        overview.missing_materials = district.missing_labels
        overview.todo += [
            Todo("待审核", waiting, reverse("students:review")),
            Todo("各校未提交的学籍", sum(s.unsubmitted for s in district.schools), students_url + "&state=unsubmitted"),
            Todo("学校未交的材料", sum(len(s.missing) for s in district.schools), checklist),
            Todo("未报送市级的材料", len(district.missing), checklist),
        ]
    elif role == Role.CITY_ADMIN:
        districts = districts_progress(
            campaign, districts_visible_to(user), schools_visible_to(user), now, history=False
        )
        filing = [d.stage(FILING) for d in districts]
        if filing:
            # The city's own deadline is the end of the filing window; it is done when every district has filed.
            overview.stages = [max(filing, key=lambda s: (s.status != Status.DONE, s.status == Status.OVERDUE))]
        audience = read_audience(user)
        unread = audience.exclude(pk__in=CampaignRead.objects.filter(campaign=campaign).values("user_id")).count()
        overview.todo += [
            Todo("待审核", waiting, reverse("students:review")),
            Todo("区县未报送的材料", sum(len(d.missing) for d in districts), checklist),
            Todo("未读通知的账号", unread, reverse("campaigns:reads", kwargs={"pk": campaign.pk})),
        ]
    return overview
