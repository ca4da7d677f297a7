"""Everything that changes a campaign. Each service is one transaction with its audit event; views only call
these, after resolving every object through the scope selectors."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, BinaryIO

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from xueji.audit.services import audit_record
from xueji.campaigns import files
from xueji.campaigns.deadlines import local_day
from xueji.campaigns.models import Campaign, CampaignAttachment, CampaignRead, Material, MaterialReceipt
from xueji.orgs.models import Region, Role, School, User

DEADLINE_FIELDS = (
    "school_submit_by",
    "school_materials_by",
    "district_review_by",
    "district_filing_from",
    "district_filing_until",
)


@dataclass(frozen=True)
class CampaignInput:
    title: str
    intake_year: int
    notice: str
    contacts: list[dict[str, str]]
    school_submit_by: datetime.date
    school_materials_by: datetime.date
    district_review_by: datetime.date
    district_filing_from: datetime.date
    district_filing_until: datetime.date


def deadline_errors(days: Mapping[str, datetime.date | None]) -> dict[str, str]:
    """The order the stages must keep: the filing window runs forwards, and what feeds it ends by its end."""
    errors: dict[str, str] = {}
    start, until = days.get("district_filing_from"), days.get("district_filing_until")
    if start and until and until < start:
        errors["district_filing_until"] = f"报送截止（{until:%Y-%m-%d}）早于报送开始（{start:%Y-%m-%d}）"
    if until and (materials := days.get("school_materials_by")) and materials > until:
        errors["school_materials_by"] = "学校材料报送区县的截止日期不能晚于区县向市级报送的截止日期"
    if until and (review := days.get("district_review_by")) and review > until:
        errors["district_review_by"] = "区县完成审核的截止日期不能晚于区县向市级报送的截止日期"
    return errors


def _check(data: CampaignInput) -> None:
    errors = deadline_errors(asdict(data))
    if not " ".join(data.title.split()):
        errors["title"] = "请填写标题"
    if not data.notice.strip():
        errors["notice"] = "请填写通知正文"
    if not 2000 <= data.intake_year <= 2100:
        errors["intake_year"] = f"年级应为四位年份，当前为“{data.intake_year}”"
    if errors:
        raise ValidationError(errors)


def _snapshot(campaign: Campaign) -> dict[str, Any]:
    values = {name: getattr(campaign, name) for name in ("title", "intake_year", "notice", "contacts")}
    values.update({name: getattr(campaign, name).isoformat() for name in DEADLINE_FIELDS})
    return values


def _open_clash(city: Region, intake_year: int, exclude: int | None) -> ValidationError | None:
    clash = Campaign.objects.filter(city=city, intake_year=intake_year, status=Campaign.Status.OPEN)
    first = (clash.exclude(pk=exclude) if exclude is not None else clash).first()
    if first is None:
        return None
    return ValidationError({"intake_year": f"{intake_year}级已有进行中的备案工作“{first.title}”，请先结束它再发布新的"})


def campaign_open(*, actor: User, data: CampaignInput, request: HttpRequest | None = None) -> Campaign:
    """The city publishes a campaign for an intake grade; one open campaign per grade."""
    if actor.role != Role.CITY_ADMIN or actor.region is None:
        raise PermissionDenied
    _check(data)
    if (clash := _open_clash(actor.region, data.intake_year, None)) is not None:
        raise clash
    fields = asdict(data)
    fields["title"] = " ".join(data.title.split())
    try:
        with transaction.atomic():
            campaign = Campaign.objects.create(city=actor.region, opened_by=actor, **fields)
            audit_record(actor=actor, action="campaign.open", obj=campaign, after=_snapshot(campaign), request=request)
    except IntegrityError:
        # Two administrators publishing the same grade at once: the constraint lets exactly one through.
        raise _open_clash(actor.region, data.intake_year, None) or ValidationError("保存失败，请重试") from None
    return campaign


def _locked_open(actor: User, campaign_id: int) -> Campaign:
    if actor.role != Role.CITY_ADMIN:
        raise PermissionDenied
    campaign = Campaign.objects.select_for_update().get(pk=campaign_id, city_id=actor.region_id)
    if not campaign.is_open:
        raise ValidationError("该备案工作已结束，不能再修改")
    return campaign


def campaign_edit(
    *, actor: User, campaign_id: int, data: CampaignInput, request: HttpRequest | None = None
) -> Campaign:
    _check(data)
    try:
        with transaction.atomic():
            campaign = _locked_open(actor, campaign_id)
            if (clash := _open_clash(campaign.city, data.intake_year, campaign.pk)) is not None:
                raise clash
            before = _snapshot(campaign)
            for name, value in asdict(data).items():
                setattr(campaign, name, value)
            campaign.title = " ".join(data.title.split())
            campaign.updated_at = timezone.now()
            campaign.save()
            audit_record(
                actor=actor,
                action="campaign.edit",
                obj=campaign,
                before=before,
                after=_snapshot(campaign),
                request=request,
            )
    except IntegrityError:
        raise ValidationError({"intake_year": f"{data.intake_year}级已有进行中的备案工作"}) from None
    return campaign


def attachments_add(
    *, actor: User, campaign_id: int, uploads: Sequence[tuple[BinaryIO, str]], request: HttpRequest | None = None
) -> list[CampaignAttachment]:
    """Add files to the notice. Every file is checked before any is kept: one bad file adds none."""
    if not uploads:
        raise ValidationError("请选择要上传的附件")
    stored: list[tuple[str, str, str, int, str]] = []
    try:
        for stream, original in uploads:
            stored.append((original[:255], *files.store_attachment(stream, original)))
        with transaction.atomic():
            campaign = _locked_open(actor, campaign_id)
            if campaign.attachments.count() + len(stored) > files.MAX_ATTACHMENTS:
                raise ValidationError(f"每项备案工作最多{files.MAX_ATTACHMENTS}个附件")
            added = CampaignAttachment.objects.bulk_create(
                CampaignAttachment(
                    campaign=campaign,
                    original_name=o,
                    stored_name=s,
                    content_type=t,
                    size=n,
                    sha256=h,
                    uploaded_by=actor,
                )
                for o, s, t, n, h in stored
            )
            audit_record(
                actor=actor,
                action="campaign.attachment_add",
                obj=campaign,
                after={"files": [o for o, *_ in stored]},
                request=request,
            )
    except BaseException:
        for _original, name, *_rest in stored:
            files.remove_stored(name)
        raise
    return added


def attachment_remove(
    *, actor: User, campaign_id: int, attachment_id: int, request: HttpRequest | None = None
) -> CampaignAttachment:
    with transaction.atomic():
        campaign = _locked_open(actor, campaign_id)
        attachment = campaign.attachments.get(pk=attachment_id)
        attachment.delete()
        audit_record(
            actor=actor,
            action="campaign.attachment_remove",
            obj=campaign,
            before={"file": attachment.original_name, "sha256": attachment.sha256},
            request=request,
        )
    # The file goes only once the row is gone for good.
    transaction.on_commit(lambda: files.remove_stored(attachment.stored_name))
    return attachment


def campaign_mark_read(*, actor: User, campaign: Campaign, request: HttpRequest | None = None) -> bool:
    """标记已读 (the caller found the campaign through the user's scope). True the first time."""
    with transaction.atomic():
        _read, created = CampaignRead.objects.get_or_create(campaign=campaign, user=actor)
        if created:
            audit_record(actor=actor, action="campaign.read", obj=campaign, request=request)
    return created


def _check_keeper(actor: User, school: School | None, district: Region | None) -> None:
    # The views already found the school or district through the keeper's scope; this refuses any other
    # caller that did not: a district keeps its own schools' checklists, the city its own districts'.
    if school is not None and not (actor.role == Role.DISTRICT_REVIEWER and school.district_id == actor.region_id):
        raise PermissionDenied
    if district is not None and not (actor.role == Role.CITY_ADMIN and district.parent_id == actor.region_id):
        raise PermissionDenied
    if (school is None) == (district is None):
        raise ValueError("a receipt is a school's or a district's")


def material_receive(
    *,
    actor: User,
    campaign: Campaign,
    kind: str,
    received_on: datetime.date | None,
    note: str = "",
    school: School | None = None,
    district: Region | None = None,
    now: datetime.datetime | None = None,
    request: HttpRequest | None = None,
) -> MaterialReceipt:
    """Tick one material as received (again: the date and note are replaced). After the deadline it is still
    accepted; progress marks it late."""
    _check_keeper(actor, school, district)
    today = local_day(now or timezone.now())
    errors: dict[str, str] = {}
    if kind not in Material.values:
        errors["kind"] = "请选择材料"
    if received_on is None:
        errors["received_on"] = "请填写接收日期"
    elif received_on > today:
        errors["received_on"] = f"接收日期（{received_on:%Y-%m-%d}）不能晚于今天（{today:%Y-%m-%d}）"
    note = " ".join(note.split())
    if len(note) > 200:
        errors["note"] = "备注不能超过200个字符"
    if errors:
        raise ValidationError(errors)
    assert received_on is not None
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if not locked.is_open:
            raise ValidationError("该备案工作已结束，材料清单不能再修改")
        receipt, created = MaterialReceipt.objects.update_or_create(
            campaign=locked,
            school=school,
            district=district,
            kind=kind,
            defaults={"received_on": received_on, "note": note, "received_by": actor, "recorded_at": timezone.now()},
        )
        audit_record(
            actor=actor,
            action="campaign.material_receive",
            obj=locked,
            after={
                "school": school.code if school else None,
                "district": district.code if district else None,
                "kind": kind,
                "received_on": received_on.isoformat(),
                "note": note,
                "again": not created,
            },
            request=request,
        )
    return receipt


def material_clear(
    *,
    actor: User,
    campaign: Campaign,
    kind: str,
    school: School | None = None,
    district: Region | None = None,
    request: HttpRequest | None = None,
) -> bool:
    """Undo a tick made by mistake. False when nothing was ticked."""
    _check_keeper(actor, school, district)
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if not locked.is_open:
            raise ValidationError("该备案工作已结束，材料清单不能再修改")
        receipt = MaterialReceipt.objects.filter(campaign=locked, school=school, district=district, kind=kind).first()
        if receipt is None:
            return False
        receipt.delete()
        audit_record(
            actor=actor,
            action="campaign.material_clear",
            obj=locked,
            before={
                "school": school.code if school else None,
                "district": district.code if district else None,
                "kind": kind,
                "received_on": receipt.received_on.isoformat(),
                "note": receipt.note,
            },
            request=request,
        )
    return True
