"""The attribute catalogue: unknown attributes and impossible types fail, live ones are known."""

from types import SimpleNamespace
from typing import Any

import pytest

from personalization.rules import ConditionIssue, evaluate_condition
from personalization.rules.attributes import attributes_build
from personalization.rules.catalogue import (
    ATTRIBUTE_KEYS,
    ATTRIBUTES,
    CONTEXT_KEYS,
    SOURCES,
    TYPES,
    attribute_for,
    catalogue_check,
    condition_is_live,
)


def errors(condition: Any) -> list[str]:
    return [str(issue) for issue in catalogue_check(condition)[0]]


def warnings(condition: Any) -> list[str]:
    return [str(issue) for issue in catalogue_check(condition)[1]]


def test_every_attribute_has_a_type_a_source_a_description_and_an_example():
    for attribute in ATTRIBUTES:
        assert attribute.type in TYPES, attribute.name
        assert attribute.source in SOURCES, attribute.name
        assert attribute.description and attribute.example is not None, attribute.name


def test_the_attribute_dict_has_exactly_the_documented_top_level_keys():
    assert ATTRIBUTE_KEYS == (
        "device", "browser", "os", "is_bot", "referrer_host", "utm_source", "utm_medium",
        "utm_campaign", "utm_term", "utm_content", "country", "hour", "weekday", "logged_in",
        "path", "session", "visit_count", "visitor_id", "known", "traits", "event_count",
        "recency_days", "sessions_7d", "sessions_30d", "sessions_90d", "monetary_90d",
        "r_score", "f_score", "m_score", "rfm", "lifecycle", "engagement", "favourite_kinds",
        "affinity", "segments", "clusters", "scores", "consent", "experiment",
    )  # fmt: skip


def test_context_attributes_are_live_and_stored_ones_are_not():
    live = {a.name for a in ATTRIBUTES if a.live}
    assert set(CONTEXT_KEYS) <= live
    stored = {"lifecycle", "traits.country", "consent.<purpose>", "segments", "visit_count"}
    assert stored.isdisjoint(live)


def test_attributes_build_gives_every_key_and_defaults_for_a_visitor_without_features():
    visitor = SimpleNamespace(
        sessions=3, identifier="crm-1", external_id="crm-1", user_id=None, traits={"plan": "pro"}
    )

    attributes = attributes_build(
        visitor=visitor, features=None, consent={"marketing": True}, segments={"vip"},
        context={"device": "mobile"},
    )  # fmt: skip

    assert tuple(attributes) == ATTRIBUTE_KEYS
    assert attributes["device"] == "mobile" and attributes["hour"] is None
    assert attributes["visit_count"] == 3 and attributes["known"] is True
    assert attributes["event_count"] == 0 and attributes["lifecycle"] == "new"
    assert evaluate_condition({"traits.plan": "pro", "consent.marketing": True}, attributes)


@pytest.mark.parametrize(
    ("path", "name", "kind"),
    [
        ("device", "device", "string"),
        ("traits.country", "traits.country", "string"),
        ("traits.plan", "traits.<name>", "any"),
        ("traits.address.city", "traits.<name>", "any"),
        ("affinity.running", "affinity.<tag>", "number"),
        ("consent.marketing", "consent.<purpose>", "boolean"),
        ("experiment.hero-test", "experiment.<key>", "number"),
        ("favourite_kinds.0", "favourite_kinds", "string"),
        ("favourite_kinds.length", "favourite_kinds", "number"),
    ],
)
def test_attribute_for_finds_names_patterns_and_paths_into_them(path, name, kind):
    attribute, found = attribute_for(path)

    assert attribute is not None and (attribute.name, found) == (name, kind)


def test_an_unknown_attribute_is_an_error_naming_its_path_and_a_close_attribute():
    condition = {"$and": [{"device": "mobile"}, {"visits": {"$gte": 3}}]}

    assert errors(condition) == [
        "$and[1].visits: unknown attribute visits: not in the catalogue; did you mean visit_count?"
    ]
    assert warnings(condition) == []


def test_an_unknown_attribute_nothing_resembles_is_an_error_without_a_suggestion():
    assert errors({"zzqx": 1}) == ["zzqx: unknown attribute zzqx: not in the catalogue"]


def test_a_number_attribute_compared_with_text_is_an_error_naming_the_path():
    condition = {"$and": [{"device": "mobile"}, {"sessions_30d": {"$gte": "3"}}]}

    assert errors(condition) == ["$and[1].sessions_30d: $gte needs a number"]
    assert catalogue_check(condition)[0] == [
        ConditionIssue("$and[1].sessions_30d", "$gte needs a number")
    ]


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ({"device": 3}, 'device: needs a string, like "mobile"'),
        ({"is_bot": "no"}, "is_bot: needs a boolean, like false"),
        ({"lifecycle": {"$eq": 1}}, '$eq needs a string, like "active"'),
        ({"hour": {"$in": [9, "10"]}}, '$in needs numbers, not "10"'),
        ({"favourite_kinds": {"$in": ["product", 3]}}, "$in needs strings, not 3"),
        ({"hour": {"$ini": ["9"]}}, "$ini compares text, and hour is a number"),
        ({"device": {"$size": 2}}, "$size needs an array, and device is a string"),
        ({"sessions_7d": {"$regex": "^1"}}, "$regex needs a string, and sessions_7d is a number"),
        ({"logged_in": {"$gt": 0}}, "$gt never matches a boolean"),
        ({"country": {"$type": "number"}}, "$type number never matches: country is a string"),
        ({"affinity.running": {"$gte": "0.5"}}, "$gte needs a number"),
        ({"consent.marketing": "yes"}, "needs a boolean"),
        ({"$or": [{"$not": {"weekday": {"$not": {"$lt": "6"}}}}]}, "$lt needs a number"),
    ],
)
def test_values_that_can_never_match_their_attribute_are_errors(condition, message):
    found = errors(condition)

    assert len(found) == 1 and message in found[0]


@pytest.mark.parametrize(
    "condition",
    [
        {"device": {"$in": ["mobile", "tablet"]}, "hour": {"$gte": 18, "$lt": 23}},
        {"country": None, "referrer_host": {"$exists": True}},
        {"lifecycle": {"$ne": "dormant"}, "monetary_90d": {"$gt": 100.5}},
        {"traits.plan": 3, "traits.tags": {"$size": 2}},
        {"favourite_kinds": {"$elemMatch": {"$eq": "product"}}},
        {"experiment.hero": 1, "consent.marketing": True, "affinity": {}},
        {"device": {"$type": "null"}},
    ],
)
def test_values_of_the_right_type_pass(condition):
    assert errors(condition) == []


def test_a_value_outside_the_known_choices_is_a_warning():
    assert errors({"lifecycle": "vip"}) == []
    assert warnings({"lifecycle": "vip"}) == [
        'lifecycle: "vip" is not a known lifecycle; one of: new, engaged, active, at_risk, dormant'
    ]


def test_reading_segments_as_a_value_warns_to_use_in_segment():
    assert errors({"segments": {"$in": ["vip"]}}) == []
    assert warnings({"segments": {"$in": ["vip"]}}) == [
        'segments: segments answers only $inSegment: write {"$inSegment": "key"}'
    ]


def test_a_path_into_a_plain_value_is_an_error():
    assert errors({"device.family": "x"}) == [
        "device.family: device.family is never set: device is a string"
    ]


@pytest.mark.parametrize(
    ("condition", "live"),
    [
        ({"device": "mobile"}, True),
        ({"lifecycle": "active", "$or": [{"sessions_30d": 1}, {"utm_source": "mail"}]}, True),
        ({"$not": {"hour": {"$gte": 18}}}, True),
        ({"experiment.hero": 1}, True),
        ({"lifecycle": "active", "traits.country": "DE"}, False),
        ({"consent.marketing": True, "$inSegment": "vip"}, False),
        ({"unknown": 1}, False),
        ({}, False),
        ("not a condition", False),
    ],
)
def test_condition_is_live_when_it_reads_the_request(condition, live):
    assert condition_is_live(condition) is live
