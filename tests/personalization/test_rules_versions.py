"""Version operators: GrowthBook's padded version strings, pre-release tags and build metadata."""

from typing import Any

import pytest

from personalization.rules import evaluate_condition
from personalization.rules.semantics import js_number_string, version_key


def matches(operator: str, version: Any, bound: Any) -> bool:
    return evaluate_condition({"app": {operator: bound}}, {"app": version})


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        ("1.0.0", "1.0.1"),
        ("1.9.0", "1.10.0"),
        ("1.2.3", "2.0.0"),
        ("0.9.99", "1.0.0"),
        ("1.0.0-alpha", "1.0.0"),
        ("1.0.0-alpha", "1.0.0-alpha.1"),
        ("1.0.0-alpha.1", "1.0.0-alpha.beta"),
        ("1.0.0-alpha.beta", "1.0.0-beta"),
        ("1.0.0-beta", "1.0.0-beta.2"),
        ("1.0.0-beta.2", "1.0.0-beta.11"),
        ("1.0.0-beta.11", "1.0.0-rc.1"),
        ("1.0.0-rc.1", "1.0.0"),
        ("3.0.0-beta.1", "3.0.0-beta.2"),
    ],
)
def test_versions_follow_semver_precedence(lower: str, higher: str) -> None:
    assert matches("$vlt", lower, higher) is True
    assert matches("$vgt", higher, lower) is True
    assert matches("$vgte", lower, higher) is False
    assert matches("$vne", lower, higher) is True


def test_pre_release_ranks_below_its_release() -> None:
    assert matches("$vgte", "3.0.0-beta.1", "3.0.0") is False
    assert matches("$vlt", "3.0.0-beta.1", "3.0.0") is True


@pytest.mark.parametrize(
    ("version", "bound"),
    [("v1.2.3", "1.2.3"), ("1.2.3+build.7", "1.2.3"), ("v1.2.3+b", "1.2.3+other")],
)
def test_leading_v_and_build_metadata_are_ignored(version: str, bound: str) -> None:
    assert matches("$veq", version, bound) is True


def test_numeric_parts_compare_as_numbers_not_text() -> None:
    assert matches("$vgt", "10.0.0", "9.0.0") is True
    assert matches("$vlt", "1.2.10", "1.2.9") is False


def test_short_versions_are_not_padded_to_three_parts() -> None:
    # GrowthBook pads each part's width, not the number of parts: "1.2" is below "1.2.0".
    assert matches("$veq", "1.2", "1.2.0") is False
    assert matches("$vlt", "1.2", "1.2.0") is True


def test_inclusive_operators_include_equal_versions() -> None:
    assert matches("$vgte", "2.3.0", "2.3.0") is True
    assert matches("$vlte", "2.3.0", "v2.3.0") is True


def test_numbers_compare_with_numeric_bounds() -> None:
    assert matches("$vgt", 2, 1.5) is True
    assert matches("$veq", 10, "10") is False  # a number and a string never compare


@pytest.mark.parametrize("version", [None, True, ["1.0.0"], {"v": "1"}])
def test_non_version_values_fail_every_version_operator_but_vne(version: Any) -> None:
    for operator in ("$veq", "$vgt", "$vgte", "$vlt", "$vlte"):
        assert matches(operator, version, "1.0.0") is False
    assert matches("$vne", version, "1.0.0") is True


def test_missing_version_fails_except_for_vne() -> None:
    assert evaluate_condition({"app": {"$vgte": "0.0.0"}}, {}) is False
    assert evaluate_condition({"app": {"$vne": "1.0.0"}}, {}) is True


def test_empty_version_counts_as_zero() -> None:
    assert matches("$veq", "", "0") is True


def test_bound_that_is_not_a_version_fails_everything_but_vne() -> None:
    assert matches("$vgt", "1.0.0", None) is False
    assert matches("$vne", "1.0.0", None) is True


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (0, "0"),
        (-0.0, "0"),
        (1.0, "1"),
        (1.5, "1.5"),
        (-2.25, "-2.25"),
        (100, "100"),
        (1e21, "1e+21"),
        (1.5e21, "1.5e+21"),
        (123456789012345680000, "123456789012345680000"),
        (1e-7, "1e-7"),
        (0.000001, "0.000001"),
        (2.5e-8, "2.5e-8"),
        (10**400, "Infinity"),
        (float("inf"), "Infinity"),
        (float("nan"), "NaN"),
    ],
)
def test_numbers_turn_into_version_text_the_way_javascript_writes_them(
    number: float, text: str
) -> None:
    assert js_number_string(number) == text


def test_version_key_pads_numbers_and_marks_releases() -> None:
    assert version_key("v1.2.3+build") == "    1-    2-    3-~"
    assert version_key("1.2.3-rc.1") == "    1-    2-    3-rc-    1"
