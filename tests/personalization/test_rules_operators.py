"""Every operator of the condition language, one behaviour per test, as GrowthBook defines it."""

from collections.abc import Iterator
from typing import Any

import pytest

from personalization.rules import evaluate_condition
from tests.personalization.rules_modes import evaluation_mode  # noqa: F401 - every test, both ways

# --- equality -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expected", "actual", "matches"),
    [
        ("mobile", "mobile", True),
        ("mobile", "Mobile", False),
        (3, 3, True),
        (3, 3.0, True),
        (3, "3", False),
        ("3", 3, False),
        (1, True, False),
        (True, 1, False),
        (False, 0, False),
        (False, False, True),
        (None, None, True),
        (None, 0, False),
        ("", None, False),
    ],
)
def test_literal_value_matches_only_the_same_json_type_and_value(
    expected: Any, actual: Any, matches: bool
) -> None:
    assert evaluate_condition({"x": expected}, {"x": actual}) is matches


def test_literal_null_matches_a_missing_attribute() -> None:
    assert evaluate_condition({"x": None}, {}) is True


def test_eq_matches_an_equal_scalar() -> None:
    assert evaluate_condition({"plan": {"$eq": "pro"}}, {"plan": "pro"}) is True


def test_eq_never_matches_a_list_even_an_identical_one() -> None:
    # JavaScript's === compares arrays by reference; two parsed arrays are never the same.
    assert evaluate_condition({"tags": {"$eq": ["a"]}}, {"tags": ["a"]}) is False


def test_eq_never_matches_an_object_even_an_identical_one() -> None:
    assert evaluate_condition({"user": {"$eq": {"a": 1}}}, {"user": {"a": 1}}) is False


def test_eq_does_not_treat_true_as_one() -> None:
    assert evaluate_condition({"n": {"$eq": 1}}, {"n": True}) is False


def test_ne_matches_a_different_value() -> None:
    assert evaluate_condition({"plan": {"$ne": "pro"}}, {"plan": "free"}) is True


def test_ne_matches_a_missing_attribute() -> None:
    assert evaluate_condition({"plan": {"$ne": "pro"}}, {}) is True


def test_ne_matches_a_value_of_another_type() -> None:
    assert evaluate_condition({"visits": {"$ne": 3}}, {"visits": "3"}) is True


def test_ne_fails_on_the_same_value() -> None:
    assert evaluate_condition({"plan": {"$ne": "pro"}}, {"plan": "pro"}) is False


def test_ne_with_a_list_always_matches() -> None:
    assert evaluate_condition({"tags": {"$ne": ["a"]}}, {"tags": ["a"]}) is True


# --- ordering -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "value", "matches"),
    [
        ("$gt", 11, True),
        ("$gt", 10, False),
        ("$gte", 10, True),
        ("$gte", 9.5, False),
        ("$lt", 9.99, True),
        ("$lt", 10, False),
        ("$lte", 10, True),
        ("$lte", 10.5, False),
    ],
)
def test_order_operators_compare_numbers(operator: str, value: Any, matches: bool) -> None:
    assert evaluate_condition({"visits": {operator: 10}}, {"visits": value}) is matches


def test_gt_compares_strings_lexicographically() -> None:
    assert evaluate_condition({"name": {"$gt": "alphabet"}}, {"name": "always"}) is True


def test_gt_orders_uppercase_before_lowercase() -> None:
    assert evaluate_condition({"name": {"$gt": "alphabet"}}, {"name": "AZL"}) is False


def test_lt_compares_digit_strings_as_text_not_numbers() -> None:
    assert evaluate_condition({"code": {"$lt": "9"}}, {"code": "10"}) is True


def test_string_order_follows_utf16_code_units_like_javascript() -> None:
    # U+1F600 is a surrogate pair (0xD83D...) in UTF-16, below U+E000 there; by code point
    # it would be above.
    assert evaluate_condition({"s": {"$lt": "\ue000"}}, {"s": "😀"}) is True


_F, _T = False, True


# value, bound, and what JavaScript (node) answers for value < bound, <=, >, >=: GrowthBook's
# spec cases follow JavaScript's `<` ("comparing numbers and strings", "missing attribute
# with comparison operators").
@pytest.mark.parametrize(
    ("value", "bound", "answers"),
    [
        (None, -10, [_F, _F, _T, _T]),
        (None, 10, [_T, _T, _F, _F]),
        (None, None, [_F, _T, _F, _T]),
        ("8", 5, [_F, _F, _T, _T]),
        (8, "5", [_F, _F, _T, _T]),
        (8, "10", [_T, _T, _F, _F]),
        (True, 0, [_F, _F, _T, _T]),
        (True, 1, [_F, _T, _F, _T]),
        ([2], 1, [_F, _F, _T, _T]),
        ([1, 2], 1, [_F, _F, _F, _F]),
        (["b"], "a", [_F, _F, _T, _T]),
        ({}, "[", [_F, _F, _T, _T]),
        ({}, 0, [_F, _F, _F, _F]),
        ("", 0, [_F, _T, _F, _T]),
        ("abc", 1, [_F, _F, _F, _F]),
        ([], 0, [_F, _T, _F, _T]),
        (None, "0", [_F, _T, _F, _T]),
        (False, None, [_F, _T, _F, _T]),
    ],
)
def test_order_operators_coerce_other_pairs_as_javascript_does(
    value: Any, bound: Any, answers: list[bool]
) -> None:
    got = [
        evaluate_condition({"x": {operator: bound}}, {"x": value})
        for operator in ("$lt", "$lte", "$gt", "$gte")
    ]
    assert got == answers


@pytest.mark.parametrize(
    ("text", "number"),
    [(" 8 ", 8), ("\u00a08\n", 8), ("1e3", 1000), (".5", 0.5), ("0x10", 16), ("0b101", 5),
     ("-Infinity", float("-inf")), ("", 0)],
)  # fmt: skip
def test_text_compared_with_a_number_is_read_as_javascript_reads_numbers(
    text: str, number: float
) -> None:
    assert evaluate_condition({"x": {"$gte": number, "$lte": number}}, {"x": text}) is True


@pytest.mark.parametrize("text", ["inf", "nan", "1_000", "١٢", "-0x10", "1e", "0x"])
def test_text_javascript_cannot_read_as_a_number_fails_every_order_operator(text: str) -> None:
    for operator in ("$lt", "$lte", "$gt", "$gte"):
        for bound in (0, 12, 1000, float("inf")):
            assert evaluate_condition({"x": {operator: bound}}, {"x": text}) is False


def test_order_operators_fail_on_values_outside_json() -> None:
    for operator in ("$lt", "$lte", "$gt", "$gte"):
        assert evaluate_condition({"x": {operator: 5}}, {"x": (1,)}) is False


def test_a_missing_attribute_orders_as_null_which_is_zero() -> None:
    condition = {"age": {"$gt": -10, "$lt": 10, "$gte": -9, "$lte": 9, "$ne": 10}}
    assert evaluate_condition(condition, {}) is True
    assert evaluate_condition({"age": {"$gt": 0}}, {}) is False


def test_order_operators_combine_into_a_range() -> None:
    condition = {"monetary": {"$gte": 100, "$lt": 1000}}
    assert [evaluate_condition(condition, {"monetary": m}) for m in (99, 100, 999.5, 1000)] == [
        False,
        True,
        True,
        False,
    ]


def test_order_operators_fail_on_nan() -> None:
    nan = float("nan")
    assert evaluate_condition({"x": {"$gte": 0}}, {"x": nan}) is False
    assert evaluate_condition({"x": {"$lt": 0}}, {"x": nan}) is False


def test_order_operators_handle_infinity_and_huge_integers() -> None:
    assert evaluate_condition({"x": {"$gt": 1e308}}, {"x": float("inf")}) is True
    assert evaluate_condition({"x": {"$gt": 1e29}}, {"x": 10**30}) is True


# --- membership ---------------------------------------------------------------------------


def test_in_matches_a_listed_value() -> None:
    assert evaluate_condition({"country": {"$in": ["DE", "FR"]}}, {"country": "FR"}) is True


def test_in_fails_on_an_unlisted_value() -> None:
    assert evaluate_condition({"country": {"$in": ["DE", "FR"]}}, {"country": "US"}) is False


def test_in_matches_when_an_array_attribute_shares_any_element() -> None:
    assert evaluate_condition({"tags": {"$in": ["a", "b"]}}, {"tags": ["d", "b", "f"]}) is True


def test_in_fails_on_an_empty_array_attribute() -> None:
    assert evaluate_condition({"tags": {"$in": ["a", "b"]}}, {"tags": []}) is False


def test_in_is_case_sensitive() -> None:
    assert evaluate_condition({"country": {"$in": ["de"]}}, {"country": "DE"}) is False


@pytest.mark.parametrize(
    ("options", "value", "matches"),
    [
        ([1], True, False),
        ([True], 1, False),
        ([0], False, False),
        ([False], False, True),
        ([1], 1.0, True),
        (["1"], 1, False),
        ([None], None, True),
        ([1], [True, False], False),
        ([True, 2], [1, 2.0], True),
    ],
)
def test_in_keeps_booleans_and_numbers_apart(options: Any, value: Any, matches: bool) -> None:
    assert evaluate_condition({"x": {"$in": options}}, {"x": value}) is matches


def test_in_never_matches_list_or_object_elements() -> None:
    assert evaluate_condition({"x": {"$in": [[1, 2]]}}, {"x": [[1, 2]]}) is False
    assert evaluate_condition({"x": {"$in": [{"a": 1}]}}, {"x": {"a": 1}}) is False


def test_in_matches_a_missing_attribute_only_through_null() -> None:
    assert evaluate_condition({"x": {"$in": ["a"]}}, {}) is False
    assert evaluate_condition({"x": {"$in": ["a", None]}}, {}) is True


@pytest.mark.parametrize("operator", ["$in", "$nin", "$ini", "$nini"])
def test_membership_operators_fail_when_not_given_a_list(operator: str) -> None:
    assert evaluate_condition({"n": {operator: 1}}, {"n": 1}) is False
    assert evaluate_condition({"n": {operator: 1}}, {"n": 2}) is False


def test_nin_matches_an_unlisted_value() -> None:
    assert evaluate_condition({"country": {"$nin": ["DE", "FR"]}}, {"country": "US"}) is True


def test_nin_matches_a_missing_attribute() -> None:
    assert evaluate_condition({"country": {"$nin": ["DE", "FR"]}}, {}) is True


def test_nin_fails_when_an_array_attribute_shares_any_element() -> None:
    assert evaluate_condition({"tags": {"$nin": ["a", "b"]}}, {"tags": ["d", "a"]}) is False


def test_nin_matches_an_empty_array_attribute() -> None:
    assert evaluate_condition({"tags": {"$nin": ["a"]}}, {"tags": []}) is True


def test_ini_ignores_case() -> None:
    assert evaluate_condition({"lang": {"$ini": ["de-at"]}}, {"lang": "DE-AT"}) is True


def test_ini_intersects_array_attributes_ignoring_case() -> None:
    assert evaluate_condition({"tags": {"$ini": ["SHOES"]}}, {"tags": ["Sale", "shoes"]}) is True


def test_ini_still_compares_numbers_strictly() -> None:
    assert evaluate_condition({"n": {"$ini": [1]}}, {"n": "1"}) is False


def test_nini_fails_on_a_listed_value_in_another_case() -> None:
    assert evaluate_condition({"lang": {"$nini": ["de"]}}, {"lang": "DE"}) is False


def test_nini_matches_an_unlisted_value() -> None:
    assert evaluate_condition({"lang": {"$nini": ["de"]}}, {"lang": "fr"}) is True


# --- arrays ---------------------------------------------------------------------------------


def test_all_matches_when_every_item_is_present() -> None:
    condition = {"tags": {"$all": ["running", "outdoor"]}}
    assert evaluate_condition(condition, {"tags": ["outdoor", "sale", "running"]}) is True


def test_all_fails_when_an_item_is_missing() -> None:
    condition = {"tags": {"$all": ["running", "outdoor"]}}
    assert evaluate_condition(condition, {"tags": ["running"]}) is False


def test_all_fails_on_a_scalar_attribute() -> None:
    assert evaluate_condition({"tags": {"$all": ["a"]}}, {"tags": "a"}) is False


def test_all_with_an_empty_list_matches_any_array() -> None:
    assert evaluate_condition({"tags": {"$all": []}}, {"tags": []}) is True


def test_all_items_may_be_operator_objects() -> None:
    condition = {"nums": {"$all": [{"$gt": 10}, {"$lt": 0}]}}
    assert evaluate_condition(condition, {"nums": [-5, 3, 12]}) is True
    assert evaluate_condition(condition, {"nums": [3, 12]}) is False


def test_all_compares_list_items_deeply_unlike_in() -> None:
    assert evaluate_condition({"x": {"$all": [[1, 2]]}}, {"x": [[1, 2], [3]]}) is True


def test_alli_ignores_case() -> None:
    assert evaluate_condition({"tags": {"$alli": ["SHOES", "sale"]}}, {"tags": ["Sale", "shoes"]})


def test_elem_match_tests_scalar_elements_with_operators() -> None:
    condition = {"nums": {"$elemMatch": {"$gt": 10}}}
    assert evaluate_condition(condition, {"nums": [0, 5, -20, 15]}) is True
    assert evaluate_condition(condition, {"nums": [0, 5, -20, 8]}) is False


def test_elem_match_needs_one_element_to_pass_every_operator() -> None:
    condition = {"nums": {"$elemMatch": {"$gt": 10, "$lt": 20}}}
    assert evaluate_condition(condition, {"nums": [5, 25]}) is False
    assert evaluate_condition(condition, {"nums": [5, 15]}) is True


def test_elem_match_tests_fields_of_object_elements() -> None:
    condition = {"cart": {"$elemMatch": {"category": "shoes", "price": {"$gte": 50}}}}
    cart = [{"category": "shoes", "price": 20}, {"category": "shirts", "price": 60}]
    assert evaluate_condition(condition, {"cart": cart}) is False
    cart.append({"category": "shoes", "price": 60})
    assert evaluate_condition(condition, {"cart": cart}) is True


def test_elem_match_with_or_tests_fields_of_each_element() -> None:
    condition = {"items": {"$elemMatch": {"$or": [{"sku": "b2"}, {"qty": 0}]}}}
    assert evaluate_condition(condition, {"items": [{"sku": "a1", "qty": 0}]}) is True


def test_elem_match_skips_null_elements() -> None:
    condition = {"items": {"$elemMatch": {"$exists": False}}}
    assert evaluate_condition(condition, {"items": [None, None]}) is False


def test_elem_match_fails_on_a_non_array() -> None:
    assert evaluate_condition({"tags": {"$elemMatch": {"$eq": "a"}}}, {"tags": "a"}) is False


def test_size_matches_the_array_length() -> None:
    assert evaluate_condition({"tags": {"$size": 2}}, {"tags": ["a", "b"]}) is True
    assert evaluate_condition({"tags": {"$size": 2}}, {"tags": ["a"]}) is False


def test_size_accepts_an_operator_object() -> None:
    condition = {"cart": {"$size": {"$gte": 3}}}
    assert evaluate_condition(condition, {"cart": [1, 2, 3]}) is True
    assert evaluate_condition(condition, {"cart": [1, 2]}) is False


def test_size_fails_on_a_string_attribute() -> None:
    assert evaluate_condition({"name": {"$size": 3}}, {"name": "abc"}) is False


def test_size_given_a_string_never_matches() -> None:
    assert evaluate_condition({"tags": {"$size": "2"}}, {"tags": ["a", "b"]}) is False


# --- presence and type ----------------------------------------------------------------------


def test_exists_true_matches_a_present_value() -> None:
    assert evaluate_condition({"customer_id": {"$exists": True}}, {"customer_id": "c-1"}) is True


def test_exists_true_treats_null_as_missing() -> None:
    assert evaluate_condition({"customer_id": {"$exists": True}}, {"customer_id": None}) is False


def test_exists_false_matches_a_missing_value() -> None:
    assert evaluate_condition({"pets.dog.name": {"$exists": False}}, {"hello": "world"}) is True


def test_exists_false_treats_falsy_values_as_present() -> None:
    for value in (0, "", False, []):
        assert evaluate_condition({"x": {"$exists": False}}, {"x": value}) is False


@pytest.mark.parametrize(
    ("type_name", "value"),
    [
        ("string", "a"),
        ("number", 1),
        ("number", 1.5),
        ("boolean", False),
        ("array", []),
        ("object", {}),
        ("null", None),
    ],
)
def test_type_names_the_json_type(type_name: str, value: Any) -> None:
    assert evaluate_condition({"a": {"$type": type_name}}, {"a": value}) is True


def test_type_of_a_missing_attribute_is_null_as_in_the_python_sdk() -> None:
    assert evaluate_condition({"a": {"$type": "null"}}, {}) is True
    assert evaluate_condition({"a": {"$type": "undefined"}}, {}) is False


def test_type_number_excludes_booleans() -> None:
    assert evaluate_condition({"a": {"$type": "number"}}, {"a": True}) is False


# --- regular expressions --------------------------------------------------------------------


def test_regex_searches_anywhere_in_the_string() -> None:
    assert evaluate_condition({"ua": {"$regex": "(Mobile|Tablet)"}}, {"ua": "Android Mobile"})


def test_regex_is_case_sensitive() -> None:
    assert evaluate_condition({"ua": {"$regex": "mobile"}}, {"ua": "Android Mobile"}) is False


def test_regexi_ignores_case() -> None:
    assert evaluate_condition({"ua": {"$regexi": "iphone|ipad"}}, {"ua": "Mozilla (iPad)"}) is True


def test_regex_fails_on_non_strings() -> None:
    assert evaluate_condition({"visits": {"$regex": "3"}}, {"visits": 3}) is False
    assert evaluate_condition({"visits": {"$regex": ".*"}}, {}) is False


@pytest.mark.parametrize("operator", ["$regex", "$regexi"])
def test_invalid_regex_never_matches_and_never_raises(operator: str) -> None:
    assert evaluate_condition({"ua": {operator: "(unclosed"}}, {"ua": "(unclosed"}) is False


def test_invalid_regex_under_not_fails_the_whole_condition_only_through_its_negation() -> None:
    # The invalid pattern is a plain False, so $not turns it into True, as in GrowthBook.
    assert evaluate_condition({"ua": {"$not": {"$regex": "["}}}, {"ua": "x"}) is True


def test_not_regex_matches_strings_that_do_not_match() -> None:
    assert evaluate_condition({"email": {"$notRegex": "@corp\\.com$"}}, {"email": "a@b.org"})


def test_not_regex_matches_a_missing_attribute() -> None:
    assert evaluate_condition({"email": {"$notRegex": "@corp\\.com$"}}, {}) is True


# --- logic ----------------------------------------------------------------------------------


def test_several_keys_must_all_match() -> None:
    condition = {"str": "str", "num": 10, "flag": False}
    assert evaluate_condition(condition, {"str": "str", "num": 10, "flag": False}) is True
    assert evaluate_condition(condition, {"str": "str", "num": 10, "flag": True}) is False


def test_empty_condition_matches_everyone() -> None:
    assert evaluate_condition({}, {"hello": "world"}) is True


def test_and_needs_every_condition() -> None:
    condition = {"$and": [{"country": "DE"}, {"visits": {"$gt": 2}}]}
    assert evaluate_condition(condition, {"country": "DE", "visits": 3}) is True
    assert evaluate_condition(condition, {"country": "DE", "visits": 2}) is False


def test_or_needs_one_condition() -> None:
    condition = {"$or": [{"country": "DE"}, {"visits": {"$gt": 2}}]}
    assert evaluate_condition(condition, {"country": "FR", "visits": 3}) is True
    assert evaluate_condition(condition, {"country": "FR", "visits": 2}) is False


def test_nor_needs_every_condition_to_fail() -> None:
    condition = {"$nor": [{"lifecycle": "churned"}, {"country": {"$in": ["RU", "BY"]}}]}
    assert evaluate_condition(condition, {"lifecycle": "active", "country": "DE"}) is True
    assert evaluate_condition(condition, {"lifecycle": "active", "country": "RU"}) is False


def test_not_inverts_a_condition() -> None:
    assert evaluate_condition({"$not": {"name": "hello"}}, {"name": "world"}) is True
    assert evaluate_condition({"$not": {"name": "hello"}}, {"name": "hello"}) is False


def test_not_on_a_value_inverts_its_operators() -> None:
    condition = {"country": {"$not": {"$in": ["DE", "FR"]}}}
    assert evaluate_condition(condition, {"country": "US"}) is True
    assert evaluate_condition(condition, {"country": "DE"}) is False


@pytest.mark.parametrize(("operator", "result"), [("$and", True), ("$or", True), ("$nor", False)])
def test_empty_logical_lists_follow_growthbook(operator: str, result: bool) -> None:
    assert evaluate_condition({operator: []}, {}) is result


def test_nested_and_or_combine() -> None:
    condition = {
        "$and": [
            {"father.age": {"$gt": 65}},
            {"$or": [{"bday": {"$regex": "-12-25$"}}, {"name": "santa"}]},
        ]
    }
    visitor = {"name": "barbara", "bday": "1980-12-25", "father": {"age": 70}}
    assert evaluate_condition(condition, visitor) is True
    assert evaluate_condition(condition, {**visitor, "bday": "1980-11-25"}) is False


# --- unknown operators and malformed conditions ----------------------------------------------


def test_unknown_operator_never_matches() -> None:
    assert evaluate_condition({"country": {"$foo": "DE"}}, {"country": "DE"}) is False


def test_unknown_operator_stays_unmatched_under_not() -> None:
    # GrowthBook treats an unknown operator as undecided, and $not of undecided is undecided.
    assert evaluate_condition({"$not": {"country": {"$foo": "DE"}}}, {"country": "DE"}) is False
    assert evaluate_condition({"country": {"$not": {"$foo": "DE"}}}, {"country": "DE"}) is False


def test_or_can_still_pass_through_another_branch_beside_an_unknown_operator() -> None:
    condition = {"$or": [{"x": {"$foo": 1}}, {"visits": 3}]}
    assert evaluate_condition(condition, {"visits": 3}) is True
    assert evaluate_condition(condition, {"visits": 4}) is False


def test_an_unknown_condition_level_key_reads_the_attribute_of_that_name() -> None:
    # As every GrowthBook SDK does (the spec's "$groups - match").
    condition = {"$groups": {"$elemMatch": {"$eq": "a"}}}
    assert evaluate_condition(condition, {"$groups": ["a"]}) is True
    assert evaluate_condition(condition, {"groups": ["a"]}) is False
    assert evaluate_condition({"$foo": {"$exists": False}}, {}) is True


@pytest.mark.parametrize(
    "condition",
    [
        {"$and": 5},
        {"$and": [{"country": "DE"}, 5]},
        {"$or": None},
        {"$or": "abc"},
        {"$not": "country"},
        {"$not": []},
        {"tags": {"$elemMatch": "a"}},
        None,
        [],
        "country",
    ],
)
def test_malformed_condition_fails_instead_of_raising(condition: Any) -> None:
    attributes = {"country": "DE", "tags": ["a"]}
    assert evaluate_condition(condition, attributes) is False


def test_malformed_condition_fails_even_under_not() -> None:
    assert evaluate_condition({"$not": {"$and": 5}}, {}) is False


def test_malformed_part_fails_only_when_it_is_reached() -> None:
    # $or stops at the first passing branch, so the malformed one after it is never read.
    condition = {"$or": [{"country": "DE"}, 5]}
    assert evaluate_condition(condition, {"country": "DE"}) is True
    assert evaluate_condition(condition, {"country": "FR"}) is False


def test_saved_group_operators_never_match_without_saved_groups() -> None:
    assert evaluate_condition({"id": {"$inGroup": "beta"}}, {"id": "u1"}) is False
    assert evaluate_condition({"id": {"$notInGroup": "beta"}}, {"id": "u1"}) is True
    assert evaluate_condition({"$savedGroup": {"id": "beta"}}, {"id": "u1"}) is False


# --- $inSegment -----------------------------------------------------------------------------


class LazySegments:
    """Membership computed on demand, as the decide step will provide it."""

    def __init__(self, members: set[str]) -> None:
        self.members = members
        self.asked: list[str] = []

    def __contains__(self, key: object) -> bool:
        self.asked.append(str(key))
        return key in self.members

    def __iter__(self) -> Iterator[str]:
        raise AssertionError("membership must not list every segment")


class BrokenSegments:
    """A lazy container whose lookup fails."""

    def __contains__(self, key: object) -> bool:
        raise LookupError("segment store unavailable")


@pytest.mark.parametrize("segments", [{"vip", "eu"}, ["eu", "vip"], ("vip",), frozenset({"vip"})])
def test_in_segment_matches_a_member_of_any_container(segments: Any) -> None:
    assert evaluate_condition({"$inSegment": "vip"}, {"segments": segments}) is True


def test_in_segment_fails_for_a_non_member() -> None:
    assert evaluate_condition({"$inSegment": "vip"}, {"segments": {"eu"}}) is False


def test_in_segment_fails_without_segments() -> None:
    assert evaluate_condition({"$inSegment": "vip"}, {}) is False
    assert evaluate_condition({"$inSegment": "vip"}, {"segments": None}) is False


def test_in_segment_asks_a_lazy_container_only_about_the_named_segment() -> None:
    segments = LazySegments({"vip"})
    assert evaluate_condition({"$inSegment": "vip"}, {"segments": segments}) is True
    assert segments.asked == ["vip"]


def test_in_segment_is_not_asked_when_an_earlier_part_already_failed() -> None:
    segments = LazySegments({"vip"})
    condition = {"country": "DE", "$inSegment": "vip"}
    assert evaluate_condition(condition, {"country": "FR", "segments": segments}) is False
    assert segments.asked == []


def test_in_segment_fails_when_a_lazy_container_cannot_answer() -> None:
    assert evaluate_condition({"$inSegment": "vip"}, {"segments": BrokenSegments()}) is False


def test_in_segment_does_not_match_a_substring_of_a_single_segment_string() -> None:
    assert evaluate_condition({"$inSegment": "vip"}, {"segments": "vipers"}) is False
    assert evaluate_condition({"$inSegment": "vip"}, {"segments": "vip"}) is True


def test_in_segment_fails_when_segments_is_not_a_container() -> None:
    assert evaluate_condition({"$inSegment": "vip"}, {"segments": 5}) is False


def test_in_segment_with_a_non_string_key_never_matches() -> None:
    assert evaluate_condition({"$inSegment": ["vip"]}, {"segments": {"vip"}}) is False


@pytest.mark.parametrize(
    ("condition", "matches"),
    [
        ({"$and": [{"$inSegment": "vip"}, {"country": "DE"}]}, True),
        ({"$or": [{"$inSegment": "churned"}, {"country": "DE"}]}, True),
        ({"$nor": [{"$inSegment": "vip"}]}, False),
        ({"$not": {"$inSegment": "churned"}}, True),
        ({"$not": {"$inSegment": "vip"}}, False),
    ],
)
def test_in_segment_works_inside_logical_operators(condition: Any, matches: bool) -> None:
    attributes = {"country": "DE", "segments": {"vip"}}
    assert evaluate_condition(condition, attributes) is matches


def test_in_segment_inside_elem_match_reads_each_elements_segments() -> None:
    condition = {"household": {"$elemMatch": {"$inSegment": "vip"}}}
    attributes = {"household": [{"segments": ["eu"]}, {"segments": ["vip"]}]}
    assert evaluate_condition(condition, attributes) is True


def test_in_segment_on_an_attribute_value_never_matches() -> None:
    assert evaluate_condition({"plan": {"$inSegment": "vip"}}, {"plan": "vip"}) is False
