"""Conditions in plain words: every operator of the language reads as a phrase."""

import pytest

from personalization.rules.summary import condition_summary


@pytest.mark.parametrize(
    ("condition", "words"),
    [
        ({}, "everyone"),
        ({"device": "mobile"}, "device is mobile"),
        ({"logged_in": True}, "logged in is true"),
        ({"referrer_host": None}, "referrer host is empty"),
        ({"device": {"$eq": "tablet"}}, "device is tablet"),
        ({"device": {"$ne": "bot"}}, "device is not bot"),
        ({"engagement": {"$gt": 0.5}}, "engagement is more than 0.5"),
        ({"engagement": {"$gte": 0.5}}, "engagement is 0.5 or more"),
        ({"recency_days": {"$lt": 7}}, "recency days is less than 7"),
        ({"recency_days": {"$lte": 7}}, "recency days is at most 7"),
        ({"country": {"$in": ["DE", "AT", "CH"]}}, "country is DE, AT or CH"),
        ({"country": {"$nin": ["US"]}}, "country is not US"),
        ({"browser": {"$ini": ["chrome", "edge"]}}, "browser is chrome or edge (any case)"),
        ({"browser": {"$nini": ["safari"]}}, "browser is not safari (any case)"),
        ({"favourite_kinds": {"$all": ["product", "article"]}},
         "favourite kinds has all of product and article"),
        ({"favourite_kinds": {"$alli": ["Product"]}},
         "favourite kinds has all of Product (any case)"),
        ({"favourite_kinds": {"$elemMatch": {"$eq": "article"}}},
         "favourite kinds has an element that is article"),
        ({"traits.orders": {"$elemMatch": {"total": {"$gt": 100}}}},
         "traits.orders has an element where total is more than 100"),
        ({"favourite_kinds": {"$size": 2}}, "favourite kinds has 2 elements"),
        ({"favourite_kinds": {"$size": {"$gte": 1}}},
         "the number of favourite kinds is 1 or more"),
        ({"traits.plan": {"$exists": True}}, "traits.plan is set"),
        ({"traits.plan": {"$exists": False}}, "traits.plan is not set"),
        ({"traits.plan": {"$type": "string"}}, "traits.plan is of type string"),
        ({"path": {"$regex": "^/shoes/"}}, "path matches ^/shoes/"),
        ({"path": {"$regexi": "sale"}}, "path matches sale (any case)"),
        ({"path": {"$notRegex": "^/admin"}}, "path does not match ^/admin"),
        ({"path": {"$notRegexi": "test"}}, "path does not match test (any case)"),
        ({"traits.app": {"$veq": "2.1.0"}}, "traits.app is version 2.1.0"),
        ({"traits.app": {"$vne": "2.1.0"}}, "traits.app is not version 2.1.0"),
        ({"traits.app": {"$vgt": "2.1.0"}}, "traits.app is a version after 2.1.0"),
        ({"traits.app": {"$vgte": "2.1.0"}}, "traits.app is version 2.1.0 or later"),
        ({"traits.app": {"$vlt": "2.1.0"}}, "traits.app is a version before 2.1.0"),
        ({"traits.app": {"$vlte": "2.1.0"}}, "traits.app is version 2.1.0 or earlier"),
        ({"device": {"$not": {"$eq": "mobile"}}}, "not (device is mobile)"),
        ({"$inSegment": "vip"}, "in segment vip"),
        ({"$and": [{"device": "mobile"}, {"country": "DE"}]}, "device is mobile and country is DE"),
        ({"$or": [{"device": "mobile"}, {"device": "tablet"}]},
         "device is mobile or device is tablet"),
        ({"$nor": [{"device": "bot"}, {"is_bot": True}]},
         "none of (device is bot; is bot is true)"),
        ({"$not": {"$inSegment": "vip"}}, "not (in segment vip)"),
    ],
)  # fmt: skip
def test_each_operator_reads_as_plain_words(condition, words):
    assert condition_summary(condition) == words


@pytest.mark.parametrize(
    ("condition", "words"),
    [
        ({"visit_count": {"$gte": 3}}, "visited 3+ times"),
        ({"visit_count": {"$gte": 1}}, "visited 1+ time"),
        ({"sessions_30d": {"$gt": 2}}, "visited more than 2 times in the last 30 days"),
        ({"sessions_7d": {"$lt": 2}}, "visited fewer than 2 times in the last 7 days"),
        ({"visit_count": {"$lte": 1}}, "visited at most 1 time"),
        ({"visit_count": 1}, "visited exactly 1 time"),
    ],
)
def test_visit_counts_read_as_times_visited(condition, words):
    assert condition_summary(condition) == words


def test_several_tests_and_nested_groups_read_with_parentheses():
    condition = {
        "device": "mobile",
        "visit_count": {"$gte": 3},
        "$or": [{"lifecycle": "engaged"}, {"$inSegment": "vip", "country": "DE"}],
    }

    assert condition_summary(condition) == (
        "device is mobile and visited 3+ times and "
        "(lifecycle is engaged or (in segment vip and country is DE))"
    )


def test_a_range_on_one_attribute_reads_as_both_bounds():
    assert condition_summary({"engagement": {"$gte": 0.2, "$lt": 0.8}}) == (
        "engagement is 0.2 or more and engagement is less than 0.8"
    )


def test_an_unknown_operator_is_shown_rather_than_dropped():
    assert condition_summary({"device": {"$near": "x"}}) == "device $near x"
    assert condition_summary({"$where": "1"}) == '{"$where": "1"}'
