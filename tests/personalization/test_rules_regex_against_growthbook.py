"""`$regex` and friends run by RE2 answer as GrowthBook's Python SDK (Python's `re`) does.

For every pattern both accept, every value, every operator (GrowthBook's published spec cases,
those with regular expressions among them, run in test_rules_growthbook_spec.py).
Where the two differ by design (`\\b` counts ASCII word characters only, as JavaScript does),
the test asserts the documented answer.
"""

import pytest
from growthbook.core import evalCondition

from personalization.rules import evaluate_condition, validate_condition

OPERATORS = ["$regex", "$regexi", "$notRegex", "$notRegexi"]

PATTERNS = [
    "^a", "A$", "b|é", "sh.es", r"\d+", "", "^$", "😀", r"\w+", r"\W", r"\s", r"\S+$",
    "(?i)é", "[^a-z]", "a{2,3}", ".*", "(?s)a.b", r"[\d\s]", r"[^\W\d]", r"(?a)\w", r"(?a)\s",
    r"(?a)\d", r"\Z", r"\Aa", "(?m)^b", "(?m)a$", "a$", "$", "[[:alpha:]]", r"\u00e9",
    r"\x41", r"\101", r"\t", r"[\]]", r"[a\-z]", "a|", "(?x) a b # comment", "(?i:A)b",
    "(?i)a(?-i:B)", "a+?b", "(a|b)*c", "[.]", r"\.", r"\$", r"^\S+@\S+\.\w+$", "Ⅻ", "(?i)ǅ",
    "(?i)ß", "(?i)k", "(?i)\u017f", "[^\n]", "(?i)[a-z]+", "(?i)[^k]", "x*$", "^$|a", "(?a)k",
    "(?a)[a-z]", "(?ai)[^k]", "(?ai)[H-d]", "(?ai)é", r"(?a)[^\W]", "(?ai)(?-i:k)K",
    "^(a+)+$", "(Mobile|Tablet)", "-12-25$", r"^utm_\w{2,8}$", r"(?P<x>a)(?:b)?",
]  # fmt: skip
VALUES = [
    "", "a", "A", "b", "ab", "Ab", "shoes", "SHOES", "é", "É", "😀", "\ue000", "z", "1",
    "10", "١٢", "a\n", "\n", "b\na", "a\u00a0b", "a\x1cb", "a\vb", "x@y.de", "Ⅻ", "ǅ", "ǆ",
    "Ǆ", "ß", "ẞ", "K", "k", "\u017f", "S", "a\nb\n", "[:", "\t", "]", "-", "aab", "ac", "ababc",
    "a.b", "a\nb", "$", "\ud83d", "Ä", "ä", "aaaa!", "Android Mobile", "1980-12-25",
    "utm_spring", "kK", "H", "Z", "_",
]  # fmt: skip


@pytest.mark.parametrize("operator", OPERATORS)
def test_every_pattern_both_accept_answers_as_growthbook_for_every_value(operator) -> None:
    assert all(not validate_condition({"v": {operator: p}}) for p in PATTERNS)
    mismatches = [
        (pattern, value)
        for pattern in PATTERNS
        for value in VALUES
        if evaluate_condition({"v": {operator: pattern}}, {"v": value})
        is not evalCondition({"v": value}, {"v": {operator: pattern}})
    ]

    assert mismatches == []


def test_word_boundaries_count_only_ascii_word_characters_as_javascript_does() -> None:
    # Python's `re` (GrowthBook's Python SDK) sees "é" as a word character; RE2 and
    # JavaScript's RegExp (GrowthBook's JavaScript SDK) do not.
    assert evaluate_condition({"t": {"$regex": r"\bcafé\b"}}, {"t": "un café noir"}) is False
    assert evalCondition({"t": "un café noir"}, {"t": {"$regex": r"\bcafé\b"}}) is True
    assert evaluate_condition({"t": {"$regex": r"\bcafe\b"}}, {"t": "un cafe noir"}) is True


def test_a_dollar_before_a_final_line_feed_matches_as_in_python() -> None:
    assert evaluate_condition({"t": {"$regex": "end$"}}, {"t": "the end\n"}) is True
    assert evaluate_condition({"t": {"$regex": r"end\Z"}}, {"t": "the end\n"}) is False
