"""A batch of buffered impressions keeps every visitor's rows when one visitor was erased."""

import pytest

from personalization.visitors.models import Impression
from personalization.visitors.services import IMPRESSIONS, impressions_record
from tests.factories import ContentItemFactory, VisitorFactory


@pytest.mark.django_db(transaction=True)
def test_impressions_of_an_erased_visitor_are_dropped_and_the_rest_of_the_batch_is_stored(
    settings,
):
    settings.TAILOR_WRITE_BUFFER_SIZE = 100
    settings.TAILOR_WRITE_BUFFER_SECONDS = 60
    item = ContentItemFactory()
    first, erased, last = VisitorFactory(), VisitorFactory(), VisitorFactory()
    impressions_record(rows=[(v.pk, item.pk, "homepage-hero") for v in (first, erased, last)])
    erased.delete()

    IMPRESSIONS.flush()

    assert set(Impression.objects.values_list("visitor_id", flat=True)) == {first.pk, last.pk}
