"""The decision engine's override registry: how experiments (or any plug-in) change a slot."""

import logging
from dataclasses import dataclass, field

import pytest

from personalization.decisions import registry
from personalization.decisions.engine import decide
from tests.factories import (
    ContentItemFactory,
    ContentKindFactory,
    SlotFactory,
    SlotRuleFactory,
    VisitorFactory,
    grant,
)

MOBILE = {"device": "mobile"}


@dataclass
class FakeOverride:
    """An override answering what a test tells it to, remembering what it was asked."""

    name: str = "fake"
    answer: registry.Override | None = None
    arm: registry.Arm | None = None
    fails: bool = False
    recorded: list = field(default_factory=list)
    asked: list = field(default_factory=list)

    def holdout(self, *, visitor, attributes, now):
        return self.arm

    def slot(self, *, slot, visitor, attributes, forced, now):
        self.asked.append((slot.key, visitor.pk, attributes["device"], dict(forced)))
        if self.fails:
            raise RuntimeError("override down")
        return self.answer

    def forced_slot(self, *, slot, forced, now):
        return self.answer if forced else None

    def variation(self, *, key, visitor, attributes, forced, holdout, now):
        return self.arm

    def control(self, key):
        return "control"

    def prefetch(self, visitors):
        pass

    def record(self, rows):
        self.recorded.extend(rows)


@pytest.fixture
def plugged():
    """Only the fake override is registered during the test; the real ones come back after."""
    saved = dict(registry._overrides)
    registry.overrides_clear()
    fake = FakeOverride()
    registry.override_register(fake)
    yield fake
    registry.overrides_clear()
    registry._overrides.update(saved)


@pytest.fixture
def hero():
    banner = ContentKindFactory(key="banner")
    slot = SlotFactory(key="hero", default_items=[ContentItemFactory(title="Welcome", kind=banner)])
    slot.allowed_kinds.set([banner])
    mobile = SlotRuleFactory(
        slot=slot, position=1, name="Mobile", condition=MOBILE,
        items=[ContentItemFactory(title="Shop on the go", kind=banner)],
    )  # fmt: skip
    everyone = SlotRuleFactory(
        slot=slot, position=2, name="Everyone", condition={},
        items=[ContentItemFactory(title="Spring sale", kind=banner)],
    )  # fmt: skip
    return {"slot": slot, "mobile": mobile, "everyone": everyone, "kind": banner}


@pytest.fixture
def shopper():
    visitor = VisitorFactory()
    grant(visitor, "analytics", "personalization")
    return visitor


def arm(**kwargs) -> registry.Arm:
    return registry.Arm(**{"source": "fake", "test": "hero-test", "variation": "b", **kwargs})


def titles(decision) -> list[str]:
    return [item.title for item in decision.items]


@pytest.mark.django_db
def test_an_override_showing_items_replaces_the_rules(plugged, hero, shopper):
    plugged.answer = registry.Override(
        arm=arm(exposures=((1, 2, 3),)), shows=registry.ITEMS,
        items=(ContentItemFactory(title="Treatment", kind=hero["kind"]),),
    )  # fmt: skip

    decision = decide("hero", shopper, MOBILE)

    assert titles(decision) == ["Treatment"]
    assert (decision.reason, decision.experiment, decision.variation) == (
        "experiment",
        "hero-test",
        "b",
    )
    assert decision.exposures == ((1, 2, 3),) and decision.source == "fake"


@pytest.mark.django_db
def test_an_override_showing_rules_tries_only_those_rules(plugged, hero, shopper):
    plugged.answer = registry.Override(
        arm=arm(), shows=registry.RULES, rule_ids=frozenset({hero["everyone"].pk})
    )

    decision = decide("hero", shopper, MOBILE)

    assert titles(decision) == ["Spring sale"] and decision.reason == "experiment"


@pytest.mark.django_db
def test_an_override_showing_the_usual_content_keeps_the_rule_and_tags_the_arm(
    plugged, hero, shopper
):
    plugged.answer = registry.Override(arm=arm(variation="a"), shows=registry.USUAL)

    decision = decide("hero", shopper, MOBILE)

    assert titles(decision) == ["Shop on the go"] and decision.rule_name == "Mobile"
    assert decision.variation == "a"


@pytest.mark.django_db
def test_an_override_gets_the_visitor_attributes_and_the_variations_staff_force(
    plugged, hero, shopper
):
    decide("hero", shopper, MOBILE, forced={"other-test": 1})

    assert plugged.asked == [("hero", shopper.pk, "mobile", {"other-test": 1})]


@pytest.mark.django_db
def test_a_failing_override_leaves_the_slot_deciding_as_usual(plugged, hero, shopper, caplog):
    plugged.fails = True

    with caplog.at_level(logging.ERROR, logger="personalization.decisions.engine"):
        decision = decide("hero", shopper, MOBILE)

    assert titles(decision) == ["Shop on the go"] and decision.reason == "rule"
    assert "override down" in caplog.text


@pytest.mark.django_db
def test_the_holdouts_control_sees_the_default_with_its_exposure(plugged, hero, shopper):
    plugged.arm = arm(test="holdout", variation="control", in_control=True, exposures=((1, 9, 9),))

    decision = decide("hero", shopper, MOBILE)

    assert titles(decision) == ["Welcome"] and decision.reason == "holdout"
    assert decision.exposures == ((1, 9, 9),)


@pytest.mark.django_db
def test_a_visitor_without_consent_is_never_offered_to_an_override(plugged, hero):
    visitor = VisitorFactory()
    grant(visitor, "analytics")

    decision = decide("hero", visitor, MOBILE)

    assert decision.reason == "no_consent" and plugged.asked == []


@pytest.mark.django_db
def test_a_forced_variation_is_shown_even_without_consent_and_records_nothing(plugged, hero):
    plugged.answer = registry.Override(
        arm=arm(), shows=registry.ITEMS,
        items=(ContentItemFactory(title="Treatment", kind=hero["kind"]),),
    )  # fmt: skip

    decision = decide("hero", None, forced={"hero-test": 1})

    assert titles(decision) == ["Treatment"] and decision.exposures == ()


@pytest.mark.django_db
def test_exposures_go_back_to_the_override_that_made_them(plugged):
    registry.exposures_record({"fake": {(1, 2, 3)}, "someone-else": {(4, 5, 6)}})

    assert plugged.recorded == [(1, 2, 3)]


@pytest.mark.django_db
def test_with_no_override_registered_slots_decide_as_usual(hero, shopper):
    saved = dict(registry._overrides)
    registry.overrides_clear()
    try:
        decision = decide("hero", shopper, MOBILE)
    finally:
        registry._overrides.update(saved)

    assert titles(decision) == ["Shop on the go"] and decision.experiment == ""


def test_an_override_without_a_name_is_refused_at_registration():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="needs a name"):
        registry.override_register(FakeOverride(name=""))
