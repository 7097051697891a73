"""An abandoned cart end to end on a real Celery worker and Redis, to a real receiver."""

from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from personalization.triggers.models import Trigger, TriggerWatch
from personalization.triggers.tasks import triggers_watches_due
from personalization.visitors.events import events_ingest
from tests.factories import ContentItemFactory, PurposeFactory, SlotFactory
from tests.factories.triggers import TriggerFactory, endpoint_for
from tests.personalization.triggers_helpers import consenting_visitor, payloads, reload_triggers
from tests.webhook_receiver import Receiver
from tests.worker_processes import wait_for


@pytest.fixture
def receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_cart_left_without_a_purchase_sends_the_visitors_win_back_block(
    tasks_on_worker, receiver
):
    for key in ("analytics", "personalization", "marketing"):  # a flush may have removed them
        PurposeFactory(key=key)
    offer = ContentItemFactory(title="We miss you: 15 % off your cart")
    slot = SlotFactory(key="win-back", default_items=[offer])
    endpoint, secret = endpoint_for(receiver.url)
    TriggerFactory(
        key="abandoned-cart", kind=Trigger.Kind.EVENT_NOT_FOLLOWED, event_type="add_to_cart",
        followed_by_type="purchase", within_seconds=3600, endpoints=[endpoint], slots=[slot],
    )  # fmt: skip
    reload_triggers()
    shopper = consenting_visitor("shopper-1")

    cart = {"visitor_id": "shopper-1", "type": "add_to_cart", "event_id": "cart-1",
            "occurred_at": timezone.now() - timedelta(minutes=90)}  # fmt: skip
    assert events_ingest(events=[cart], visitor=None, source="import").accepted == 1
    assert wait_for(lambda: TriggerWatch.objects.filter(visitor=shopper).exists())
    assert triggers_watches_due.delay().get(timeout=60) == {"checked": 1, "deliveries": 1}
    assert wait_for(lambda: receiver.received)

    [request] = receiver.received
    payload = Webhook(secret).verify(request.body, request.headers)
    assert payload == payloads(receiver)[0]
    block = payload["data"]["blocks"]["win-back"]
    assert "We miss you: 15 % off your cart" in block["html"]
    assert block["items"] == [offer.external_id] and "/t/" in block["html"]
    assert payload["data"]["visitor"] == {"external_id": "shopper-1"}
    assert payload["data"]["facts"]["not_followed_by"] == "purchase"
