"""The admin's trigger form, "Send a test message", "Resend" and the delivery log."""

import pytest
from django.contrib.auth.models import Group
from standardwebhooks.webhooks import Webhook

from personalization.triggers import sending
from personalization.triggers.models import Delivery, Trigger
from personalization.triggers.services import delivery_test_create
from tests.factories import UserFactory
from tests.factories.triggers import endpoint_for
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def root(client):
    client.force_login(UserFactory(username="root", superuser=True))
    return client


def test_send_a_test_message_delivers_a_signed_test_payload(root, receiver):
    endpoint, secret = endpoint_for(receiver.url)

    root.post(
        "/admin/personalization/webhookendpoint/",
        {"action": "send_test", "_selected_action": [endpoint.pk]},
    )

    [request] = receiver.received
    assert Webhook(secret).verify(request.body, request.headers)["type"] == "webhook.test"
    assert Delivery.objects.get().status == Delivery.Status.SUCCEEDED


def test_resend_sends_a_finished_delivery_again_with_the_same_id(root, receiver):
    endpoint, _ = endpoint_for(receiver.url)
    delivery = delivery_test_create(endpoint=endpoint)
    sending.delivery_send(delivery_id=delivery.pk)

    root.post(
        "/admin/personalization/delivery/",
        {"action": "resend", "_selected_action": [delivery.pk]},
    )

    assert receiver.accepted_ids() == [delivery.webhook_id, delivery.webhook_id]


def test_the_delivery_page_lists_each_attempt_with_its_status_and_answer(root, receiver):
    receiver.answer = lambda n: 503 if n == 0 else 200
    endpoint, _ = endpoint_for(receiver.url)
    delivery = delivery_test_create(endpoint=endpoint)
    sending.delivery_send(delivery_id=delivery.pk)
    Delivery.objects.update(next_attempt_at=delivery.created_at)
    sending.delivery_send(delivery_id=delivery.pk)

    page = root.get(f"/admin/personalization/delivery/{delivery.pk}/change/").content.decode()

    assert "503" in page and "200" in page and "Succeeded" in page


def test_an_editor_cannot_resend_deliveries(client, receiver):
    endpoint, _ = endpoint_for(receiver.url)
    delivery = delivery_test_create(endpoint=endpoint)
    sending.delivery_send(delivery_id=delivery.pk)
    editor = UserFactory(username="editor", staff=True)
    editor.groups.add(Group.objects.get(name="Editor"))
    client.force_login(editor)

    client.post(
        "/admin/personalization/delivery/",
        {"action": "resend", "_selected_action": [delivery.pk]},
    )

    assert len(receiver.received) == 1


def test_an_editor_adds_a_trigger_and_a_bad_condition_is_refused_with_where_and_why(client):
    editor = UserFactory(username="editor", staff=True)
    editor.groups.add(Group.objects.get(name="Editor"))
    client.force_login(editor)
    form = {
        "key": "big-cart", "name": "Big cart", "kind": "event", "is_active": "on",
        "purpose": "marketing", "cooldown_seconds": "3600", "event_type": "add_to_cart",
        "condition": '{"value": {"$gte": "a", "$bogus": 1}}', "direction": "up",
    }  # fmt: skip

    refused = client.post("/admin/personalization/trigger/add/", form)
    accepted = client.post(
        "/admin/personalization/trigger/add/", form | {"condition": '{"value": {"$gte": 50}}'}
    )

    assert refused.status_code == 200 and "$bogus" in refused.content.decode()
    assert accepted.status_code == 302
    assert Trigger.objects.get().condition == {"value": {"$gte": 50}}


def test_a_trigger_of_a_kind_missing_its_fields_says_which(client):
    client.force_login(UserFactory(username="root", superuser=True))
    form = {
        "key": "leave", "name": "Leave", "kind": "event_not_followed", "is_active": "on",
        "purpose": "marketing", "cooldown_seconds": "3600", "event_type": "add_to_cart",
        "condition": "{}", "direction": "up",
    }  # fmt: skip

    page = client.post("/admin/personalization/trigger/add/", form).content.decode()

    assert "Name the event that should follow" in page and "how long to wait" in page
    assert not Trigger.objects.exists()
