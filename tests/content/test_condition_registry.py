"""Slot-rule conditions are checked and edited by what the condition language's app registers."""

import pytest
from django import forms
from django.contrib import admin
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.test import RequestFactory

from content import registry
from content.admin.slots import SlotRuleAdmin
from content.models import Slot, SlotRule


@pytest.fixture
def no_condition_checks(monkeypatch):
    monkeypatch.setattr(registry, "_condition_validators", [])


@pytest.fixture
def no_condition_widget(monkeypatch):
    monkeypatch.setattr(registry, "_condition_widget", None)


def rule(condition: object) -> SlotRule:
    return SlotRule(slot=Slot(key="hero", name="Hero"), condition=condition)


def rule_form_condition_widget() -> forms.Widget:
    rule_admin = SlotRuleAdmin(SlotRule, admin.site)
    field = rule_admin.formfield_for_dbfield(
        SlotRule._meta.get_field("condition"), RequestFactory()
    )
    return field.widget


def test_a_slot_rule_shows_editors_the_problems_a_registered_check_finds(no_condition_checks):
    registry.condition_validator_register(lambda condition: ["dogs are not an attribute"])

    with pytest.raises(ValidationError) as refused:
        rule({"dog": "rex"}).clean()

    assert refused.value.message_dict == {"condition": ["dogs are not an attribute"]}


def test_only_the_first_check_that_finds_problems_speaks(no_condition_checks):
    registry.condition_validator_register(lambda condition: [] if condition else ["empty"])
    registry.condition_validator_register(lambda condition: ["unknown attribute"])

    assert registry.condition_errors({}) == ["empty"]
    assert registry.condition_errors({"dog": "rex"}) == ["unknown attribute"]


def test_a_condition_every_check_accepts_has_no_errors(no_condition_checks):
    registry.condition_validator_register(lambda condition: [])

    rule({"device": "mobile"}).clean()

    assert registry.condition_errors({"device": "mobile"}) == []


def test_a_slot_rule_without_a_registered_check_is_a_configuration_error(no_condition_checks):
    with pytest.raises(ImproperlyConfigured, match=r"condition_validator_register\(\)"):
        rule({"device": "mobile"}).clean()


@pytest.mark.parametrize(
    ("condition", "error"),
    [
        ({"visits": {"$gte": {"a": 1}}}, "visits: $gte needs a number or a string"),
        ({"sessions_30d": {"$gte": "three"}}, "sessions_30d: $gte needs a number"),
    ],
    ids=["the language", "the attribute catalogue"],
)
def test_personalization_checks_slot_rules_against_its_language_and_catalogue(condition, error):
    with pytest.raises(ValidationError) as refused:
        rule(condition).clean()

    (message,) = refused.value.message_dict["condition"]
    assert message.startswith(error)


def test_editors_write_conditions_with_the_registered_widget(monkeypatch):
    class PlainWidget(forms.Textarea):
        pass

    monkeypatch.setattr(registry, "_condition_widget", None)
    registry.condition_widget_register(PlainWidget)

    assert isinstance(rule_form_condition_widget(), PlainWidget)


def test_personalization_gives_editors_its_rule_builder_for_conditions():
    assert type(rule_form_condition_widget()).__name__ == "ConditionWidget"


def test_a_condition_form_without_a_registered_widget_is_a_configuration_error(
    no_condition_widget,
):
    with pytest.raises(ImproperlyConfigured, match=r"condition_widget_register\(\)"):
        rule_form_condition_widget()


def test_rule_lists_say_conditions_in_the_words_personalization_registers():
    assert registry.condition_summary({"device": "mobile", "visit_count": {"$gte": 3}}) == (
        "device is mobile and visited 3+ times"
    )


def test_a_rule_list_without_a_registered_summarizer_is_a_configuration_error(monkeypatch):
    monkeypatch.setattr(registry, "_condition_summarizer", None)

    with pytest.raises(ImproperlyConfigured, match=r"condition_summarizer_register\(\)"):
        registry.condition_summary({})
