"""Hot-path queries compiled once: the same rows as their querysets, for any argument."""

import pytest

from config.sql import CompiledQuery
from personalization.models import Event
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


def test_a_query_that_does_not_use_its_argument_once_is_refused():
    compiled = CompiledQuery(lambda visitor_id: Event.objects.values_list("pk"))

    with pytest.raises(ValueError, match="exactly once"):
        compiled.rows(1)
