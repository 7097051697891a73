"""The number of queries of a chunk does not grow with the number of visitors in it."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from content.services import tags_ensure
from personalization.features.services import features_compute, population_stats
from tests.factories import ContentItemFactory
from tests.personalization.test_features import NOW, consenting_visitor, event


def visitors_with_history(count: int, items) -> list[int]:
    ids = []
    for n in range(count):
        visitor = consenting_visitor()
        event(visitor, timedelta(days=n % 40 + 1), item=items[n % len(items)])
        event(visitor, timedelta(days=n % 40), "purchase", item=items[0], value=Decimal(n + 1))
        ids.append(visitor.pk)
    return ids


def queries_to_compute(ids: list[int], stats) -> int:
    with CaptureQueriesContext(connection) as context:
        computed = features_compute(visitor_ids=ids, stats=stats)
    assert computed == len(ids)
    return len(context.captured_queries)


@pytest.mark.django_db
def test_features_compute_runs_as_many_queries_for_200_visitors_as_for_5():
    tags = tags_ensure(["sports/football", "home/kitchen"])
    items = [ContentItemFactory(tags=[tag]) for tag in tags.values()]
    few, many = visitors_with_history(5, items), visitors_with_history(200, items)
    stats = population_stats(now=NOW)

    assert queries_to_compute(few, stats) == queries_to_compute(many, stats) <= 12
