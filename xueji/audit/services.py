"""Writing and verifying the audit log."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.http import HttpRequest

from xueji.audit.models import AuditChainHead, AuditEvent

GENESIS = "0" * 64


def _digest(previous_hash: str, event: AuditEvent) -> str:
    payload = json.dumps(
        [
            previous_hash,
            event.at.isoformat(),
            event.actor_id,
            event.actor_name,
            event.action,
            event.object_type,
            event.object_id,
            event.object_repr,
            event.before,
            event.after,
            event.source_ip,
        ],
        ensure_ascii=False,
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def client_address(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def audit_record(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> AuditEvent:
    """Append one event to the chain. Call it inside the transaction of the change it records."""
    from django.utils import timezone

    with transaction.atomic():
        # The head row lock serialises appends: without it two writers could chain to the same
        # predecessor and the chain would fork.
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1, defaults={"last_hash": GENESIS})
        event = AuditEvent(
            at=timezone.now(),
            actor=actor if getattr(actor, "pk", None) else None,
            actor_name=getattr(actor, "username", "") or "system",
            action=action,
            object_type=obj._meta.label if obj is not None else "",
            object_id=str(obj.pk) if obj is not None else "",
            object_repr=str(obj)[:200] if obj is not None else "",
            before=before,
            after=after,
            source_ip=client_address(request),
            previous_hash=head.last_hash,
        )
        event.hash = _digest(head.last_hash, event)
        event.save(force_insert=True)
        head.last_hash = event.hash
        head.save(update_fields=["last_hash"])
    return event


@dataclass(frozen=True)
class ChainReport:
    events: int
    ok: bool
    first_bad_id: int | None = None
    reason: str = ""


def audit_verify_chain() -> ChainReport:
    """Walk the chain from the first event; any altered, removed or inserted event breaks it."""
    previous = GENESIS
    count = 0
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        count += 1
        if event.previous_hash != previous:
            return ChainReport(count, False, event.pk, "前一事件缺失或被改动")
        if _digest(previous, event) != event.hash:
            return ChainReport(count, False, event.pk, "事件内容被改动")
        previous = event.hash
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and head.last_hash != previous:
        return ChainReport(count, False, None, "末尾事件被删除")
    return ChainReport(count, True)
