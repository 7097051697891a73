"""Hot-path queries compiled once: the same rows as their querysets, for any argument."""

import uuid

import pytest
from django.utils import timezone

from config.sql import CompiledQuery
from personalization.features.models import VisitorFeatures
from personalization.features.selectors import visitor_with_features
from personalization.visitors.models import Event
from tests.factories import ContentItemFactory, EventFactory, VisitorFactory

pytestmark = pytest.mark.django_db


def by_visitor(visitor_id):
    return (
        Event.objects.filter(visitor_id=visitor_id)
        .order_by("pk")
        .values_list("item_id", "occurred_at", "properties")
    )


def test_a_compiled_query_gives_the_querysets_rows_for_each_argument():
    first, second = VisitorFactory(), VisitorFactory()
    EventFactory(visitor=first, item=ContentItemFactory(), properties={"path": "/a"})
    EventFactory(visitor=second, properties={"path": "/b"})
    EventFactory(visitor=second)
    compiled = CompiledQuery(by_visitor)

    for visitor in (first, second, first):
        assert compiled.rows(visitor.pk) == list(by_visitor(visitor.pk))


def test_a_query_that_does_not_use_its_argument_is_refused():
    compiled = CompiledQuery(lambda visitor_id: Event.objects.values_list("pk"))

    with pytest.raises(ValueError, match="must use its argument"):
        compiled.rows(1)


def test_a_union_gives_its_argument_to_every_branch():
    first, second = VisitorFactory(), VisitorFactory()
    EventFactory(visitor=first, properties={"path": "/a"})
    EventFactory(visitor=second, properties={"path": "/b"})

    def both(visitor_id):
        events = Event.objects.filter(visitor_id=visitor_id).values_list("pk")
        return events.union(Event.objects.filter(visitor_id=visitor_id).values_list("pk"), all=True)

    compiled = CompiledQuery(both)

    assert sorted(compiled.rows(second.pk)) == sorted(both(second.pk))


def test_the_visitor_of_a_cookie_comes_with_its_features_in_one_query(
    django_assert_num_queries,
):
    visitor = VisitorFactory(traits={"country": "DE"})
    VisitorFeatures.objects.create(
        visitor=visitor, computed_at=timezone.now(), lifecycle="engaged",
        tag_affinities={"sports": 0.5},
    )  # fmt: skip

    with django_assert_num_queries(1):
        found = visitor_with_features(visitor.uid)
        affinities = found.features.tag_affinities

    assert (found.pk, found.uid, found.traits) == (visitor.pk, visitor.uid, {"country": "DE"})
    assert affinities == {"sports": 0.5}


def test_a_visitor_without_features_has_none_as_with_select_related():
    visitor = VisitorFactory()

    found = visitor_with_features(visitor.uid)

    with pytest.raises(VisitorFeatures.DoesNotExist):
        found.features  # noqa: B018 - the access is what is tested


def test_an_unknown_cookie_id_finds_no_visitor():
    VisitorFactory()

    assert visitor_with_features(uuid.uuid4()) is None
