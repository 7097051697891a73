"""Deliveries name a visitor: exported, erased (pending ones too), dropped on withdrawn consent."""

import io
import json

import pytest
from django.core.management import call_command
from django.utils import timezone

from personalization.triggers import sending
from personalization.triggers.models import (
    Delivery,
    DeliveryAttempt,
    TriggerCooldown,
    TriggerWatch,
)
from personalization.triggers.services import Firing, firings_fire
from tests.factories import grant
from tests.factories.triggers import TriggerFactory, endpoint_for
from tests.personalization.triggers_helpers import consenting_visitor, reload_triggers, send_event
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def down_receiver():
    """An endpoint nobody listens on: deliveries stay pending with a failed attempt logged."""
    receiver = Receiver()
    endpoint, _ = endpoint_for(receiver.url)
    TriggerFactory(key="cart", event_type="add_to_cart", endpoints=[endpoint])
    TriggerFactory(
        key="abandoned", kind="event_not_followed", event_type="add_to_cart",
        followed_by_type="purchase", within_seconds=3600, endpoints=[endpoint],
    )  # fmt: skip
    reload_triggers()
    return receiver


def test_erasure_deletes_the_visitors_pending_deliveries_attempts_watches_and_cooldowns(
    down_receiver,
):
    visitor = consenting_visitor("alice-crm")
    other = consenting_visitor("bob-crm")
    send_event(visitor, "add_to_cart")
    send_event(other, "add_to_cart")
    assert Delivery.objects.filter(visitor=visitor, status="pending").exists()
    assert DeliveryAttempt.objects.filter(delivery__visitor=visitor).exists()

    call_command("erase_subject", "alice-crm", "--yes", stdout=io.StringIO())

    for model, path in (
        (Delivery, "visitor__external_id"), (TriggerWatch, "visitor__external_id"),
        (TriggerCooldown, "visitor__external_id"),
        (DeliveryAttempt, "delivery__visitor__external_id"),
    ):  # fmt: skip
        assert not model.objects.filter(**{path: "alice-crm"}).exists()
        assert model.objects.filter(**{path: "bob-crm"}).exists()
    assert not Delivery.objects.filter(body__contains="alice-crm").exists()


def test_an_export_lists_the_messages_sent_about_the_visitor(down_receiver):
    visitor = consenting_visitor("alice-crm")
    send_event(visitor, "add_to_cart")
    out = io.StringIO()

    call_command("export_subject", "alice-crm", stdout=out)

    text = out.getvalue()
    assert "personalization.Delivery" in text and "personalization.DeliveryAttempt" in text
    assert "msg_" in text and "trigger_key" in text


def test_a_pending_delivery_is_dropped_unsent_once_the_visitor_withdraws_the_purpose():
    receiver = Receiver().start()
    try:
        endpoint, _ = endpoint_for(receiver.url)
        trigger = TriggerFactory(endpoints=[endpoint])
        reload_triggers()
        visitor = consenting_visitor("carol-crm")
        [pk] = firings_fire(firings=[Firing(trigger.pk, visitor.pk, {"why": "test"})])
        grant(visitor, "marketing", granted=False)

        sending.delivery_send(delivery_id=pk, now=timezone.now())
    finally:
        receiver.stop()

    assert receiver.received == [] and not Delivery.objects.exists()


def test_a_visitor_known_only_by_cookie_never_fires_a_trigger():
    endpoint, _ = endpoint_for("http://127.0.0.1:9/hook")
    trigger = TriggerFactory(endpoints=[endpoint])
    reload_triggers()
    anonymous = consenting_visitor("x")
    anonymous.external_id = None
    anonymous.save()

    assert firings_fire(firings=[Firing(trigger.pk, anonymous.pk, {})]) == []
    assert json.dumps(list(Delivery.objects.values())) == "[]"
