"""The events API checks plain events without the serializer: whatever it accepts, it reads
exactly as the serializer does, and everything else is left to the serializer's messages."""

from datetime import UTC, datetime

import pytest

from personalization.visitors.api import EventSerializer
from personalization.visitors.event_input import event_plain

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)
BASE = {"event_id": "e-1", "visitor_id": "crm-1", "type": "view", "occurred_at": 1748779200}

PLAIN = [
    BASE,
    {**BASE, "item_id": "sku-1", "value": "49.90"},
    {**BASE, "item_id": None, "value": None},
    {**BASE, "value": 12},
    {**BASE, "value": "-0.0001", "type": "add_to_cart"},
    {**BASE, "value": "9999999999.9999"},
    {**BASE, "properties": {"path": "/shop", "n": [1, 2, {"a": None}]}},
    {**BASE, "occurred_at": "2025-05-01T12:00:00Z", "unknown": "ignored"},
    {"type": "my-own_type", "occurred_at": "2025-05-01T12:00:00+02:00"},
]
NOT_PLAIN = [
    {**BASE, "event_id": " e-1"},
    {**BASE, "event_id": ""},
    {**BASE, "event_id": 42},
    {**BASE, "event_id": None},
    {**BASE, "event_id": "x" * 101},
    {**BASE, "visitor_id": "a\x00b"},
    {**BASE, "visitor_id": "\ud800"},
    {**BASE, "type": "not a slug"},
    {**BASE, "type": "x" * 51},
    {**BASE, "type": None},
    {key: value for key, value in BASE.items() if key != "type"},
    {**BASE, "value": 1.5},
    {**BASE, "value": "1.00000"},
    {**BASE, "value": "12345678901"},
    {**BASE, "value": "NaN"},
    {**BASE, "value": " 3"},
    {**BASE, "value": True},
    {**BASE, "value": ""},
    {**BASE, "value": 10**10},
    {**BASE, "properties": []},
    {**BASE, "properties": None},
    {**BASE, "properties": {"blob": "x" * 11_000}},
    {**BASE, "occurred_at": "yesterday"},
    {**BASE, "occurred_at": None},
    {**BASE, "occurred_at": "2030-01-01T00:00:00Z"},
]


@pytest.mark.parametrize("data", PLAIN)
def test_a_plain_event_reads_exactly_as_the_serializer_reads_it(data):
    expected = dict(EventSerializer().run_validation(data))

    assert event_plain(data, now=NOW) == expected


@pytest.mark.parametrize("data", NOT_PLAIN)
def test_anything_but_a_plain_event_is_left_to_the_serializer(data):
    assert event_plain(data, now=NOW) is None


def test_an_event_without_a_time_is_stamped_with_the_time_it_arrived():
    assert event_plain({"type": "view"}, now=NOW) == {
        "type": "view", "properties": {}, "occurred_at": NOW
    }  # fmt: skip
