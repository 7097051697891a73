from datetime import timedelta

import pytest
from django.utils import timezone

from content.models import ContentItem
from personalization.decisions.engine import decide
from personalization.visitors.models import Impression
from tests.factories import (
    ContentItemFactory,
    SlotFactory,
    SlotRuleFactory,
    VisitorFactory,
    grant,
)
from tests.personalization.test_page_views import BROWSER, with_visitor_cookie


@pytest.fixture
def capped_slot():
    """At most 2 impressions of an item to a visitor in 7 days; the default after that."""
    slot = SlotFactory(
        key="offer", frequency_cap=2, frequency_cap_days=7,
        default_items=[ContentItemFactory(title="Everyday offer")],
    )  # fmt: skip
    SlotRuleFactory(slot=slot, condition={}, items=[ContentItemFactory(title="Spring sale")])
    return slot


@pytest.fixture
def visitor():
    visitor = VisitorFactory()
    grant(visitor, "analytics", "personalization")
    return visitor


def shown(visitor, title: str, days_ago: float, times: int = 1) -> None:
    item = ContentItem.objects.get(title=title)
    for _ in range(times):
        Impression.objects.create(
            visitor=visitor, item=item, slot="offer",
            shown_at=timezone.now() - timedelta(days=days_ago),
        )  # fmt: skip


@pytest.mark.django_db
def test_an_item_under_its_cap_is_still_shown(capped_slot, visitor):
    shown(visitor, "Spring sale", days_ago=1)

    assert [i.title for i in decide("offer", visitor, {}).items] == ["Spring sale"]


@pytest.mark.django_db
def test_an_item_shown_as_often_as_the_cap_allows_gives_way_to_the_default(capped_slot, visitor):
    shown(visitor, "Spring sale", days_ago=1, times=2)

    decision = decide("offer", visitor, {})

    assert [i.title for i in decision.items] == ["Everyday offer"]
    assert decision.reason == "default"


@pytest.mark.django_db
def test_impressions_older_than_the_cap_window_do_not_count(capped_slot, visitor):
    shown(visitor, "Spring sale", days_ago=8, times=5)

    assert [i.title for i in decide("offer", visitor, {}).items] == ["Spring sale"]


@pytest.mark.django_db
def test_a_page_records_one_impression_per_capped_item_shown(
    capped_slot, visitor, client, settings
):
    settings.ROOT_URLCONF = "tests.personalization.urls_offer"

    with_visitor_cookie(client, visitor)
    for _ in range(3):
        client.get("/offer", HTTP_USER_AGENT=BROWSER)

    assert Impression.objects.filter(visitor=visitor, item__title="Spring sale").count() == 2
    assert "Everyday offer" in client.get("/offer", HTTP_USER_AGENT=BROWSER).content.decode()
