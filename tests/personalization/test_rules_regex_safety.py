"""Regular expressions in conditions run in linear time (RE2): no pattern can stall a worker.

`^(a+)+$` on `aaa…a!` backtracks in Python's `re`: 27 characters took 9.9 s, and each more
doubles it. The timeouts below are far above what RE2 needs and far below what backtracking
would take on these inputs.
"""

import pytest
from django.conf import settings

from personalization.rules import evaluate_condition, validate_condition
from personalization.rules.patterns import MAX_PATTERN_LENGTH, MAX_TESTED_LENGTH
from tests.content.test_slot_admin import rule_form
from tests.factories import (
    ContentItemFactory,
    SlotFactory,
    SlotRuleFactory,
    UserFactory,
    VisitorFactory,
    grant,
    visitor_cookie,
)

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0"
CATASTROPHIC = {"utm_source": {"$regex": "^(a+)+$"}}


@pytest.mark.timeout(10)
def test_a_catastrophic_pattern_answers_at_once_on_a_hostile_value() -> None:
    hostile = "a" * (MAX_TESTED_LENGTH - 1) + "!"

    assert evaluate_condition(CATASTROPHIC, {"utm_source": hostile}) is False
    assert evaluate_condition(CATASTROPHIC, {"utm_source": "a" * 27}) is True


@pytest.mark.timeout(20)
@pytest.mark.django_db
def test_an_anonymous_visitor_cannot_stall_the_home_page_with_a_utm_value(client):
    visitor = VisitorFactory()
    grant(visitor, "analytics", "personalization")
    client.cookies[settings.TAILOR_VISITOR_COOKIE] = visitor_cookie(visitor)
    slot = SlotFactory(key="homepage-hero", default_items=[ContentItemFactory(title="Everyday")])
    SlotRuleFactory(slot=slot, condition=CATASTROPHIC, items=[ContentItemFactory(title="Aaah")])

    stalled = client.get("/", {"utm_source": "a" * 150 + "!"}, HTTP_USER_AGENT=BROWSER)
    matched = client.get("/", {"utm_source": "a" * 30}, HTTP_USER_AGENT=BROWSER)

    assert stalled.status_code == 200
    assert "Everyday" in stalled.content.decode()
    assert "Aaah" in matched.content.decode()


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("(?=mobile)", "lookahead is not supported"),
        ("(?!bot)", "negative lookahead is not supported"),
        ("(?<=utm_)x", "lookbehind is not supported"),
        ("(?<!a)b", "negative lookbehind is not supported"),
        ("(a)\\1", "backreferences are not supported"),
        ("(a)?(?(1)b|c)", "conditional groups are not supported"),
        ("(?>a+)b", "atomic groups are not supported"),
        ("a++b", "possessive quantifiers are not supported"),
        ("a{1001}", "repetition counts above 1000 are not supported"),
    ],
)
def test_a_pattern_re2_cannot_run_is_refused_naming_the_path_and_why(pattern, reason) -> None:
    issues = validate_condition({"$or": [{"utm_source": {"$regex": pattern}}]})

    assert [str(issue) for issue in issues] == [f"$or[0].utm_source: $regex: {reason}"]


def test_a_pattern_longer_than_the_cap_is_refused() -> None:
    issues = validate_condition({"ua": {"$regexi": "a" * (MAX_PATTERN_LENGTH + 1)}})

    assert [str(issue) for issue in issues] == [
        f"ua: $regexi: patterns longer than {MAX_PATTERN_LENGTH} characters are not supported"
    ]


@pytest.mark.parametrize("operator", ["$regex", "$regexi", "$notRegex", "$notRegexi"])
def test_a_pattern_re2_cannot_run_never_matches_if_it_reaches_evaluation(operator) -> None:
    condition = {"ua": {operator: "(?=Mobile)Mobile"}}

    assert evaluate_condition(condition, {"ua": "Mobile"}) is False
    assert evaluate_condition(condition, {"ua": "Desktop"}) is False


@pytest.mark.parametrize("operator", ["$regex", "$notRegex"])
def test_a_value_longer_than_the_cap_is_not_tested(operator) -> None:
    too_long = "x" * (MAX_TESTED_LENGTH + 1)

    assert evaluate_condition({"ref": {operator: "^x"}}, {"ref": too_long}) is False
    assert evaluate_condition({"ref": {operator: "^y"}}, {"ref": too_long}) is False
    assert evaluate_condition({"ref": {"$regex": "^x"}}, {"ref": too_long[1:]}) is True


@pytest.mark.django_db
def test_an_editor_saving_a_lookahead_rule_sees_the_path_and_reason(client):
    client.force_login(UserFactory(superuser=True))
    slot = SlotFactory(key="hero")
    response = client.post(
        "/admin/content/slotrule/add/",
        rule_form(slot, '{"utm_source": {"$regex": "^(?=news)"}}'),
    )

    assert response.status_code == 200
    assert "utm_source: $regex: lookahead is not supported" in response.content.decode()
