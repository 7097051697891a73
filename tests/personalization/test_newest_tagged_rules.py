"""A newest-tagged rule: the newest live items with its tags, read once while they stay the same."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from content.models import ContentItem, SlotRule
from personalization.decisions import candidates
from personalization.decisions.engine import decide
from tests.factories import (
    ContentItemFactory,
    SlotFactory,
    SlotRuleFactory,
    TagFactory,
    VisitorFactory,
    grant,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def sports():
    return TagFactory(name="Sports", slug="sports")


@pytest.fixture
def latest(sports):
    """Up to three of the newest sports items; a house ad when there are none."""
    slot = SlotFactory(
        key="latest", max_items=3, default_items=[ContentItemFactory(title="House ad")]
    )
    rule = SlotRuleFactory(slot=slot, condition={}, strategy=SlotRule.Strategy.NEWEST_TAGGED)
    rule.tags.set([sports])
    return slot


def reader():
    visitor = VisitorFactory()
    grant(visitor, "analytics", "personalization")
    return visitor


def item(title: str, tags, *, hours_ago: float = 0, **fields) -> ContentItem:
    return ContentItemFactory(
        title=title, tags=tags, publish_at=timezone.now() - timedelta(hours=hours_ago), **fields
    )


def titles(slot_key: str, visitor, now=None) -> list[str]:
    return [i.title for i in decide(slot_key, visitor, {}, now=now).items]


def test_the_rule_shows_the_newest_items_with_the_tag_or_a_tag_below_it(latest, sports):
    football = TagFactory(name="Football", slug="football", parent=sports)
    item("Cup final", [football], hours_ago=1)
    item("Marathon", [sports], hours_ago=3)
    item("Derby", [football], hours_ago=2)
    item("Old race", [sports], hours_ago=9)
    item("Recipes", [TagFactory(name="Food", slug="food")], hours_ago=0)

    assert titles("latest", reader()) == ["Cup final", "Derby", "Marathon"]


def test_deciding_for_more_visitors_reads_the_items_no_more(latest, sports):
    item("Cup final", [sports], hours_ago=1)
    first, *others = [reader() for _ in range(5)]
    titles("latest", first)

    with CaptureQueriesContext(connection) as queries:
        shown = [titles("latest", visitor) for visitor in others]

    assert shown == [["Cup final"]] * 4
    table = ContentItem._meta.db_table
    assert not [q["sql"] for q in queries.captured_queries if f'"{table}"' in q["sql"]]


def test_an_item_scheduled_for_later_shows_once_its_time_has_come(latest, sports):
    item("Cup final", [sports], hours_ago=1)
    item("Transfer news", [sports], hours_ago=-2)  # goes live in two hours
    visitor = reader()
    now = timezone.now()

    before = titles("latest", visitor, now=now)
    after = titles("latest", visitor, now=now + timedelta(hours=3))

    assert (before, after) == (["Cup final"], ["Transfer news", "Cup final"])


def test_an_item_leaves_the_list_when_it_expires(latest, sports):
    item("Cup final", [sports], hours_ago=1)
    item("Flash sale", [sports], hours_ago=0.5, expire_at=timezone.now() + timedelta(hours=1))
    visitor = reader()
    now = timezone.now()

    before = titles("latest", visitor, now=now)
    after = titles("latest", visitor, now=now + timedelta(hours=2))

    assert (before, after) == (["Flash sale", "Cup final"], ["Cup final"])


def test_a_decision_for_an_earlier_time_does_not_use_the_list_read_for_a_later_one(latest, sports):
    item("Cup final", [sports], hours_ago=1)
    item("Marathon", [sports], hours_ago=48)
    visitor = reader()
    now = timezone.now()

    titles("latest", visitor, now=now)

    assert titles("latest", visitor, now=now - timedelta(hours=24)) == ["Marathon"]


def test_an_item_published_after_the_list_was_read_shows_in_the_next_decision(latest, sports):
    item("Cup final", [sports], hours_ago=1)
    visitor = reader()
    titles("latest", visitor)

    item("Breaking", [sports])

    assert titles("latest", visitor) == ["Breaking", "Cup final"]


def test_tagging_an_item_after_the_list_was_read_puts_it_in_the_next_decision(latest, sports):
    item("Cup final", [sports], hours_ago=1)
    untagged = item("Derby", [], hours_ago=0.5)
    visitor = reader()
    titles("latest", visitor)

    untagged.tags.add(sports)

    assert titles("latest", visitor) == ["Derby", "Cup final"]


def test_without_live_items_with_the_tag_the_slot_shows_its_default(latest, sports):
    item("Draft", [sports], status=ContentItem.Status.DRAFT)

    decision = decide("latest", reader(), {})

    assert ([i.title for i in decision.items], decision.reason) == (["House ad"], "default")


def test_a_process_keeps_no_more_lists_than_its_bound(monkeypatch):
    monkeypatch.setattr(candidates, "REMEMBERED", 2)
    monkeypatch.setattr(candidates, "_remembered", {})
    now = timezone.now()

    for slug in ("sports", "food", "travel"):
        candidates.newest_tagged((TagFactory(name=slug.title(), slug=slug).slug,), now)

    assert len(candidates._remembered) <= 2
