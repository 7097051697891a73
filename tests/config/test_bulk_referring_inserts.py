"""`tuples_insert_referring` inserts rows whose foreign keys hold, or nothing (on PostgreSQL)."""

import pytest
from django.utils import timezone

from config.bulk import tuples_insert_referring
from personalization.visitors.models import Impression, Visitor
from tests.factories import ContentItemFactory, VisitorFactory

pytestmark = pytest.mark.django_db
FIELDS = ("visitor_id", "item_id", "slot", "shown_at", "rule_id", "reason", "counts_for_cap")


def impression(visitor_id: int, item_id: int) -> tuple:
    return (visitor_id, item_id, "hero", timezone.now(), None, "default", True)


def test_rows_that_all_refer_to_stored_rows_are_inserted():
    visitor, item = VisitorFactory(), ContentItemFactory()

    inserted = tuples_insert_referring(Impression, FIELDS, [impression(visitor.pk, item.pk)])

    assert inserted is True
    assert Impression.objects.filter(visitor=visitor, item=item).count() == 1


def test_one_row_referring_to_a_missing_row_leaves_the_whole_batch_out_and_the_transaction_usable():
    visitor, item = VisitorFactory(), ContentItemFactory()
    missing = (Visitor.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    rows = [impression(visitor.pk, item.pk), impression(missing, item.pk)]

    inserted = tuples_insert_referring(Impression, FIELDS, rows)

    assert inserted is False
    assert not Impression.objects.exists()
    VisitorFactory()  # the surrounding transaction goes on, its foreign keys deferred again
