"""The audit log is a hash chain: removing or altering an event is detected."""

from __future__ import annotations

from django.urls import reverse

from tests.conftest import World
from xueji.audit.models import AuditEvent
from xueji.audit.services import audit_verify_chain


def _make_events(world: World) -> None:
    client = world.client_for(world.registrar_a)
    for year in ("2023", "2024", "2025"):
        client.post(reverse("orgs:grade_list"), {"year": year}, REMOTE_ADDR="10.2.3.4")


def test_changes_are_recorded_with_actor_and_address(world: World) -> None:
    _make_events(world)
    event = AuditEvent.objects.filter(action="grade.add").order_by("id").first()
    assert event is not None
    assert (event.actor, event.after, event.source_ip) == (world.registrar_a, {"year": 2023}, "10.2.3.4")
    assert audit_verify_chain().ok and audit_verify_chain().events == 3


def test_altered_event_breaks_the_chain(world: World) -> None:
    _make_events(world)
    middle = AuditEvent.objects.order_by("id")[1]
    AuditEvent.objects.filter(pk=middle.pk).update(after={"year": 1999})
    report = audit_verify_chain()
    assert not report.ok and report.first_bad_id == middle.pk


def test_removed_event_breaks_the_chain(world: World) -> None:
    _make_events(world)
    AuditEvent.objects.order_by("id")[1].delete()
    assert not audit_verify_chain().ok
    AuditEvent.objects.order_by("-id")[0].delete()
    assert not audit_verify_chain().ok


def test_removed_last_event_is_detected(world: World) -> None:
    _make_events(world)
    AuditEvent.objects.order_by("-id")[0].delete()
    report = audit_verify_chain()
    assert not report.ok and "末尾" in report.reason
