"""Deliveries: Standard Webhooks signatures, retries until the receiver is back, 410 and 4xx."""

from datetime import timedelta

import pytest
from django.test import TestCase
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from personalization.triggers import sending
from personalization.triggers.models import Delivery, WebhookEndpoint
from personalization.triggers.services import delivery_test_create
from personalization.triggers.tasks import webhook_deliver, webhook_deliveries_due
from tests.factories.triggers import TriggerFactory, endpoint_for
from tests.personalization.triggers_helpers import consenting_visitor, reload_triggers, send_event
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.stop()


def cart_trigger(url: str) -> str:
    """An add-to-cart trigger sending to `url`; the endpoint's secret."""
    endpoint, secret = endpoint_for(url)
    TriggerFactory(event_type="add_to_cart", endpoints=[endpoint])
    reload_triggers()
    return secret


def test_every_request_verifies_with_the_standard_webhooks_reference_library(receiver):
    secret = cart_trigger(receiver.start().url)

    send_event(consenting_visitor("crm-1"), "add_to_cart")

    [request] = receiver.received
    payload = Webhook(secret).verify(request.body, request.headers)
    assert payload["data"]["visitor"]["external_id"] == "crm-1"
    assert request.webhook_id.startswith("msg_")


def test_a_changed_body_or_another_secret_does_not_verify(receiver):
    secret = cart_trigger(receiver.start().url)
    send_event(consenting_visitor("crm-2"), "add_to_cart")
    [request] = receiver.received

    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(request.body.replace(b"crm-2", b"crm-3"), request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 44).verify(request.body, request.headers)


def sweep(now) -> None:
    """What the periodic sweep does at `now`: queue and send every delivery due then."""
    for pk in Delivery.objects.filter(
        status=Delivery.Status.PENDING, next_attempt_at__lte=now
    ).values_list("pk", flat=True):
        sending.delivery_send(delivery_id=pk, now=now)


def test_a_receiver_down_for_a_while_gets_every_delivery_exactly_once_after_retries(receiver):
    cart_trigger(receiver.url)  # not started: connections are refused
    for n in range(6):
        send_event(consenting_visitor(f"crm-{n}"), "add_to_cart")
    made = set(Delivery.objects.values_list("webhook_id", flat=True))
    # Five refused connections open the circuit: the sixth waits without a try.
    assert list(Delivery.objects.order_by("created_at").values_list("status", "attempts")) == [
        ("pending", 1)
    ] * 5 + [("pending", 0)]

    now = timezone.now()
    for _ in range(3):  # still down: retries back off, the circuit opens
        now += timedelta(minutes=10)
        sweep(now)
    receiver.start()
    for _ in range(12):
        now += timedelta(minutes=30)
        sweep(now)

    assert sorted(receiver.accepted_ids()) == sorted(made)
    assert set(Delivery.objects.values_list("status", flat=True)) == {"succeeded"}
    assert WebhookEndpoint.objects.get().failure_streak == 0


def test_a_410_stops_the_retries_and_disables_the_endpoint(receiver):
    receiver.answer = lambda n: 410
    cart_trigger(receiver.start().url)

    send_event(consenting_visitor("crm-1"), "add_to_cart")
    sweep(timezone.now() + timedelta(hours=2))

    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, len(receiver.received)) == ("failed", 1, 1)
    assert not WebhookEndpoint.objects.get().is_active


@pytest.mark.parametrize(
    ("status", "retried"), [(400, False), (404, False), (429, True), (503, True)]
)
def test_client_errors_are_not_retried_but_429_and_5xx_are(receiver, status, retried):
    receiver.answer = lambda n: status if n == 0 else 200
    cart_trigger(receiver.start().url)

    send_event(consenting_visitor("crm-1"), "add_to_cart")
    sweep(timezone.now() + timedelta(hours=2))

    expected = "succeeded" if retried else "failed"
    assert (Delivery.objects.get().status, len(receiver.received)) == (expected, 1 + retried)


def test_a_delivery_is_failed_once_a_day_of_retries_is_over(receiver):
    receiver.answer = lambda n: 500
    cart_trigger(receiver.start().url)
    send_event(consenting_visitor("crm-1"), "add_to_cart")

    now = timezone.now()
    for _ in range(40):
        now += timedelta(hours=1)
        sweep(now)

    delivery = Delivery.objects.get()
    assert delivery.status == "failed" and delivery.last_error.startswith("gave up after")
    assert delivery.give_up_at <= now


def test_retries_back_off_exponentially_with_jitter():
    waits = [sending.backoff_seconds(attempt) for attempt in range(1, 8)]

    assert all(5 * 2 ** (n - 1) / 2 <= w <= 5 * 2 ** (n - 1) for n, w in enumerate(waits, 1))
    assert sending.backoff_seconds(30) <= 3600
    assert sending.backoff_seconds(1, retry_after=120) == 120


def test_the_same_delivery_queued_twice_is_sent_once(receiver):
    endpoint, _ = endpoint_for(receiver.start().url)
    delivery = delivery_test_create(endpoint=endpoint)

    webhook_deliver.delay(delivery_id=delivery.pk)
    webhook_deliver.delay(delivery_id=delivery.pk)
    with TestCase.captureOnCommitCallbacks(execute=True):
        webhook_deliveries_due.delay()

    assert receiver.accepted_ids() == [delivery.webhook_id]


def test_the_endpoint_rate_limit_holds_back_what_is_over_it(receiver):
    endpoint, _ = endpoint_for(receiver.start().url, rate_per_second=2)
    deliveries = [delivery_test_create(endpoint=endpoint) for _ in range(4)]
    now = (timezone.now() + timedelta(seconds=1)).replace(microsecond=0)  # one second's window

    for delivery in deliveries:
        sending.delivery_send(delivery_id=delivery.pk, now=now)

    assert len(receiver.received) == 2
    assert Delivery.objects.filter(status="pending", attempts=0).count() == 2
