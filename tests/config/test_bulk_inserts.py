"""`rows_insert` writes rows with COPY and gives each its primary key, as `bulk_create` would."""

import pytest
from django.db import IntegrityError
from django.utils import timezone

from config.bulk import rows_insert
from content.models import ContentItem
from tests.factories import ContentItemFactory, ContentKindFactory

pytestmark = pytest.mark.django_db


def new_items(*external_ids: str) -> list[ContentItem]:
    kind = ContentKindFactory(key="bulk-kind")
    now = timezone.now()
    return [
        ContentItem(
            external_id=external_id,
            title=f"Item {external_id}",
            slug=external_id,
            kind=kind,
            metadata={"n": n},
            created_at=now,
            updated_at=now,
        )
        for n, external_id in enumerate(external_ids)
    ]


def test_inserted_rows_get_the_primary_keys_of_their_stored_rows():
    items = new_items("b-2", "a-1", "c-3")

    rows_insert(ContentItem, items, key="external_id")

    stored = dict(ContentItem.objects.values_list("external_id", "pk"))
    assert {item.external_id: item.pk for item in items} == stored
    assert ContentItem.objects.get(pk=items[2].pk).metadata == {"n": 2}
    assert not any(item._state.adding for item in items)


def test_an_insert_that_conflicts_fails_and_stores_nothing():
    ContentItemFactory(external_id="taken", slug="taken-slug")
    items = new_items("fresh", "taken")

    with pytest.raises(IntegrityError):
        rows_insert(ContentItem, items, key="external_id")

    assert not ContentItem.objects.filter(external_id="fresh").exists()
