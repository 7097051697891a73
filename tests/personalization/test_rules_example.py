"""Values picked to satisfy a condition: the made-up member of a previewed segment."""

import pytest

from personalization.rules import evaluate_condition
from personalization.rules.example import condition_example, example_apply


@pytest.mark.parametrize(
    "condition",
    [
        {"device": "mobile", "visit_count": {"$gte": 3}},
        {"engagement": {"$gt": 0.5}, "recency_days": {"$lt": 7}},
        {"country": {"$in": ["DE", "AT"]}, "traits.plan": "pro"},
        {"$and": [{"lifecycle": "active"}, {"monetary_90d": {"$lte": 100}}]},
        {"$or": [{"device": "tablet"}, {"device": "desktop"}]},
        {"favourite_kinds": {"$all": ["product"]}, "affinity.running": {"$gte": 0.5}},
    ],
)  # fmt: skip
def test_the_picked_values_satisfy_the_condition(condition):
    example = condition_example(condition)

    attributes = example_apply({"traits": {}, "affinity": {}}, example.values)

    assert evaluate_condition(condition, attributes)


def test_segments_named_by_the_condition_are_collected():
    example = condition_example({"$and": [{"$inSegment": "vip"}, {"device": "mobile"}]})

    assert example.segments == {"vip"}
    assert example.values == {"device": "mobile"}


def test_tests_that_picking_cannot_satisfy_are_left_alone():
    example = condition_example({"device": {"$ne": "bot"}, "path": {"$regex": "^/shoes"}})

    assert example.values == {}
