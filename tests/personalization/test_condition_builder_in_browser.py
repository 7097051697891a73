"""An editor builds a slot rule's condition in the builder, tests it on a visitor and saves it."""

import json

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from content.models import SlotRule
from personalization.features.models import VisitorFeatures
from tests.factories import SlotFactory, SlotRuleFactory, UserFactory, VisitorFactory, grant
from tests.screens import log_in

ENGAGED_ON_MOBILE = {
    "device": "mobile",
    "$or": [{"lifecycle": "engaged"}, {"sessions_30d": {"$gte": 3}}],
}


def fill_row(row, attribute: str, operator: str, value: str) -> None:
    row.locator(".tc-attribute").fill(attribute)
    row.locator(".tc-operator").select_option(operator)
    row.locator(".tc-value").fill(value)


@pytest.mark.browser
def test_an_editor_builds_a_two_level_condition_tests_it_and_saves_it(page, transactional_db):
    UserFactory(username="sam", superuser=True)
    slot = SlotFactory(key="homepage-hero", name="Home page hero")
    visitor = VisitorFactory(external_id="crm-42")
    grant(visitor, "analytics", "personalization")
    VisitorFeatures.objects.create(
        visitor=visitor, computed_at=timezone.now(), lifecycle="engaged", sessions_30d=1
    )
    log_in(page, "sam")

    page.goto(f"/admin/content/slot/{slot.pk}/change/")
    page.click("a.tailor-add-rule")
    page.fill("#id_name", "Engaged on mobile")
    builder = page.locator(".field-condition .tailor-condition")
    root = builder.locator(".tc-root")
    expect(root).to_contain_text("No conditions: matches every visitor.")

    root.locator(":scope > .tc-actions .tc-add-row").click()
    expect(root.locator(".tc-attribute")).to_be_focused()
    fill_row(root.locator(":scope > .tc-children > .tc-row"), "device", "eq", "mobile")
    root.locator(":scope > .tc-actions .tc-add-group").click()
    group = root.locator(":scope > .tc-children > .tc-group")
    group.locator(":scope > .tc-group-header .tc-group-type").select_option("or")
    fill_row(group.locator(".tc-row").nth(0), "lifecycle", "eq", "engaged")
    group.locator(":scope > .tc-actions .tc-add-row").click()
    fill_row(group.locator(".tc-row").nth(1), "sessions_30d", "gte", "3")
    expect(group.locator(".tc-row").nth(1)).not_to_have_class("tc-unknown")

    builder.get_by_role("tab", name="JSON").click()
    textarea = page.locator("#id_condition")
    expect(textarea).to_be_visible()
    assert json.loads(textarea.input_value()) == ENGAGED_ON_MOBILE
    builder.get_by_role("tab", name="Builder").click()

    # Without a device in the request context the device test is the part that fails.
    builder.get_by_label("Visitor id").fill("crm-42")
    builder.get_by_role("button", name="Test", exact=True).click()
    expect(builder.locator(".tc-verdict")).to_contain_text("does not match")
    expect(builder.locator(".tc-first-failure")).to_have_attribute("data-path", "device")

    builder.get_by_label("device", exact=True).fill("mobile")
    builder.get_by_role("button", name="Test", exact=True).click()
    expect(builder.locator(".tc-verdict")).to_have_attribute("data-matched", "true")
    expect(builder.locator(".tc-verdict strong")).to_have_text("matches")
    expect(builder.locator(".tc-first-failure")).to_have_count(0)
    builder.locator(".tc-attributes summary").click()
    expect(builder.locator(".tc-attributes pre")).to_contain_text('"lifecycle": "engaged"')

    page.click("input[name=_save]")
    page.locator(".messagelist .success").wait_for()
    rule = SlotRule.objects.get(slot=slot)
    assert rule.name == "Engaged on mobile"
    assert rule.condition == ENGAGED_ON_MOBILE


@pytest.mark.browser
def test_json_the_builder_cannot_show_is_kept_and_server_errors_still_show(page, transactional_db):
    UserFactory(username="sam", superuser=True)
    slot = SlotFactory(key="homepage-hero")
    # Keys in the order PostgreSQL's jsonb keeps them (shorter keys first).
    mobile_regulars = {"device": "mobile", "sessions_30d": {"$gte": 3}}
    first_rule = SlotRuleFactory(slot=slot, position=1, condition=mobile_regulars)
    elem_match = {"favourite_kinds": {"$elemMatch": {"$eq": "article"}}}
    second_rule = SlotRuleFactory(slot=slot, position=2, condition=elem_match)
    log_in(page, "sam")

    page.goto(f"/admin/content/slotrule/{first_rule.pk}/change/")

    first = page.locator(".field-condition .tailor-condition")
    rows = first.locator(".tc-row")
    expect(rows).to_have_count(2)
    expect(rows.nth(1).locator(".tc-attribute")).to_have_value("sessions_30d")
    expect(rows.nth(1).locator(".tc-operator")).to_have_value("gte")
    expect(rows.nth(1).locator(".tc-value")).to_have_value("3")
    rows.nth(1).locator(".tc-value").fill("three")
    expect(rows.nth(1).locator(".tc-hint")).to_contain_text("Expects a number.")

    page.goto(f"/admin/content/slotrule/{second_rule.pk}/change/")
    second = page.locator(".field-condition .tailor-condition")
    expect(second.locator(".tc-notice")).to_contain_text("$elemMatch")
    expect(second.get_by_role("tab", name="JSON")).to_have_attribute("aria-selected", "true")
    second.get_by_role("tab", name="Builder").click()
    expect(second.locator(".tc-notice")).to_be_visible()
    second.get_by_role("tab", name="JSON").click()
    assert json.loads(page.locator("#id_condition").input_value()) == elem_match

    # Edit the first rule in the builder into a condition the server refuses.
    page.goto(f"/admin/content/slotrule/{first_rule.pk}/change/")
    rows = first.locator(".tc-row")
    rows.nth(1).locator(".tc-value").fill("3")
    rows.nth(0).locator(".tc-operator").select_option("regex")
    rows.nth(0).locator(".tc-value").fill("mobile(")
    page.click("input[name=_save]")

    expect(page.locator(".errorlist").first).to_contain_text(
        "device: $regex is not a valid regular expression"
    )
    assert SlotRule.objects.get(position=1).condition == mobile_regulars
    assert SlotRule.objects.get(position=2).condition == elem_match
    # The refused condition comes back into the builder as it was typed.
    refused = page.locator(".field-condition .tc-row").nth(0)
    expect(refused.locator(".tc-operator")).to_have_value("regex")
    expect(refused.locator(".tc-value")).to_have_value("mobile(")
