"""`scores.churn` and `scores.purchase` target visitors on the site, in segments and in email."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from config.services import api_key_create
from personalization.rules.catalogue import catalogue_errors
from personalization.segments.models import SegmentMembership
from tests.factories import (
    ContentItemFactory,
    ContentKindFactory,
    SlotFactory,
    SlotRuleFactory,
    VisitorFactory,
    grant,
)
from tests.factories.personalization import SegmentFactory
from tests.factories.scores import scores_current
from tests.personalization.test_template_tags import render

pytestmark = pytest.mark.django_db
WIN_BACK = {"scores.churn": {"$gte": 0.7}}


@pytest.fixture
def win_back():
    banner = ContentKindFactory(key="banner")
    slot = SlotFactory(key="hero", default_items=[ContentItemFactory(title="New in", kind=banner)])
    SlotRuleFactory(
        slot=slot, condition=WIN_BACK,
        items=[ContentItemFactory(title="We miss you: 20% off", kind=banner,
                                  external_id="we-miss-you")],
    )  # fmt: skip
    return slot


@pytest.fixture
def people():
    """Consenting visitors likely to churn, loyal and unscored, and one who refused."""
    leaving, loyal, unscored, refusing = (
        VisitorFactory(external_id=name) for name in ("leaving", "loyal", "unscored", "refusing")
    )
    for visitor in (leaving, loyal, unscored):
        grant(visitor, "personalization", "marketing")
    scores_current({
        leaving: {"churn": 0.82, "purchase": 0.05},
        loyal: {"churn": 0.12, "purchase": 0.6},
        refusing: {"churn": 0.95, "purchase": 0.01},
    })  # fmt: skip
    return {"leaving": leaving, "loyal": loyal, "unscored": unscored, "refusing": refusing}


def test_scores_are_attributes_of_the_catalogue_that_conditions_may_use():
    assert catalogue_errors(WIN_BACK) == []
    assert catalogue_errors({"scores.purchase": {"$lt": 0.2}}) == []
    assert catalogue_errors({"scores.churn": {"$gte": "high"}})  # a number is expected


def test_a_churn_rule_shows_the_win_back_offer_on_the_site_only_to_likely_churners(
    win_back, people
):
    shown = {name: "We miss you" in render('{% slot "hero" %}', v) for name, v in people.items()}

    assert shown == {"leaving": True, "loyal": False, "unscored": False, "refusing": False}


def test_a_churn_rule_picks_the_win_back_block_in_the_email_api_only_for_likely_churners(
    win_back, people
):
    client = APIClient()
    _, secret = api_key_create(name="newsletter", scopes=["blocks:read"])
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")

    response = client.post(
        "/api/v1/blocks/batch", {"slots": ["hero"], "recipients": list(people)}, format="json"
    )

    assert response.status_code == 200
    items = {r["recipient"]: r["blocks"]["hero"]["items"] for r in response.json()["results"]}
    assert items["leaving"] == ["we-miss-you"]
    assert "we-miss-you" not in items["loyal"] + items["unscored"] + items["refusing"]


def test_a_likely_to_churn_segment_is_filled_from_the_scores(people):
    segment = SegmentFactory(key="likely-to-churn", condition={"scores.churn": {"$gte": 0.6}})

    call_command("compute_segments", stdout=StringIO(), stderr=StringIO())

    members = set(
        SegmentMembership.objects.filter(segment=segment).values_list(
            "visitor__external_id", flat=True
        )
    )
    assert members == {"leaving"}


def test_show_visitor_and_the_profile_api_show_the_current_scores(people, admin_client):
    out = StringIO()
    call_command("show_visitor", "leaving", stdout=out)
    as_json = StringIO()
    call_command("show_visitor", "leaving", "--json", stdout=as_json)
    client = APIClient()
    _, secret = api_key_create(name="crm", scopes=["profiles:read"])
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    profile = client.get("/api/v1/profiles/leaving").json()
    page = admin_client.get(f"/admin/personalization/visitor/{people['leaving'].pk}/change/")

    assert "scores    churn=0.82, purchase=0.05" in out.getvalue()
    assert json.loads(as_json.getvalue())["scores"] == {"churn": 0.82, "purchase": 0.05}
    assert profile["scores"] == {"churn": 0.82, "purchase": 0.05}
    assert page.status_code == 200
    assert "predictive scores" in page.content.decode().lower()
    assert "<th>churn</th><td>0.82</td>" in page.content.decode()
