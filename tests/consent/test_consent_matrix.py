"""Every combination of the three optional purposes, chosen in the banner, and what follows.

A browser makes a choice through `POST /api/v1/consent`, either new (no cookie) or as a
returning visitor who had allowed everything. Each check below is one thing the choice must
govern; a part of Tailor that starts to depend on consent (recommendations, training, email
blocks) adds its check to `CHECKS`, and runs over all 16 cases at once.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from itertools import product

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from config.services import api_key_create
from consent.selectors import allows
from consent.services import consent_record
from personalization.features.models import VisitorFeatures
from personalization.features.services import features_compute
from personalization.visitors.models import Event, Visitor
from tests.consent.test_consent_api import BROWSER, URL, granted, with_visitor_cookie
from tests.factories import ContentItemFactory, ContentKindFactory, SlotFactory, SlotRuleFactory
from tests.factories.personalization import EventFactory

PURPOSES = ("analytics", "personalization", "marketing")
COMBINATIONS = [
    dict(zip(PURPOSES, values, strict=True)) for values in product((False, True), repeat=3)
]


@dataclass
class Outcome:
    """A browser right after choosing, and the visitor profile kept for it (if any)."""

    choice: dict[str, bool]
    client: APIClient
    visitor: Visitor | None
    returning: bool

    def allowed(self, purpose: str) -> bool:
        return self.choice[purpose]


def new_browser(choice: dict[str, bool]) -> Outcome:
    client = APIClient(HTTP_USER_AGENT=BROWSER)
    response = client.post(URL, {"purposes": choice}, format="json")
    assert response.status_code == 200
    return Outcome(choice, client, Visitor.objects.first(), returning=False)


def returning_visitor(choice: dict[str, bool]) -> Outcome:
    visitor = Visitor.objects.create()
    consent_record(visitor=visitor, choices=dict.fromkeys(PURPOSES, True), source="banner")
    client = with_visitor_cookie(APIClient(HTTP_USER_AGENT=BROWSER), visitor)
    response = client.post(URL, {"purposes": choice}, format="json")
    assert response.status_code == 200
    return Outcome(choice, client, visitor, returning=True)


def check_page_views_are_stored_only_with_analytics(outcome: Outcome) -> None:
    outcome.client.get("/")

    assert Event.objects.filter(type="view").count() == int(outcome.allowed("analytics"))


def check_the_visitor_cookie_exists_only_with_analytics_or_personalization(
    outcome: Outcome,
) -> None:
    morsel = outcome.client.cookies.get(settings.TAILOR_VISITOR_COOKIE)
    present = morsel is not None and morsel.value != "" and morsel["max-age"] != 0
    needed = outcome.allowed("analytics") or outcome.allowed("personalization")

    assert present is needed
    assert outcome.client.cookies[settings.TAILOR_CONSENT_COOKIE].value  # the choice stays


def check_a_profile_is_kept_only_with_analytics_or_personalization(outcome: Outcome) -> None:
    needed = outcome.allowed("analytics") or outcome.allowed("personalization")
    outcome.client.get("/")

    # A returning visitor keeps their profile (and their consent history) whatever they choose.
    assert Visitor.objects.count() == int(needed or outcome.returning)


def check_personalization_is_allowed_as_granted(outcome: Outcome) -> None:
    state = granted(outcome.client.get(URL).json())

    assert state["personalization"] is outcome.allowed("personalization")
    if outcome.visitor is not None:
        assert allows(outcome.visitor, "personalization") is outcome.allowed("personalization")


def check_marketing_is_allowed_as_granted(outcome: Outcome) -> None:
    state = granted(outcome.client.get(URL).json())

    assert state["marketing"] is outcome.allowed("marketing")
    if outcome.visitor is not None:
        assert allows(outcome.visitor, "marketing") is outcome.allowed("marketing")


def check_features_are_computed_only_with_personalization(outcome: Outcome) -> None:
    if outcome.visitor is None:
        assert not VisitorFeatures.objects.exists()  # no profile: nothing to compute from
        return
    EventFactory(visitor=outcome.visitor, occurred_at=timezone.now() - timedelta(days=1))

    computed = features_compute(visitor_ids=[outcome.visitor.pk])

    assert computed == int(outcome.allowed("personalization"))
    has_features = VisitorFeatures.objects.filter(visitor=outcome.visitor).exists()
    assert has_features is outcome.allowed("personalization")


def everyone_rule_slot(key: str):
    """A slot whose one rule matches everyone, so that only consent can make it show the default."""
    kind = ContentKindFactory(key="banner")
    slot = SlotFactory(key=key, default_items=[ContentItemFactory(title="Default", kind=kind)])
    SlotRuleFactory(slot=slot, condition={}, items=[ContentItemFactory(title="Chosen", kind=kind)])
    return slot


def check_pages_are_personalized_only_with_personalization(outcome: Outcome) -> None:
    everyone_rule_slot("homepage-hero")

    html = outcome.client.get("/").content.decode()

    assert ("Chosen" in html) is outcome.allowed("personalization")
    assert ("Default" in html) is not outcome.allowed("personalization")


def check_email_blocks_are_personalized_only_with_marketing_and_personalization(
    outcome: Outcome,
) -> None:
    everyone_rule_slot("newsletter-top")
    _, secret = api_key_create(name="mailer", scopes=["blocks:read"])
    mailer = APIClient(HTTP_AUTHORIZATION=f"Bearer {secret}")
    recipient = outcome.visitor.identifier if outcome.visitor else "someone-unknown"

    response = mailer.post(
        "/api/v1/blocks/batch",
        {"slots": ["newsletter-top"], "recipients": [recipient]},
        format="json",
    )

    result = response.json()["results"][0]
    expected = (
        outcome.visitor is not None
        and outcome.allowed("marketing")
        and (outcome.allowed("personalization"))
    )
    assert result["personalized"] is expected
    assert ("Chosen" in result["blocks"]["newsletter-top"]["html"]) is expected


CHECKS: list[Callable[[Outcome], None]] = [
    check_page_views_are_stored_only_with_analytics,
    check_the_visitor_cookie_exists_only_with_analytics_or_personalization,
    check_a_profile_is_kept_only_with_analytics_or_personalization,
    check_personalization_is_allowed_as_granted,
    check_marketing_is_allowed_as_granted,
    check_features_are_computed_only_with_personalization,
    check_pages_are_personalized_only_with_personalization,
    check_email_blocks_are_personalized_only_with_marketing_and_personalization,
]
STARTS = {"new browser": new_browser, "returning visitor": returning_visitor}


def combination_id(choice: dict[str, bool]) -> str:
    return "+".join(key for key in PURPOSES if choice[key]) or "nothing"


@pytest.mark.django_db
@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__.removeprefix("check_"))
@pytest.mark.parametrize("choice", COMBINATIONS, ids=combination_id)
@pytest.mark.parametrize("start", STARTS.values(), ids=list(STARTS))
def test_a_consent_choice_governs(start, choice, check) -> None:
    check(start(choice))
