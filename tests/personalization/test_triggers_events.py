"""Event triggers fire from the ingest path, once per cooldown, only with consent."""

from datetime import timedelta

import pytest
from django.utils import timezone

from personalization.triggers.models import Delivery, TriggerCooldown
from tests.factories.triggers import TriggerFactory, endpoint_for
from tests.personalization.triggers_helpers import (
    consenting_visitor,
    payloads,
    reload_triggers,
    send_event,
)
from tests.webhook_receiver import Receiver


@pytest.fixture
def receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def cart_trigger(db, receiver):
    endpoint, _ = endpoint_for(receiver.url)
    trigger = TriggerFactory(
        key="big-cart", event_type="add_to_cart", condition={"value": {"$gte": 50}},
        endpoints=[endpoint], cooldown_seconds=3600,
    )  # fmt: skip
    reload_triggers()
    return trigger


def test_an_event_matching_the_condition_sends_the_visitor_external_id_and_the_event(
    cart_trigger, receiver
):
    visitor = consenting_visitor("crm-7")

    send_event(visitor, "add_to_cart", value=80, event_id="cart-1", properties={"sku": "A1"})

    [payload] = payloads(receiver)
    assert payload["type"] == "trigger.fired"
    assert payload["data"]["visitor"] == {"external_id": "crm-7"}
    assert payload["data"]["trigger"]["key"] == "big-cart"
    assert payload["data"]["facts"]["event"]["properties"] == {"sku": "A1"}
    assert str(visitor.uid) not in receiver.received[0].body.decode()


def test_an_event_not_matching_the_condition_sends_nothing(cart_trigger, receiver):
    send_event(consenting_visitor("crm-8"), "add_to_cart", value=10)

    assert receiver.received == []


def test_an_event_trigger_fires_once_per_cooldown_and_again_after_it(cart_trigger, receiver):
    visitor = consenting_visitor("crm-9")
    send_event(visitor, "add_to_cart", value=60, event_id="a")
    send_event(visitor, "add_to_cart", value=70, event_id="b")
    assert len(receiver.received) == 1

    TriggerCooldown.objects.update(cooldown_until=timezone.now() - timedelta(seconds=1))
    send_event(visitor, "add_to_cart", value=90, event_id="c")

    assert [p["data"]["facts"]["event"]["event_id"] for p in payloads(receiver)] == ["a", "c"]


def test_a_visitor_without_marketing_consent_never_fires_a_marketing_trigger(
    cart_trigger, receiver
):
    visitor = consenting_visitor("crm-10", "analytics", "personalization")

    send_event(visitor, "add_to_cart", value=99)

    assert receiver.received == [] and not Delivery.objects.exists()


def test_a_trigger_outside_its_active_window_does_not_fire(cart_trigger, receiver):
    cart_trigger.active_until = timezone.now() - timedelta(minutes=1)
    cart_trigger.save()
    reload_triggers()

    send_event(consenting_visitor("crm-11"), "add_to_cart", value=99)

    assert receiver.received == []


def test_an_endpoint_set_not_to_receive_facts_gets_none(cart_trigger, receiver):
    cart_trigger.endpoints.update(include_facts=False)
    reload_triggers()

    send_event(consenting_visitor("crm-12"), "add_to_cart", value=99)

    assert "facts" not in payloads(receiver)[0]["data"]
