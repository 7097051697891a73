from io import StringIO

import pytest
from django.core.management import call_command

from consent.selectors import allows
from personalization.decisions.engine import decide
from personalization.features.models import VisitorFeatures
from personalization.visitors.models import Event, Visitor


def seed(visitors: int) -> None:
    call_command("seed_demo", "--visitors", str(visitors), stdout=StringIO())


@pytest.mark.django_db
def test_seed_demo_creates_the_numbered_demo_visitors_with_histories():
    seed(12)

    names = set(Visitor.objects.values_list("external_id", flat=True))
    assert {f"demo-{n}" for n in range(1, 13)} <= names
    assert all(
        Event.objects.filter(visitor__external_id=f"demo-{n}").exists() for n in range(1, 13)
    )


@pytest.mark.django_db
def test_seed_demo_run_twice_adds_no_visitor_or_event_the_second_time():
    seed(8)
    counts = (Visitor.objects.count(), Event.objects.count())

    seed(8)

    assert (Visitor.objects.count(), Event.objects.count()) == counts


@pytest.mark.django_db
def test_demo_visitors_have_histories_of_different_shapes():
    seed(6)

    lifecycles = dict(VisitorFeatures.objects.values_list("visitor__external_id", "lifecycle"))
    assert lifecycles["demo-1"] == "active"
    assert lifecycles["demo-4"] == "new"
    assert lifecycles["demo-5"] == "at_risk"


@pytest.mark.django_db
def test_the_runner_and_the_audio_lover_get_different_home_page_heroes():
    seed(6)
    runner, listener = (Visitor.objects.get(external_id=f"demo-{n}") for n in (1, 2))

    heroes = [decide("homepage-hero", v, {"device": "desktop"}).items for v in (runner, listener)]

    assert [item.external_id for item in heroes[0]] == ["b-sports"]
    assert [item.external_id for item in heroes[1]] == ["b-tech"]


@pytest.mark.django_db
def test_every_tenth_demo_visitor_from_the_sixth_has_not_consented_to_personalization():
    seed(16)

    without = [
        v.external_id
        for v in Visitor.objects.filter(external_id__startswith="demo-")
        if not allows(v, "personalization")
    ]
    assert sorted(without) == ["demo-16", "demo-6"]
