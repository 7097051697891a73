"""Slot rules in the admin: each edited on its own page, listed in order on the slot's page."""

import pytest

from content.models import SlotRule
from tests.factories import SlotFactory, SlotRuleFactory, UserFactory

ADD_URL = "/admin/content/slotrule/add/"


def rule_form(slot, condition: str, name: str = "", strategy: str = "items") -> dict[str, object]:
    return {
        "slot": slot.pk, "name": name, "condition": condition, "strategy": strategy,
        "is_active": "on", "active_from_0": "", "active_from_1": "", "active_until_0": "",
        "active_until_1": "",
    }  # fmt: skip


@pytest.fixture
def editor_client(client):
    client.force_login(UserFactory(superuser=True))
    return client


@pytest.mark.django_db
def test_a_new_rule_goes_after_the_slots_other_rules_and_back_to_the_slot(editor_client):
    slot = SlotFactory(key="hero")
    SlotRuleFactory(slot=slot, position=4, name="First")

    response = editor_client.post(ADD_URL, rule_form(slot, '{"device": "mobile"}', name="Phones"))

    assert response.status_code == 302
    assert response["Location"] == f"/admin/content/slot/{slot.pk}/change/"
    assert [(r.name, r.position) for r in slot.rules.order_by("position")] == [
        ("First", 4),
        ("Phones", 5),
    ]


@pytest.mark.django_db
def test_a_rule_without_a_name_is_named_after_its_condition(editor_client):
    slot = SlotFactory(key="hero")
    condition = '{"device": "mobile", "visit_count": {"$gte": 3}}'

    editor_client.post(ADD_URL, rule_form(slot, condition))

    assert SlotRule.objects.get(slot=slot).name == "Device is mobile and visited 3+ times"


@pytest.mark.django_db
def test_an_invalid_condition_is_refused_with_its_path_named(editor_client):
    slot = SlotFactory(key="hero")
    condition = '{"$and": [{"device": "mobile"}, {"visit_count": {"$gte": {"a": 1}}}]}'

    response = editor_client.post(ADD_URL, rule_form(slot, condition))

    html = response.content.decode()
    assert response.status_code == 200
    assert "$and[1].visit_count: $gte needs a number" in html
    assert not SlotRule.objects.exists()


@pytest.mark.django_db
def test_a_condition_that_is_not_json_is_refused(editor_client):
    slot = SlotFactory(key="hero")

    response = editor_client.post(ADD_URL, rule_form(slot, "{device: mobile"))

    assert response.status_code == 200
    assert "Enter a valid JSON" in response.content.decode()
    assert not SlotRule.objects.exists()


@pytest.mark.django_db
def test_a_value_of_the_wrong_type_for_a_known_attribute_is_refused(editor_client):
    slot = SlotFactory(key="hero")

    response = editor_client.post(ADD_URL, rule_form(slot, '{"sessions_30d": {"$gte": "three"}}'))

    assert response.status_code == 200
    assert "sessions_30d: $gte needs a number" in response.content.decode()
    assert not SlotRule.objects.exists()


@pytest.mark.django_db
def test_an_unknown_attribute_is_refused_at_save_naming_it(editor_client):
    slot = SlotFactory(key="hero")

    response = editor_client.post(ADD_URL, rule_form(slot, '{"$or": [{"vists": {"$gte": 3}}]}'))

    assert response.status_code == 200
    assert "$or[0].vists: unknown attribute vists: not in the catalogue" in (
        response.content.decode()
    )
    assert not SlotRule.objects.exists()


@pytest.mark.django_db
def test_the_slot_page_lists_rules_in_order_with_their_conditions_in_plain_words(editor_client):
    slot = SlotFactory(key="hero")
    SlotRuleFactory(slot=slot, position=2, name="Regulars", condition={"visit_count": {"$gte": 3}})
    SlotRuleFactory(slot=slot, position=1, name="Phones", condition={"device": "mobile"})

    html = editor_client.get(f"/admin/content/slot/{slot.pk}/change/").content.decode()

    assert html.index("Phones") < html.index("Regulars")
    assert "device is mobile" in html
    assert "visited 3+ times" in html
    assert f"/admin/content/slotrule/add/?slot={slot.pk}" in html


@pytest.mark.django_db
def test_the_rule_form_says_which_fields_each_strategy_uses(editor_client):
    slot = SlotFactory(key="hero")

    html = editor_client.get(f"{ADD_URL}?slot={slot.pk}").content.decode()

    assert (
        'data-strategy-fields="items:items;newest_tagged:tags;recommendations:tags,kinds"' in html
    )
    assert f'<option value="{slot.pk}" selected>' in html
