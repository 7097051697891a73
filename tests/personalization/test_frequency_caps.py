from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
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


def capped(key: str, *, default: str, item: str):
    """A slot showing `item` at most 2 times to a visitor in 7 days, and `default` after that."""
    slot = SlotFactory(
        key=key, frequency_cap=2, frequency_cap_days=7,
        default_items=[ContentItemFactory(title=default)],
    )  # fmt: skip
    SlotRuleFactory(slot=slot, condition={}, items=[ContentItemFactory(title=item)])
    return slot


@pytest.fixture
def capped_slot():
    return capped("offer", default="Everyday offer", item="Spring sale")


@pytest.fixture
def visitor():
    visitor = VisitorFactory()
    grant(visitor, "analytics", "personalization")
    return visitor


@pytest.fixture
def second_capped_slot(capped_slot):
    """Another slot capped over the same week, with its own item and default."""
    return capped("second-offer", default="Second everyday offer", item="Summer sale")


def shown(visitor, title: str, days_ago: float, times: int = 1, slot: str = "offer") -> None:
    item = ContentItem.objects.get(title=title)
    for _ in range(times):
        Impression.objects.create(
            visitor=visitor, item=item, slot=slot,
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


def impression_reads(queries: CaptureQueriesContext) -> int:
    table = Impression._meta.db_table
    return sum(
        q["sql"].lstrip().startswith("SELECT") and table in q["sql"]
        for q in queries.captured_queries
    )


@pytest.mark.django_db
def test_a_page_with_two_capped_slots_of_one_window_counts_impressions_once(
    second_capped_slot, visitor, client, settings
):
    settings.ROOT_URLCONF = "tests.personalization.urls_offer"
    with_visitor_cookie(client, visitor)
    client.get("/offers", HTTP_USER_AGENT=BROWSER)  # the visitor's first page makes their row

    with CaptureQueriesContext(connection) as queries:
        client.get("/offers", HTTP_USER_AGENT=BROWSER)

    assert impression_reads(queries) == 1


@pytest.mark.django_db
def test_each_capped_slot_of_a_page_gives_way_only_for_its_own_capped_item(
    second_capped_slot, visitor, client, settings
):
    settings.ROOT_URLCONF = "tests.personalization.urls_offer"
    shown(visitor, "Summer sale", days_ago=1, times=2, slot="second-offer")
    with_visitor_cookie(client, visitor)

    page = client.get("/offers", HTTP_USER_AGENT=BROWSER).content.decode()

    shows = [t for t in ["Spring sale", "Everyday offer", "Summer sale", "Second everyday offer"]
             if t in page]  # fmt: skip
    assert shows == ["Spring sale", "Second everyday offer"]
