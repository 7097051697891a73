"""validate_condition says what is wrong and where; condition_segment_keys finds segments."""

from typing import Any

import pytest

from personalization.rules import ConditionIssue, condition_segment_keys, validate_condition


def messages(condition: Any) -> list[str]:
    return [str(issue) for issue in validate_condition(condition)]


VALID_CONDITIONS: list[Any] = [
    {},
    {"device": "mobile"},
    {"visits": {"$gte": 3, "$lt": 10}},
    {"name": {"$gt": "m"}},
    {"tags": ["a", "b"]},
    {"user": {"plan": "pro"}},
    {"country": {"$in": ["DE"], "$nin": []}},
    {"lang": {"$ini": ["de"], "$nini": ["fr"]}},
    {"tags": {"$all": ["a", {"$regex": "^b"}], "$alli": []}},
    {"cart": {"$elemMatch": {"price": {"$gt": 5}}}},
    {"nums": {"$elemMatch": {"$gt": 5}}},
    {"cart": {"$elemMatch": {"$or": [{"sku": "a"}, {"$inSegment": "vip"}]}}},
    {"tags": {"$size": 2}},
    {"tags": {"$size": {"$gte": 1}}},
    {"email": {"$exists": False}},
    {"a": {"$type": "undefined"}},
    {"ua": {"$regex": "(Mobile|Tablet)", "$regexi": "ipad"}},
    {"app": {"$veq": "1.0.0", "$vne": "1", "$vgt": "1", "$vgte": "1", "$vlt": "2", "$vlte": "2"}},
    {"country": {"$not": {"$in": ["DE"]}}},
    {"country": {"$eq": None, "$ne": "DE"}},
    {"$and": [{"a": 1}, {"$or": [{"b": 2}, {"$nor": [{"c": 3}]}]}], "$not": {"d": 4}},
    {"$inSegment": "vip"},
    {"$or": []},
]


@pytest.mark.parametrize("condition", VALID_CONDITIONS)
def test_valid_condition_has_no_issues(condition: Any) -> None:
    assert validate_condition(condition) == []


@pytest.mark.parametrize("condition", [None, [], "device", 5, [{"a": 1}]])
def test_condition_must_be_a_json_object(condition: Any) -> None:
    assert messages(condition) == ["(condition): a condition must be a JSON object"]


@pytest.mark.parametrize("operator", ["$and", "$or", "$nor"])
def test_logical_operators_need_a_list(operator: str) -> None:
    assert messages({operator: {"a": 1}}) == [f"{operator}: {operator} needs a list of conditions"]


def test_logical_operator_entries_must_be_objects() -> None:
    assert messages({"$or": [{"a": 1}, "b"]}) == [
        "$or[1]: each entry of $or must be a condition (an object)"
    ]


def test_not_needs_an_object() -> None:
    assert messages({"$not": [{"a": 1}]}) == ["$not: $not needs a condition (a JSON object)"]


def test_issue_path_names_the_nested_attribute() -> None:
    condition = {"$and": [{"country": "DE"}, {"visits": {"$gte": True}}]}
    assert messages(condition) == ["$and[1].visits: $gte needs a number or a string"]


def test_issue_path_follows_nested_logic_and_not() -> None:
    condition = {"$or": [{"$not": {"$and": [{"a": {"$in": "x"}}]}}]}
    assert messages(condition) == ["$or[0].$not.$and[0].a: $in needs a list"]


def test_every_issue_is_reported_in_reading_order() -> None:
    condition = {"a": {"$gt": None}, "b": {"$exists": "yes"}, "$foo": 1}
    assert messages(condition) == [
        "a: $gt needs a number or a string",
        "b: $exists needs true or false",
        "(condition): unknown operator $foo",
    ]


@pytest.mark.parametrize("operator", ["$gt", "$gte", "$lt", "$lte"])
@pytest.mark.parametrize("bound", [True, None, [1], {"a": 1}])
def test_order_operators_need_a_number_or_a_string(operator: str, bound: Any) -> None:
    assert messages({"x": {operator: bound}}) == [f"x: {operator} needs a number or a string"]


@pytest.mark.parametrize("operator", ["$in", "$nin", "$ini", "$nini", "$all", "$alli"])
def test_list_operators_need_a_list(operator: str) -> None:
    assert messages({"x": {operator: "DE"}}) == [f"x: {operator} needs a list"]


@pytest.mark.parametrize("operator", ["$eq", "$ne"])
def test_eq_and_ne_with_a_list_are_reported_because_they_never_match(operator: str) -> None:
    (issue,) = validate_condition({"tags": {operator: ["a"]}})
    assert issue.path == "tags"
    assert "lists and objects never match" in issue.message


@pytest.mark.parametrize("size", ["2", True, None, [2], {"length": 2}])
def test_size_needs_a_number_or_operators(size: Any) -> None:
    assert messages({"x": {"$size": size}}) == ["x: $size needs a number or an object of operators"]


def test_size_operators_are_checked_too() -> None:
    assert messages({"x": {"$size": {"$gt": "a", "$bar": 1}}}) == ["x.$size: unknown operator $bar"]


def test_exists_needs_a_boolean() -> None:
    assert messages({"x": {"$exists": 1}}) == ["x: $exists needs true or false"]


@pytest.mark.parametrize("type_name", ["int", "String", "", None, ["string"]])
def test_type_needs_one_of_growthbooks_type_names(type_name: Any) -> None:
    assert messages({"x": {"$type": type_name}}) == [
        "x: $type needs one of: array, boolean, null, number, object, string, undefined"
    ]


@pytest.mark.parametrize("operator", ["$regex", "$regexi"])
def test_invalid_regex_is_reported_with_the_reason(operator: str) -> None:
    assert messages({"ua": {operator: "(Mobile"}}) == [
        f"ua: {operator} is not a valid regular expression: "
        "missing ), unterminated subpattern at position 0"
    ]


def test_regex_needs_a_string() -> None:
    assert messages({"ua": {"$regex": 5}}) == ["ua: $regex needs a regular expression as a string"]


@pytest.mark.parametrize("operator", ["$veq", "$vne", "$vgt", "$vgte", "$vlt", "$vlte"])
def test_version_operators_need_a_string(operator: str) -> None:
    assert messages({"app": {operator: 1.2}}) == [
        f'app: {operator} needs a version string such as "1.2.3"'
    ]


def test_elem_match_needs_an_object() -> None:
    assert messages({"x": {"$elemMatch": ["a"]}}) == [
        "x.$elemMatch: $elemMatch needs a JSON object"
    ]


def test_elem_match_operators_are_checked() -> None:
    assert messages({"x": {"$elemMatch": {"$gt": True}}}) == [
        "x.$elemMatch: $gt needs a number or a string"
    ]


def test_elem_match_conditions_are_checked_with_their_paths() -> None:
    condition = {"cart": {"$elemMatch": {"price": {"$gte": []}}}}
    assert messages(condition) == ["cart.$elemMatch.price: $gte needs a number or a string"]


def test_all_items_are_checked() -> None:
    assert messages({"x": {"$all": ["a", {"$gt": None}]}}) == [
        "x.$all[1]: $gt needs a number or a string"
    ]


def test_not_on_a_value_is_checked() -> None:
    assert messages({"x": {"$not": {"$in": 5}}}) == ["x.$not: $in needs a list"]


def test_unknown_operator_on_a_value_is_reported() -> None:
    assert messages({"x": {"$foo": 1}}) == ["x: unknown operator $foo"]


def test_unknown_condition_level_operator_is_reported() -> None:
    assert messages({"$andd": [{"a": 1}]}) == ["(condition): unknown operator $andd"]


def test_condition_level_operator_on_a_value_is_reported() -> None:
    assert messages({"x": {"$or": [{"$eq": 1}]}}) == [
        "x: $or belongs at the condition level, not on an attribute"
    ]


def test_operators_mixed_with_attribute_names_are_reported() -> None:
    (issue,) = validate_condition({"visits": {"$gt": 3, "max": 5}})
    assert issue.path == "visits"
    assert issue.message.startswith("mixes operators ($gt) with attribute names")


@pytest.mark.parametrize("segment", ["", 5, None, ["vip"]])
def test_in_segment_needs_a_segment_key(segment: Any) -> None:
    assert messages({"$inSegment": segment}) == ["(condition): $inSegment needs a segment key"]


def test_in_segment_issue_inside_and_names_its_place() -> None:
    assert messages({"$and": [{"a": 1}, {"$inSegment": ""}]}) == [
        "$and[1]: $inSegment needs a segment key"
    ]


@pytest.mark.parametrize("operator", ["$savedGroup", "$inGroup"])
def test_saved_groups_are_reported_as_unsupported(operator: str) -> None:
    condition = {operator: "beta"} if operator == "$savedGroup" else {"id": {operator: "beta"}}
    (issue,) = validate_condition(condition)
    assert "saved groups" in issue.message
    assert "$inSegment" in issue.message


def test_empty_attribute_name_is_reported() -> None:
    assert messages({"": 1}) == ["(condition): an attribute name must not be empty"]


def test_condition_issue_reads_as_path_then_message() -> None:
    issue = ConditionIssue(path="$and[1].visits", message="$gte needs a number or a string")
    assert str(issue) == "$and[1].visits: $gte needs a number or a string"


def test_condition_issue_is_immutable_and_comparable() -> None:
    issue = ConditionIssue(path="a", message="b")
    assert issue == ConditionIssue("a", "b")
    with pytest.raises(AttributeError):
        issue.path = "c"  # type: ignore[misc]


# --- condition_segment_keys ---------------------------------------------------------------------


def test_segment_keys_of_a_condition_without_segments_is_empty() -> None:
    assert condition_segment_keys({"country": "DE"}) == set()


def test_segment_keys_are_found_at_every_depth() -> None:
    condition = {
        "$inSegment": "vip",
        "$and": [{"$or": [{"$inSegment": "eu"}, {"$not": {"$inSegment": "churned"}}]}],
        "$nor": [{"$inSegment": "bots"}],
        "household": {"$elemMatch": {"$inSegment": "family"}},
    }
    assert condition_segment_keys(condition) == {"vip", "eu", "churned", "bots", "family"}


def test_segment_keys_ignore_non_string_references() -> None:
    assert condition_segment_keys({"$inSegment": ["vip"], "$or": [{"$inSegment": 5}]}) == set()


@pytest.mark.parametrize("condition", [None, 5, "vip", [{"$inSegment": "vip"}]])
def test_segment_keys_accept_any_input(condition: Any) -> None:
    expected = {"vip"} if isinstance(condition, list) else set()
    assert condition_segment_keys(condition) == expected
