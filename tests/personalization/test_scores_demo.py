"""seed_demo computes scores from histories with a signal, and targets likely churners."""

from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from config.services import api_key_create
from personalization.decisions.engine import decide
from personalization.scores.models import ScoreRun, VisitorScore
from personalization.segments.models import SegmentMembership
from personalization.visitors.models import Visitor

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    out = StringIO()
    call_command("seed_demo", "--visitors", "200", stdout=out, stderr=StringIO())
    return out.getvalue()


def churn_of() -> dict[str, float]:
    return dict(
        VisitorScore.objects.filter(target="churn").values_list(
            "visitor__external_id", "probability"
        )
    )


def test_seed_demo_scores_its_visitors_and_the_churn_model_learns_from_their_histories(demo):
    run = ScoreRun.objects.get(is_current=True)
    churn = churn_of()

    assert "scores for" in demo
    model = run.metrics["churn"]["model"]
    assert model["roc_auc"] > 0.65 and model["lift_top_decile"] > 2
    assert churn["demo-5"] > churn["demo-1"]  # at risk for two months, against a regular
    assert "demo-6" not in churn  # no personalization consent


def test_the_likely_to_churn_segment_holds_exactly_the_visitors_scored_60_percent_or_more(demo):
    members = set(
        SegmentMembership.objects.filter(segment__key="likely-to-churn").values_list(
            "visitor__external_id", flat=True
        )
    )

    assert members and members == {key for key, p in churn_of().items() if p >= 0.6}


def test_the_win_back_rule_targets_likely_churners_on_the_site_and_in_the_newsletter(demo):
    churn = churn_of()
    leaving = sorted(k for k, p in churn.items() if p >= 0.7)
    staying = sorted(k for k, p in churn.items() if p < 0.7)
    client = APIClient()
    _, secret = api_key_create(name="newsletter", scopes=["blocks:read"])
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")

    def hero(key: str) -> list[str]:
        visitor = Visitor.objects.get(external_id=key)
        return [
            i.external_id for i in decide("homepage-hero", visitor, {"device": "desktop"}).items
        ]

    results = client.post(
        "/api/v1/blocks/batch",
        {"slots": ["newsletter-top"], "recipients": leaving + staying},
        format="json",
    ).json()["results"]
    email = {r["recipient"]: r["blocks"]["newsletter-top"]["items"] for r in results}

    assert leaving and staying
    assert all(hero(key) == ["b-winback"] for key in leaving)
    assert not any(hero(key) == ["b-winback"] for key in staying)
    assert all(email[key] == ["e-winback"] for key in leaving)
