"""The personalization holdout's control sees no personalized part of a page, not only slots."""

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import timezone
from rest_framework.test import APIClient

from config.services import api_key_create
from experiments.models import Exposure
from personalization.decisions.request import RequestState
from personalization.features.models import VisitorFeatures
from tests.experiments.conftest import visitor_in
from tests.factories import ContentItemFactory, ContentKindFactory, TagFactory
from tests.factories.experiments import ExperimentFactory
from tests.factories.personalization import SegmentFactory, SegmentMembershipFactory


def render(source: str, visitor) -> tuple[str, set]:
    request = RequestFactory().get("/")
    request.visitor = visitor
    request.tailor = RequestState(request, context={"device": "desktop"})
    html = Template("{% load tailor %}" + source).render(Context({"request": request}))
    return html, request.tailor.exposures


@pytest.fixture
def holdout():
    return ExperimentFactory(key="holdout", is_holdout=True, status="running")


def sports_fan(holdout, arm: str):
    visitor = visitor_in(holdout, arm)
    VisitorFeatures.objects.create(
        visitor=visitor, computed_at=timezone.now(), tag_affinities={"sports": 1.0}
    )
    return visitor


RAIL = "{% recommendations limit=1 as recs %}{% for i in recs %}{{ i.title }}{% endfor %}"


@pytest.mark.django_db
def test_holdout_visitors_get_no_recommendations_and_are_counted(holdout):
    ContentItemFactory(title="Boots", kind=ContentKindFactory(key="product"),
                       tags=[TagFactory(name="Sports", slug="sports")])  # fmt: skip
    held_out = sports_fan(holdout, "control")

    html, exposures = render(RAIL, held_out)

    assert html == ""
    assert {(v, e) for v, e, _ in exposures} == {(held_out.pk, holdout.pk)}


@pytest.mark.django_db
def test_the_personalized_arm_still_gets_recommendations(holdout):
    ContentItemFactory(title="Boots", kind=ContentKindFactory(key="product"),
                       tags=[TagFactory(name="Sports", slug="sports")])  # fmt: skip

    html, _ = render(RAIL, sports_fan(holdout, "treatment"))

    assert html == "Boots"


@pytest.mark.django_db
def test_holdout_visitors_see_what_everyone_sees_in_segment_blocks(holdout):
    held_out = sports_fan(holdout, "control")
    SegmentMembershipFactory(segment=SegmentFactory(key="vip", kind="static"), visitor=held_out)

    html, _ = render('{% if_segment "vip" %}VIP{% else %}everyone{% endif_segment %}', held_out)

    assert html == "everyone"


@pytest.mark.django_db
def test_the_recommendations_api_gives_holdout_visitors_nothing_and_says_why(holdout):
    ContentItemFactory(title="Boots", kind=ContentKindFactory(key="product"),
                       tags=[TagFactory(name="Sports", slug="sports")])  # fmt: skip
    held_out, personalized = sports_fan(holdout, "control"), sports_fan(holdout, "treatment")
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {api_key_create(name='w', scopes=['decide:read'])[1]}"
    )

    def titles(visitor):
        body = client.get(f"/api/v1/recommendations?visitor={visitor.uid}").json()
        return [item["title"] for item in body["items"]], body.get("note", "")

    assert titles(held_out) == ([], "personalization holdout: no recommendations")
    assert titles(personalized) == (["Boots"], "")
    assert Exposure.objects.filter(experiment=holdout).count() == 2
