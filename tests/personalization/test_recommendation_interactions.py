"""The interaction matrix: event weights, time decay, consent and merged profiles."""

import math
from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from personalization.recommendations.algorithms.interactions import interactions_load
from tests.factories.content import ContentItemFactory
from tests.factories.personalization import EventFactory, VisitorFactory, grant

pytestmark = pytest.mark.django_db
WEIGHTS = {"view": 1.0, "purchase": 8.0}


def consenting_visitor(**fields):
    visitor = VisitorFactory(**fields)
    grant(visitor, "analytics", "personalization")
    return visitor


def cell(data, visitor, item) -> float:
    row = int(np.flatnonzero(data.visitor_ids == visitor.pk)[0])
    col = int(np.flatnonzero(data.item_ids == item.pk)[0])
    return float(data.matrix[row, col])


def test_a_purchase_weighs_more_than_a_view_and_cells_hold_log_of_the_sum():
    now = timezone.now()
    visitor = consenting_visitor()
    viewed, bought = ContentItemFactory(), ContentItemFactory()
    EventFactory(visitor=visitor, item=viewed, type="view", occurred_at=now)
    EventFactory(visitor=visitor, item=viewed, type="view", occurred_at=now)
    EventFactory(visitor=visitor, item=bought, type="purchase", occurred_at=now)

    data = interactions_load(now=now, weights=WEIGHTS, half_life_days=30)

    assert cell(data, visitor, viewed) == pytest.approx(math.log1p(2))
    assert cell(data, visitor, bought) == pytest.approx(math.log1p(8))


def test_an_event_one_half_life_old_counts_half():
    now = timezone.now()
    visitor = consenting_visitor()
    item = ContentItemFactory()
    EventFactory(visitor=visitor, item=item, type="purchase", occurred_at=now - timedelta(days=30))

    data = interactions_load(now=now, weights=WEIGHTS, half_life_days=30)

    assert cell(data, visitor, item) == pytest.approx(math.log1p(4), rel=1e-5)


def test_visitors_without_consent_merged_profiles_and_unweighted_types_are_left_out():
    item = ContentItemFactory()
    kept = consenting_visitor()
    refused = VisitorFactory()
    grant(refused, "analytics")
    merged = consenting_visitor(merged_into=kept)
    searcher = consenting_visitor()
    for visitor in (kept, refused, merged):
        EventFactory(visitor=visitor, item=item)
    EventFactory(visitor=searcher, item=item, type="search")

    data = interactions_load(weights=WEIGHTS)

    assert data.visitor_ids.tolist() == [kept.pk]
