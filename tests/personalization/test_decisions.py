from datetime import timedelta

import pytest
from django.utils import timezone

from content.models import ContentItem, SlotRule
from personalization.decisions.engine import decide
from personalization.features.models import VisitorFeatures
from personalization.visitors.models import Event
from tests.factories import (
    ContentItemFactory,
    ContentKindFactory,
    SlotFactory,
    SlotRuleFactory,
    TagFactory,
    VisitorFactory,
    grant,
)

MOBILE = {"device": "mobile"}
DESKTOP = {"device": "desktop"}


@pytest.fixture
def hero():
    """A hero slot: rule 1 for mobile visitors, rule 2 for sports fans, a default banner."""
    banner = ContentKindFactory(key="banner")
    default = ContentItemFactory(title="Welcome", kind=banner)
    slot = SlotFactory(key="hero", default_items=[default])
    slot.allowed_kinds.set([banner])
    SlotRuleFactory(
        slot=slot, position=1, name="Mobile", condition=MOBILE,
        items=[ContentItemFactory(title="Shop on the go", kind=banner)],
    )  # fmt: skip
    SlotRuleFactory(
        slot=slot, position=2, name="Sports fans", condition={"affinity.sports": {"$gte": 0.5}},
        items=[ContentItemFactory(title="New season", kind=banner)],
    )  # fmt: skip
    return slot


@pytest.fixture
def fan():
    visitor = VisitorFactory()
    grant(visitor, "analytics", "personalization")
    VisitorFeatures.objects.create(
        visitor=visitor, computed_at=timezone.now(), tag_affinities={"sports": 0.9}
    )
    return visitor


def titles(decision) -> list[str]:
    return [item.title for item in decision.items]


@pytest.mark.django_db
def test_the_first_matching_rule_wins(hero, fan):
    decision = decide("hero", fan, MOBILE)

    assert titles(decision) == ["Shop on the go"]
    assert (decision.reason, decision.rule_name) == ("rule", "Mobile")


@pytest.mark.django_db
def test_a_later_rule_matches_when_earlier_ones_do_not(hero, fan):
    decision = decide("hero", fan, DESKTOP)

    assert titles(decision) == ["New season"]
    assert decision.rule_name == "Sports fans"


@pytest.mark.django_db
def test_no_matching_rule_gives_the_default(hero):
    visitor = VisitorFactory()
    grant(visitor, "personalization")

    decision = decide("hero", visitor, DESKTOP)

    assert titles(decision) == ["Welcome"]
    assert decision.reason == "default"


@pytest.mark.django_db
def test_a_visitor_without_personalization_consent_gets_the_default(hero):
    visitor = VisitorFactory()
    grant(visitor, "analytics")

    decision = decide("hero", visitor, MOBILE)

    assert titles(decision) == ["Welcome"]
    assert decision.reason == "no_consent"


@pytest.mark.django_db
def test_an_unidentified_visitor_gets_the_default(hero):
    assert titles(decide("hero", None, MOBILE)) == ["Welcome"]


@pytest.mark.django_db
def test_an_unknown_slot_shows_nothing_and_says_so():
    decision = decide("no-such-slot", None)

    assert (decision.items, decision.reason) == ([], "unknown_slot")


@pytest.mark.django_db
def test_an_expired_item_is_skipped_and_the_next_rule_is_tried(hero, fan):
    ContentItem.objects.filter(title="Shop on the go").update(
        expire_at=timezone.now() - timedelta(minutes=1)
    )
    SlotRule.objects.get(name="Mobile").save()  # an editor's save reloads the definition

    assert titles(decide("hero", fan, MOBILE)) == ["New season"]


@pytest.mark.django_db
def test_items_of_a_kind_the_slot_does_not_allow_are_not_shown(hero, fan):
    rule = SlotRule.objects.get(name="Mobile")
    rule.items.set([ContentItemFactory(title="An article", kind=ContentKindFactory(key="article"))])

    assert titles(decide("hero", fan, MOBILE)) == ["New season"]


@pytest.mark.django_db
def test_an_edited_rule_takes_effect_on_the_next_decision(hero, fan):
    rule = SlotRule.objects.get(name="Mobile")
    rule.condition = {"device": "tablet"}
    rule.save()

    assert titles(decide("hero", fan, MOBILE)) == ["New season"]


@pytest.mark.django_db
def test_a_failure_while_deciding_falls_back_to_the_default(hero, fan, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("feature store unavailable")

    monkeypatch.setattr("personalization.decisions.engine.visitor_attributes", broken)

    decision = decide("hero", fan, MOBILE)

    assert titles(decision) == ["Welcome"]
    assert decision.reason == "error"
    assert "Decision failed for slot 'hero'" in caplog.text


@pytest.mark.django_db
def test_recommendations_favour_the_visitors_tags_and_skip_what_they_saw(fan):
    product = ContentKindFactory(key="product")
    sports, garden = TagFactory(name="Sports", slug="sports"), TagFactory(name="Garden")
    seen = ContentItemFactory(title="Ball (seen)", kind=product, tags=[sports])
    ContentItemFactory(title="Rake", kind=product, tags=[garden], priority=9)
    ContentItemFactory(title="Boots", kind=product, tags=[sports])
    Event.objects.create(
        event_id="seen-1", visitor=fan, type="view", item=seen, occurred_at=timezone.now()
    )
    slot = SlotFactory(key="recommended", max_items=2)
    SlotRuleFactory(slot=slot, strategy=SlotRule.Strategy.RECOMMENDATIONS, condition={})

    assert titles(decide("recommended", fan, DESKTOP)) == ["Boots", "Rake"]


@pytest.mark.django_db
def test_random_rotation_is_stable_for_one_visitor_on_one_day(fan):
    kind = ContentKindFactory(key="offer")
    slot = SlotFactory(key="offers", max_items=3, rotation="random")
    items = [ContentItemFactory(title=f"Offer {n}", kind=kind) for n in range(6)]
    SlotRuleFactory(slot=slot, condition={}, items=items)

    first = titles(decide("offers", fan, DESKTOP))

    assert titles(decide("offers", fan, DESKTOP)) == first
    assert len(first) == 3
