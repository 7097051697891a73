"""Dotted paths, arrays under non-array operators, literal objects, and odd attribute values."""

from collections import OrderedDict
from typing import Any

import pytest

from personalization.rules import evaluate_condition
from tests.personalization.rules_modes import evaluation_mode  # noqa: F401 - every test, both ways

VISITOR: dict[str, Any] = {
    "user": {"plan": "pro", "langs": ["de", "en"], "address": {"city": "Berlin"}},
    "items": [{"sku": "a1", "qty": 2}, {"sku": "b2"}],
    "tags": ["shoes", "sale"],
    "counts": {"0": "zero-key", "10": "ten-key"},
    "address": None,
    "zip": 12345,
}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("user.plan", "pro"),
        ("user.address.city", "Berlin"),
        ("user.langs.0", "de"),
        ("user.langs.1", "en"),
        ("items.0.sku", "a1"),
        ("items.1.sku", "b2"),
        ("counts.0", "zero-key"),
        ("counts.10", "ten-key"),
    ],
)
def test_dotted_path_reaches_into_objects_and_arrays(path: str, expected: Any) -> None:
    assert evaluate_condition({path: expected}, VISITOR) is True


def test_length_of_an_array_is_a_path() -> None:
    assert evaluate_condition({"user.langs.length": 2}, VISITOR) is True
    assert evaluate_condition({"tags.length": {"$gte": 2}}, VISITOR) is True


def test_length_of_a_string_is_not_a_path() -> None:
    assert evaluate_condition({"user.plan.length": {"$exists": True}}, VISITOR) is False


@pytest.mark.parametrize("path", ["user.langs.2", "user.langs.01", "user.langs.-1", "items.1.qty"])
def test_path_past_the_data_reads_as_missing(path: str) -> None:
    assert evaluate_condition({path: {"$exists": False}}, VISITOR) is True


def test_path_through_null_reads_as_missing() -> None:
    assert evaluate_condition({"address.state": "CA"}, VISITOR) is False
    assert evaluate_condition({"address.state": {"$exists": False}}, VISITOR) is True


def test_path_through_a_number_reads_as_missing() -> None:
    assert evaluate_condition({"zip.code": {"$exists": False}}, VISITOR) is True


def test_path_through_a_string_reads_as_missing() -> None:
    assert evaluate_condition({"user.plan.0": {"$exists": False}}, VISITOR) is True


def test_attribute_names_may_contain_no_dots_but_any_other_character() -> None:
    assert evaluate_condition({"utm-source": "mail"}, {"utm-source": "mail"}) is True
    assert evaluate_condition({"a.b": 1}, {"a.b": 1}) is False  # the dot always splits


# --- arrays under operators that expect a scalar -----------------------------------------------


def test_literal_string_does_not_match_an_array_containing_it() -> None:
    # GrowthBook's Python SDK compares literals strictly; use $in or $elemMatch for arrays.
    assert evaluate_condition({"tags": "shoes"}, VISITOR) is False
    assert evaluate_condition({"tags": {"$in": ["shoes"]}}, VISITOR) is True
    assert evaluate_condition({"tags": {"$elemMatch": {"$eq": "shoes"}}}, VISITOR) is True


def test_literal_array_matches_an_equal_array_in_the_same_order() -> None:
    assert evaluate_condition({"tags": ["shoes", "sale"]}, VISITOR) is True
    assert evaluate_condition({"tags": ["sale", "shoes"]}, VISITOR) is False


def test_literal_array_elements_keep_their_types() -> None:
    assert evaluate_condition({"x": [1, True]}, {"x": [1, True]}) is True
    assert evaluate_condition({"x": [1, True]}, {"x": [True, 1]}) is False
    assert evaluate_condition({"x": [1]}, {"x": [1.0]}) is True


def test_literal_object_matches_an_equal_object() -> None:
    assert evaluate_condition({"user.address": {"city": "Berlin"}}, VISITOR) is True


def test_literal_object_must_list_keys_in_the_same_order() -> None:
    # GrowthBook compares JSON.stringify output, so key order matters...
    condition = {"profile": {"b": 1, "a": 1}}
    assert evaluate_condition(condition, {"profile": {"a": 1, "b": 1}}) is False


def test_literal_object_orders_integer_keys_like_javascript() -> None:
    # ...except that JavaScript lists integer-like keys first, in numeric order.
    condition = {"counts": {"10": "ten-key", "0": "zero-key"}}
    assert evaluate_condition(condition, VISITOR) is True


def test_inside_arrays_infinity_compares_as_null() -> None:
    # JSON.stringify writes Infinity and NaN as null.
    assert evaluate_condition({"x": [None]}, {"x": [float("inf")]}) is True
    assert evaluate_condition({"x": None}, {"x": float("inf")}) is False


def test_gt_on_an_array_attribute_fails() -> None:
    assert evaluate_condition({"nums": {"$gt": 1}}, {"nums": [5, 6]}) is False


def test_regex_on_an_array_attribute_fails() -> None:
    assert evaluate_condition({"tags": {"$regex": "sho"}}, VISITOR) is False


def test_exists_on_an_empty_array_is_true() -> None:
    assert evaluate_condition({"tags": {"$exists": True}}, {"tags": []}) is True


# --- attribute dicts and values beyond JSON ------------------------------------------------------


def test_attributes_may_be_a_dict_subclass() -> None:
    attributes = OrderedDict(country="DE", user={"plan": "pro"})
    assert evaluate_condition({"country": "DE", "user.plan": "pro"}, attributes) is True


def test_dict_subclass_lookups_go_through_its_own_methods() -> None:
    class Lowercase(dict[str, Any]):
        def __contains__(self, key: object) -> bool:
            return super().__contains__(str(key).lower())

        def __getitem__(self, key: str) -> Any:
            return super().__getitem__(key.lower())

    assert evaluate_condition({"user.Country": "DE"}, {"user": Lowercase(country="DE")}) is True


@pytest.mark.parametrize("attributes", [None, [], "visitor", 5])
def test_attributes_that_are_not_a_dict_never_raise(attributes: Any) -> None:
    assert evaluate_condition({"country": "DE"}, attributes) is False
    assert evaluate_condition({"country": {"$exists": False}}, attributes) is True


def test_a_set_attribute_counts_as_an_array_for_type_but_not_for_in() -> None:
    # GrowthBook's Python SDK: getType says "array", yet $in only intersects lists.
    assert evaluate_condition({"s": {"$type": "array"}}, {"s": {"a"}}) is True
    assert evaluate_condition({"s": {"$in": ["a"]}}, {"s": {"a"}}) is False


def test_a_tuple_attribute_is_neither_a_string_nor_an_array() -> None:
    assert evaluate_condition({"t": {"$type": "unknown"}}, {"t": ("a",)}) is True
    assert evaluate_condition({"t": {"$size": 1}}, {"t": ("a",)}) is False


def test_a_value_that_refuses_comparison_fails_the_condition_instead_of_raising() -> None:
    class Hostile:
        def __eq__(self, other: object) -> bool:
            raise TypeError("no comparing")

        __hash__ = object.__hash__

    assert evaluate_condition({"x": {"$in": [1]}}, {"x": Hostile()}) is False
    assert evaluate_condition({"x": {"$type": "unknown"}}, {"x": Hostile()}) is True


def test_deeply_nested_attributes_do_not_raise() -> None:
    deep: Any = "bottom"
    for _ in range(5000):
        deep = [deep]
    assert evaluate_condition({"x": [[["nope"]]]}, {"x": deep}) is False
