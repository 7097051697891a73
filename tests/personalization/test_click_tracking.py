"""`GET /t/<token>`: tracked links record a click and go only to the item's own URL."""

import re
import time
from datetime import timedelta

import pytest
from django.core import signing
from rest_framework.test import APIClient

from config.services import api_key_create
from personalization.delivery.links import CLICK_SALT, click_token, decision_token
from personalization.visitors.models import Event, Visitor
from personalization.visitors.services import visitor_merge
from tests.factories import ContentItemFactory, SlotFactory, VisitorFactory, grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def item():
    return ContentItemFactory(
        title="Trail shoe", external_id="sku-1", url="https://shop.example.com/trail-shoe"
    )


@pytest.fixture
def reader() -> Visitor:
    """A newsletter reader who allows analytics."""
    visitor = VisitorFactory(external_id="crm-1")
    grant(visitor, "analytics", "marketing")
    return visitor


def link(item, visitor, slot: str = "newsletter-top") -> str:
    return f"/t/{click_token(item=item, visitor=visitor, slot=slot)}"


def test_a_click_redirects_to_the_item_and_records_a_click_event(client, item, reader):
    response = client.get(link(item, reader))

    assert response.status_code == 302
    assert response["Location"] == "https://shop.example.com/trail-shoe"
    event = Event.objects.get(visitor=reader)
    assert (event.type, event.item, event.properties) == (
        "click", item, {"slot": "newsletter-top"}
    )  # fmt: skip


def test_the_call_to_action_wins_over_the_items_page(client, reader):
    offer = ContentItemFactory(
        url="https://shop.example.com/a", cta_url="https://shop.example.com/b"
    )

    assert client.get(link(offer, reader))["Location"] == "https://shop.example.com/b"


def test_the_redirect_follows_the_items_current_url_not_the_token(client, item, reader):
    url = link(item, reader)
    item.url = "https://shop.example.com/trail-shoe-v2"
    item.save()

    assert client.get(url)["Location"] == "https://shop.example.com/trail-shoe-v2"


def test_without_analytics_consent_the_click_redirects_but_is_not_recorded(client, item, reader):
    grant(reader, "analytics", granted=False)

    response = client.get(link(item, reader))

    assert response.status_code == 302
    assert not Event.objects.exists()


def test_clicking_the_same_link_twice_records_one_click(client, item, reader):
    url = link(item, reader)

    client.get(url)
    client.get(url)

    assert Event.objects.filter(visitor=reader, type="click").count() == 1


def test_a_head_request_from_a_link_scanner_redirects_without_a_click(client, item, reader):
    response = client.head(link(item, reader))

    assert response.status_code == 302
    assert not Event.objects.exists()


def test_a_link_for_an_unknown_recipient_redirects_without_recording(client, item):
    response = client.get(link(item, None))

    assert response.status_code == 302
    assert not Event.objects.exists()


def test_a_merged_profiles_click_is_recorded_for_the_profile_it_became(client, item, reader):
    anonymous = VisitorFactory(external_id=None)
    url = link(item, anonymous)
    visitor_merge(source=anonymous, target=reader)

    client.get(url)

    assert Event.objects.get(type="click").visitor == reader


def test_a_tampered_token_is_a_404_page_not_a_redirect(client, item, reader):
    token = click_token(item=item, visitor=reader, slot="x")
    forged = signing.dumps([item.pk, reader.pk, "x"], salt="something-else")

    for bad in (token[:-2] + "xx", forged, "not-a-token", decision_token_of(item, reader)):
        response = client.get(f"/t/{bad}")
        assert response.status_code == 404
        assert "Location" not in response
        assert not response["Content-Type"].startswith("application/json")
    assert not Event.objects.exists()


def decision_token_of(item, reader) -> str:
    """A genuine token of another kind (a decision's): it must not open links."""
    from personalization.decisions.engine import Decision

    return decision_token(Decision(slot="x", items=[item], reason="default"), reader)


def test_a_token_older_than_90_days_is_a_404(client, item, reader, monkeypatch):
    issued = time.time() - timedelta(days=91).total_seconds()
    monkeypatch.setattr(signing.time, "time", lambda: issued)
    token = signing.dumps([item.pk, reader.pk, "x"], salt=CLICK_SALT, compress=True)
    monkeypatch.undo()

    assert client.get(f"/t/{token}").status_code == 404


def test_a_token_for_a_deleted_item_or_one_without_a_url_is_a_404(client, reader):
    gone, nowhere = ContentItemFactory(), ContentItemFactory(url="", cta_url="")
    url = link(gone, reader)
    gone.delete()

    assert client.get(url).status_code == 404
    assert client.get(link(nowhere, reader)).status_code == 404


def test_a_link_from_an_email_block_records_the_click_end_to_end(client, item, reader):
    grant(reader, "personalization")
    SlotFactory(key="newsletter-top", default_items=[item])
    api = APIClient()
    _, secret = api_key_create(name="newsletter", scopes=["blocks:read"])
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    body = {"slots": ["newsletter-top"], "recipients": ["crm-1"]}
    html = api.post("/api/v1/blocks/batch", body, format="json").json()["results"][0]["blocks"][
        "newsletter-top"
    ]["html"]
    href = re.search(r'href="http://testserver(/t/[^"]+)"', html).group(1)

    response = client.get(href)

    assert response["Location"] == "https://shop.example.com/trail-shoe"
    assert Event.objects.get(type="click").item == item


def test_a_client_following_links_too_fast_is_slowed_down(client, item, reader, settings):
    settings.TAILOR_CLICK_RATE = "3/minute"
    url = link(item, reader)

    answers = [client.get(url, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}") for n in range(4)]
    other = client.get(url, REMOTE_ADDR="198.51.100.7")

    assert [answer.status_code for answer in answers] == [302, 302, 302, 429]
    assert 0 < int(answers[-1]["Retry-After"]) <= 60
    assert "Location" not in answers[-1]
    assert other.status_code == 302
