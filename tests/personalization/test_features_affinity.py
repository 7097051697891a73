"""Tag affinities: time decay, ancestors, normalization, event-type weights and the top 50."""

from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured

from content.services import tags_ensure
from tests.factories import ContentItemFactory, TagFactory
from tests.personalization.test_features import consenting_visitor, event, features_of


@pytest.fixture(autouse=True)
def _thirty_day_half_life(settings):
    settings.TAILOR_AFFINITY_HALF_LIFE_DAYS = 30


def item_tagged(*paths: str):
    tags = tags_ensure(paths)
    return ContentItemFactory(tags=[tags[p] for p in paths])


@pytest.mark.django_db
def test_an_event_one_half_life_ago_weighs_half():
    visitor = consenting_visitor()
    event(visitor, timedelta(0), item=item_tagged("running"))
    event(visitor, timedelta(days=30), item=item_tagged("cycling"))

    assert features_of(visitor).tag_affinities == {"running": 1.0, "cycling": 0.5}


@pytest.mark.django_db
def test_ancestor_tags_get_the_affinity_of_their_descendants():
    visitor = consenting_visitor()
    event(visitor, timedelta(0), item=item_tagged("sports/football"))
    event(visitor, timedelta(0), item=item_tagged("sports/running"))

    assert features_of(visitor).tag_affinities == {
        "sports": 1.0, "football": 0.5, "running": 0.5,
    }  # fmt: skip


@pytest.mark.django_db
def test_a_tag_and_its_parent_on_one_item_count_the_parent_once():
    visitor = consenting_visitor()
    event(visitor, timedelta(0), item=item_tagged("sports/football", "sports"))
    event(visitor, timedelta(0), item=item_tagged("home"))

    assert features_of(visitor).tag_affinities == {"football": 1.0, "home": 1.0, "sports": 1.0}


@pytest.mark.django_db
def test_affinities_are_divided_by_the_largest_one():
    visitor = consenting_visitor()
    event(visitor, timedelta(0), "click", item=item_tagged("phones"))  # weight 2
    event(visitor, timedelta(0), "view", item=item_tagged("laptops"))  # weight 1

    assert features_of(visitor).tag_affinities == {"phones": 1.0, "laptops": 0.5}


@pytest.mark.django_db
def test_tailor_event_weights_override_the_default_weights(settings):
    settings.TAILOR_EVENT_WEIGHTS = {"view": 4}
    visitor = consenting_visitor()
    event(visitor, timedelta(0), "click", item=item_tagged("phones"))  # weight 2
    event(visitor, timedelta(0), "view", item=item_tagged("laptops"))  # weight 4

    assert features_of(visitor).tag_affinities == {"laptops": 1.0, "phones": 0.5}


@pytest.mark.django_db
def test_only_the_50_strongest_tags_are_kept():
    visitor = consenting_visitor()
    many = ContentItemFactory(tags=[TagFactory(slug=f"tag-{n:02d}") for n in range(60)])
    event(visitor, timedelta(0), item=many)
    event(visitor, timedelta(0), item=item_tagged("tag-59"))

    affinities = features_of(visitor).tag_affinities

    assert len(affinities) == 50
    assert affinities["tag-59"] == 1.0
    assert "tag-49" not in affinities  # equal weights beyond the first: by slug


@pytest.mark.django_db
def test_an_event_older_than_41_half_lives_adds_no_interest():
    visitor = consenting_visitor()
    event(visitor, timedelta(days=30 * 42), item=item_tagged("forgotten"))
    event(visitor, timedelta(0), item=item_tagged("recent"))

    assert features_of(visitor).tag_affinities == {"recent": 1.0}


@pytest.mark.django_db
def test_an_event_weight_above_a_million_is_refused(settings):
    settings.TAILOR_EVENT_WEIGHTS = {"purchase": 2_000_000}
    visitor = consenting_visitor()
    event(visitor, timedelta(0), "purchase", item=item_tagged("phones"))

    with pytest.raises(ImproperlyConfigured, match="purchase must be numbers from 0 to 1,000,000"):
        features_of(visitor)
