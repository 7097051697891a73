from datetime import timedelta

import pytest
from django.utils import timezone

from content.models import ContentItem
from content.selectors import items_published
from tests.factories import ContentItemFactory


@pytest.fixture
def scheduled_item():
    now = timezone.now()
    return ContentItemFactory(
        publish_at=now + timedelta(hours=1), expire_at=now + timedelta(hours=3)
    )


@pytest.mark.django_db
def test_an_item_scheduled_for_later_is_not_shown_yet(scheduled_item):
    assert scheduled_item not in items_published()


@pytest.mark.django_db
def test_a_scheduled_item_shows_once_its_time_comes(scheduled_item):
    later = timezone.now() + timedelta(hours=2)

    assert scheduled_item in items_published(now=later)


@pytest.mark.django_db
def test_an_item_disappears_after_it_expires(scheduled_item):
    after_expiry = timezone.now() + timedelta(hours=3, seconds=1)

    assert scheduled_item not in items_published(now=after_expiry)


@pytest.mark.django_db
def test_drafts_and_archived_items_are_never_shown():
    ContentItemFactory(status=ContentItem.Status.DRAFT)
    ContentItemFactory(status=ContentItem.Status.ARCHIVED)

    assert not items_published().exists()


@pytest.mark.django_db
def test_a_locale_shows_its_own_items_its_language_and_items_for_everyone():
    everyone = ContentItemFactory(locale="")
    german = ContentItemFactory(locale="de")
    swiss = ContentItemFactory(locale="de-CH")
    french = ContentItemFactory(locale="fr")

    shown = set(items_published(locale="de-CH"))

    assert shown == {everyone, german, swiss}
    assert french not in shown
