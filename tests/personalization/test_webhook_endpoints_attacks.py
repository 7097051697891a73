"""Who may point Tailor's webhooks somewhere, where they may point, and who sees the secret."""

import pytest
from django.contrib.auth.models import Group
from django.test import override_settings

from personalization.triggers import sending
from personalization.triggers.models import Delivery, WebhookEndpoint
from personalization.triggers.services import delivery_test_create
from personalization.triggers.signing import secret_decrypt
from personalization.triggers.transport import UnsafeEndpoint, url_resolve
from tests.factories import UserFactory
from tests.factories.triggers import endpoint_for
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.django_db
ADD = "/admin/personalization/webhookendpoint/add/"


def staff(role: str):
    user = UserFactory(username=role.lower().replace(" ", "-"), staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


def endpoint_form(url: str) -> dict:
    return {"name": "Mailer", "url": url, "is_active": "on", "include_facts": "on",
            "include_blocks": "on", "rate_per_second": "20"}  # fmt: skip


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook", "http://localhost/hook", "http://10.0.0.5/hook",
        "http://192.168.1.1/hook", "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook", "http://[::ffff:127.0.0.1]/hook", "http://100.64.0.1/hook",
        "http://0.0.0.0/hook",
    ],
)  # fmt: skip
@override_settings(TAILOR_WEBHOOK_ALLOW_PRIVATE=False)
def test_an_endpoint_on_a_private_or_local_address_is_refused(url):
    with pytest.raises(UnsafeEndpoint, match="private or local address"):
        url_resolve(url)


@pytest.mark.parametrize(
    "url", ["ftp://example.com/hook", "file:///etc/passwd", "https://user:pw@example.com/hook"]
)
def test_only_plain_http_and_https_urls_without_credentials_are_accepted(url):
    with pytest.raises(UnsafeEndpoint):
        url_resolve(url)


@override_settings(TAILOR_WEBHOOK_ALLOW_PRIVATE=False)
def test_the_admin_refuses_to_save_an_endpoint_on_loopback(client):
    client.force_login(UserFactory(username="root", superuser=True))

    response = client.post(ADD, endpoint_form("http://127.0.0.1:9/hook"))

    assert response.status_code == 200
    assert "Tailor will not send there" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_a_delivery_to_an_endpoint_that_now_resolves_to_loopback_is_never_sent():
    receiver = Receiver().start()
    try:
        endpoint, _ = endpoint_for(receiver.url)  # saved while loopback was allowed
        delivery = delivery_test_create(endpoint=endpoint)
        with override_settings(TAILOR_WEBHOOK_ALLOW_PRIVATE=False):
            sending.delivery_send(delivery_id=delivery.pk)
    finally:
        receiver.stop()

    delivery.refresh_from_db()
    assert receiver.received == []
    assert (delivery.status, delivery.attempts) == (Delivery.Status.FAILED, 1)
    assert "private or local address" in delivery.last_error


@pytest.mark.parametrize("role", ["Editor", "Analyst", "Privacy officer"])
def test_no_role_may_add_or_change_an_endpoint(client, role):
    endpoint, _ = endpoint_for("http://127.0.0.1:9/hook")
    client.force_login(staff(role))

    added = client.post(ADD, endpoint_form("http://127.0.0.1:9/evil"))
    changed = client.post(
        f"/admin/personalization/webhookendpoint/{endpoint.pk}/change/",
        endpoint_form("http://127.0.0.1:9/evil"),
    )

    assert (added.status_code, changed.status_code) in {(403, 403), (403, 200)}
    assert WebhookEndpoint.objects.get().url == "http://127.0.0.1:9/hook"


def test_an_editor_may_not_send_test_messages_or_rotate_secrets(client):
    endpoint, _ = endpoint_for("http://127.0.0.1:9/hook")
    client.force_login(staff("Editor"))
    before = WebhookEndpoint.objects.get().secret_encrypted

    for action in ("send_test", "rotate_secret"):
        client.post(
            "/admin/personalization/webhookendpoint/",
            {"action": action, "_selected_action": [endpoint.pk]},
        )

    assert not Delivery.objects.exists()
    assert WebhookEndpoint.objects.get().secret_encrypted == before


def test_the_secret_is_shown_once_on_creation_then_only_masked(client):
    client.force_login(UserFactory(username="root", superuser=True))

    created = client.post(ADD, endpoint_form("http://127.0.0.1:9/hook"))
    secret = created.context["rows"][0][1]
    endpoint = WebhookEndpoint.objects.get()
    page = client.get(f"/admin/personalization/webhookendpoint/{endpoint.pk}/change/")

    assert secret.startswith("whsec_") and secret in created.content.decode()
    assert "no-store" in created["Cache-Control"]
    assert secret not in page.content.decode() and endpoint.secret_hint in page.content.decode()
    assert secret not in endpoint.secret_encrypted


def test_rotating_the_secret_shows_the_new_one_once_and_signs_with_it(client):
    endpoint, old = endpoint_for("http://127.0.0.1:9/hook")
    client.force_login(UserFactory(username="root", superuser=True))

    response = client.post(
        "/admin/personalization/webhookendpoint/",
        {"action": "rotate_secret", "_selected_action": [endpoint.pk]},
    )

    new = response.context["rows"][0][1]
    endpoint.refresh_from_db()
    assert new != old and endpoint.secret_hint == new[:10]
    assert secret_decrypt(endpoint.secret_encrypted) == new
