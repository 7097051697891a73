"""explain_condition says which part of a condition failed, and always agrees with evaluation."""

from typing import Any

import pytest

from personalization.rules import evaluate_condition
from personalization.rules.explain import explain_condition

VISITOR = {
    "device": "mobile",
    "lifecycle": "new",
    "sessions_30d": 5,
    "affinity": {"football": 0.8},
    "favourite_kinds": ["article", "product"],
    "segments": {"vip"},
    "known": False,
}


def nodes(tree: dict[str, Any]) -> list[dict[str, Any]]:
    """Every node of an explanation tree, depth first."""
    found = [tree]
    for child in tree.get("children", []):
        found.extend(nodes(child))
    return found


def by_path(tree: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {node["path"]: node for node in nodes(tree)}


def test_a_single_field_is_one_node_with_the_value_seen():
    explanation = explain_condition({"device": "desktop"}, VISITOR)

    assert explanation["matched"] is False
    assert explanation["first_failure"] == "device"
    assert explanation["tree"] == {
        "path": "device",
        "kind": "field",
        "matched": False,
        "attribute": "device",
        "test": "desktop",
        "found": True,
        "value": "mobile",
    }


def test_an_and_group_names_its_first_failing_entry():
    condition = {"$and": [{"device": "mobile"}, {"sessions_30d": {"$gte": 10}}, {"known": True}]}

    explanation = explain_condition(condition, VISITOR)

    tree = explanation["tree"]
    assert explanation["matched"] is False
    assert (tree["kind"], tree["path"]) == ("and", "$and")
    # Paths read like validate_condition's: an entry's only key joins the entry's index.
    assert [(c["path"], c["matched"]) for c in tree["children"]] == [
        ("$and[0].device", True),
        ("$and[1].sessions_30d", False),
        ("$and[2].known", False),
    ]
    assert tree["children"][1]["value"] == 5
    assert explanation["first_failure"] == "$and[1].sessions_30d"


def test_several_keys_make_an_all_node_and_fields_join_their_prefix():
    condition = {"device": "mobile", "$and": [{"lifecycle": "engaged"}]}

    explanation = explain_condition(condition, VISITOR)

    tree = explanation["tree"]
    assert (tree["kind"], tree["path"], tree["matched"]) == ("all", "(condition)", False)
    assert [child["path"] for child in tree["children"]] == ["device", "$and"]
    assert tree["children"][1]["children"][0]["path"] == "$and[0].lifecycle"
    assert explanation["first_failure"] == "$and[0].lifecycle"


def test_an_or_group_that_fails_is_itself_the_failing_part():
    condition = {"device": "mobile", "$or": [{"lifecycle": "engaged"}, {"sessions_30d": 9}]}

    explanation = explain_condition(condition, VISITOR)

    nodes_at = by_path(explanation["tree"])
    assert nodes_at["$or"]["matched"] is False
    assert [c["matched"] for c in nodes_at["$or"]["children"]] == [False, False]
    assert explanation["first_failure"] == "$or"


def test_an_or_group_passes_through_one_branch():
    condition = {"$or": [{"lifecycle": "engaged"}, {"sessions_30d": {"$gte": 3}}]}

    explanation = explain_condition(condition, VISITOR)

    assert explanation["matched"] is True
    assert explanation["first_failure"] is None
    assert [c["matched"] for c in explanation["tree"]["children"]] == [False, True]


def test_not_lists_the_negated_keys_with_their_own_results():
    condition = {"$not": {"device": "mobile", "known": True}}

    explanation = explain_condition(condition, VISITOR)

    tree = explanation["tree"]
    assert (tree["kind"], tree["matched"]) == ("not", True)
    assert [(c["path"], c["matched"]) for c in tree["children"]] == [
        ("$not.device", True),
        ("$not.known", False),
    ]


def test_a_failed_not_is_the_failing_part():
    explanation = explain_condition({"$not": {"device": "mobile"}}, VISITOR)

    assert explanation["matched"] is False
    assert explanation["first_failure"] == "$not"


def test_nested_groups_point_at_the_deepest_first_failure():
    condition = {
        "$and": [
            {"device": "mobile"},
            {"$and": [{"affinity.football": {"$gte": 0.5}}, {"favourite_kinds": {"$all": ["x"]}}]},
        ]
    }

    explanation = explain_condition(condition, VISITOR)

    nodes_at = by_path(explanation["tree"])
    assert nodes_at["$and[1].$and[0].affinity.football"]["value"] == 0.8
    assert explanation["first_failure"] == "$and[1].$and[1].favourite_kinds"


def test_a_missing_attribute_is_reported_as_not_found():
    explanation = explain_condition({"traits.plan": "pro"}, VISITOR)

    tree = explanation["tree"]
    assert (tree["found"], tree["value"], tree["matched"]) == (False, None, False)


def test_a_missing_attribute_can_still_match_a_test_for_absence():
    explanation = explain_condition({"coupon": {"$exists": False}}, VISITOR)

    assert explanation["matched"] is True
    assert explanation["tree"]["found"] is False


def test_several_operators_on_one_field_are_judged_one_by_one():
    explanation = explain_condition({"sessions_30d": {"$gte": 3, "$lt": 5}}, VISITOR)

    assert explanation["tree"]["operators"] == [
        {"operator": "$gte", "argument": 3, "matched": True},
        {"operator": "$lt", "argument": 5, "matched": False},
    ]


def test_in_segment_shows_the_segments_seen():
    explanation = explain_condition({"$inSegment": "vip"}, VISITOR)

    tree = explanation["tree"]
    assert (tree["kind"], tree["segment"], tree["matched"]) == ("segment", "vip", True)
    assert tree["value"] == {"vip"}


def test_array_paths_are_read_like_evaluation_reads_them():
    explanation = explain_condition(
        {"favourite_kinds.length": 2, "favourite_kinds.1": "product"}, VISITOR
    )

    assert [(c["value"], c["matched"]) for c in explanation["tree"]["children"]] == [
        (2, True),
        ("product", True),
    ]


def test_an_unknown_operator_at_the_condition_level_never_matches():
    explanation = explain_condition({"$whatever": 1}, VISITOR)

    assert explanation["tree"]["kind"] == "unknown"
    assert explanation["matched"] is False


def test_a_condition_that_is_not_an_object_fails_as_a_whole():
    explanation = explain_condition(["device"], VISITOR)

    assert explanation["tree"]["kind"] == "invalid"
    assert explanation["first_failure"] == "(condition)"


def test_an_empty_condition_matches_everyone():
    explanation = explain_condition({}, VISITOR)

    assert explanation["matched"] is True
    assert explanation["tree"]["kind"] == "all"


def test_a_malformed_part_fails_the_whole_condition_even_when_other_parts_pass():
    explanation = explain_condition({"device": "mobile", "$and": 5}, VISITOR)

    assert explanation["matched"] is False
    assert explanation["first_failure"] == "$and"


CONSISTENCY_CASES: list[Any] = [
    {"device": "mobile"},
    {"device": {"$in": ["tablet", "desktop"]}},
    {"$or": [{"device": "desktop"}, {"$not": {"lifecycle": "dormant"}}]},
    {"$nor": [{"device": "desktop"}, {"known": True}]},
    {"$and": [{"sessions_30d": {"$gt": 1}}, {"$or": [{"a": 1}, {"$inSegment": "vip"}]}]},
    {"$not": {"$and": [{"device": "mobile"}, {"sessions_30d": {"$unknown": 1}}]}},
    {"$or": [{"x": {"$unknownOp": 1}}, {"device": "mobile"}]},
    {"favourite_kinds": {"$elemMatch": {"$eq": "article"}}},
    {"affinity": {"football": 0.8}},
    {"$or": [{"device": "mobile"}, {"$and": "oops"}]},
    {"sessions_30d": {"$gte": 1, "$lte": 4}, "$not": {"$inSegment": "gold"}},
]


@pytest.mark.parametrize("condition", CONSISTENCY_CASES)
def test_every_node_agrees_with_evaluate_condition(condition: Any):
    explanation = explain_condition(condition, VISITOR)

    assert explanation["matched"] is evaluate_condition(condition, VISITOR)
    assert explanation["tree"]["matched"] is evaluate_condition(condition, VISITOR)
    and_node = by_path(explanation["tree"]).get("$and")
    if and_node is not None:
        for item, node in zip(condition["$and"], and_node["children"], strict=True):
            assert node["matched"] is evaluate_condition(item, VISITOR)
    if explanation["matched"]:
        assert explanation["first_failure"] is None
    else:
        assert explanation["first_failure"] in by_path(explanation["tree"])
