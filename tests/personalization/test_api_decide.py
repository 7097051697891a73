"""`GET /api/v1/slots/{key}/decide?visitor=…` with an API key holding `decide:read`."""

import re

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from personalization.delivery.links import click_token_read, decision_token_read
from personalization.features.models import VisitorFeatures
from personalization.visitors.models import Event
from tests.factories import (
    ContentItemFactory,
    ContentKindFactory,
    SlotFactory,
    SlotRuleFactory,
    VisitorFactory,
    api_client_with_key,
    grant,
)

pytestmark = pytest.mark.django_db


def client_with(*scopes: str) -> APIClient:
    return api_client_with_key(*scopes, name="website")


@pytest.fixture
def website() -> APIClient:
    return client_with("decide:read")


@pytest.fixture
def hero():
    """A hero slot: engaged visitors see "Welcome back", everyone else "Welcome"."""
    banner = ContentKindFactory(key="banner")
    slot = SlotFactory(
        key="hero",
        default_items=[ContentItemFactory(title="Welcome", kind=banner, external_id="welcome")],
    )
    SlotRuleFactory(
        slot=slot, name="Engaged", condition={"lifecycle": "engaged"},
        items=[ContentItemFactory(
            title="Welcome back", kind=banner, external_id="welcome-back",
            summary="Good to see you.", cta_label="See what's new",
            cta_url="https://shop.example.com/new", image_url="https://cdn.example.com/b.jpg",
        )],
    )  # fmt: skip
    return slot


@pytest.fixture
def engaged():
    visitor = VisitorFactory(external_id="crm-1")
    grant(visitor, "analytics", "personalization")
    VisitorFeatures.objects.create(visitor=visitor, computed_at=timezone.now(), lifecycle="engaged")
    return visitor


def test_a_visitor_gets_the_matching_rules_items_with_tracked_links(website, hero, engaged):
    response = website.get("/api/v1/slots/hero/decide", {"visitor": "crm-1"})

    assert response.status_code == 200
    body = response.json()
    assert body["slot"] == "hero"
    assert body["visitor"] == "crm-1"
    assert (body["reason"], body["explanation"]) == ("rule", "rule 'Engaged' matched")
    assert body["rule"]["name"] == "Engaged"
    [item] = body["items"]
    tracking_url = item.pop("tracking_url")
    assert item == {
        "id": "welcome-back",
        "title": "Welcome back",
        "kind": "banner",
        "url": "https://shop.example.com/welcome-back",
        "summary": "Good to see you.",
        "image_url": "https://cdn.example.com/b.jpg",
        "cta_label": "See what's new",
        "cta_url": "https://shop.example.com/new",
    }
    assert tracking_url.startswith("http://testserver/t/")
    click = click_token_read(tracking_url.rsplit("/", 1)[1])
    assert (click.visitor_id, click.slot) == (engaged.pk, "hero")
    assert "html" not in body


def test_the_decision_token_records_the_slot_visitor_items_and_rule(website, hero, engaged):
    body = website.get("/api/v1/slots/hero/decide", {"visitor": "crm-1"}).json()

    record = decision_token_read(body["token"])

    assert record["s"] == "hero"
    assert record["v"] == engaged.pk
    assert record["r"] == body["rule"]["id"]
    assert len(record["i"]) == 1


def test_format_html_adds_the_blocks_as_the_site_renders_them(website, hero, engaged):
    response = website.get("/api/v1/slots/hero/decide", {"visitor": "crm-1", "format": "html"})

    assert response.status_code == 200
    html = response.json()["html"]
    assert 'data-slot="hero"' in html
    assert 'class="tailor-block tailor-block--banner"' in html
    assert "Welcome back" in html


def test_the_cookie_id_finds_the_visitor_too(website, hero, engaged):
    response = website.get("/api/v1/slots/hero/decide", {"visitor": str(engaged.uid)})

    assert response.json()["visitor"] == "crm-1"
    assert response.json()["reason"] == "rule"


def test_an_unknown_visitor_gets_the_default_content_not_an_error(website, hero):
    response = website.get("/api/v1/slots/hero/decide", {"visitor": "nobody"})

    assert response.status_code == 200
    body = response.json()
    assert [item["title"] for item in body["items"]] == ["Welcome"]
    assert (body["visitor"], body["reason"], body["rule"]) == ("nobody", "unknown_visitor", None)
    assert body["explanation"] == "unknown visitor: default content"


def test_a_visitor_without_personalization_consent_gets_the_default(website, hero, engaged):
    grant(engaged, "personalization", granted=False)

    body = website.get("/api/v1/slots/hero/decide", {"visitor": "crm-1"}).json()

    assert [item["title"] for item in body["items"]] == ["Welcome"]
    assert body["reason"] == "no_consent"


def test_a_visitor_no_rule_matches_gets_the_default(website, hero):
    grant(VisitorFactory(external_id="crm-2"), "personalization")

    body = website.get("/api/v1/slots/hero/decide", {"visitor": "crm-2"}).json()

    assert [item["title"] for item in body["items"]] == ["Welcome"]
    assert (body["reason"], body["explanation"]) == ("default", "no rule matched: default content")


def test_a_missing_visitor_is_a_400_naming_it(website, hero):
    response = website.get("/api/v1/slots/hero/decide")

    assert response.status_code == 400
    assert response.json()["errors"] == {"visitor": ["This field is required."]}


def test_an_unknown_format_is_a_400_naming_it(website, hero, engaged):
    response = website.get("/api/v1/slots/hero/decide", {"visitor": "crm-1", "format": "xml"})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["format"]


def test_an_unknown_slot_is_a_json_404(website):
    response = website.get("/api/v1/slots/nope/decide", {"visitor": "crm-1"})

    assert response.status_code == 404
    assert response.json() == {"message": "No slot with key 'nope'.", "code": "not_found"}


def test_an_item_without_a_url_has_no_tracking_url(website, engaged):
    SlotFactory(key="notice", default_items=[ContentItemFactory(title="Closed Monday", url="")])

    body = website.get("/api/v1/slots/notice/decide", {"visitor": "nobody"}).json()

    assert body["items"][0]["tracking_url"] is None


def test_tracked_links_use_the_configured_public_origin(website, hero, engaged, settings):
    settings.TAILOR_TRACKING_BASE_URL = "https://go.example.com/"

    body = website.get("/api/v1/slots/hero/decide", {"visitor": "crm-1"}).json()

    assert body["items"][0]["tracking_url"].startswith("https://go.example.com/t/")


HREF = re.compile(r'href="([^"]*)"')


@pytest.mark.parametrize("kind", ["article", "banner", "product", "video"])
def test_format_html_links_go_through_tracked_links_that_count_the_click(website, client, kind):
    reader = VisitorFactory(external_id="crm-9")
    grant(reader, "analytics", "personalization")
    offer = ContentItemFactory(
        title="Trail week", kind=ContentKindFactory(key=kind), cta_label="Shop now",
        url="https://shop.example.com/trail", cta_url="https://shop.example.com/trail-offer",
    )  # fmt: skip
    SlotFactory(key="promo", default_items=[offer])

    body = website.get("/api/v1/slots/promo/decide", {"visitor": "crm-9", "format": "html"}).json()

    hrefs = HREF.findall(body["html"])
    assert hrefs
    assert set(hrefs) == {body["items"][0]["tracking_url"]}
    assert "shop.example.com" not in body["html"]
    followed = client.get(hrefs[0].removeprefix("http://testserver"))
    assert followed.status_code == 302
    assert followed["Location"] == "https://shop.example.com/trail-offer"
    click = Event.objects.get(visitor=reader, type="click")
    assert (click.item, click.properties) == (offer, {"slot": "promo"})


def test_format_html_leaves_an_item_without_a_url_without_a_link(website):
    SlotFactory(key="notice", default_items=[ContentItemFactory(title="Closed Monday", url="")])

    body = website.get("/api/v1/slots/notice/decide", {"visitor": "nobody", "format": "html"})

    assert "Closed Monday" in body.json()["html"]
    assert "href" not in body.json()["html"]
