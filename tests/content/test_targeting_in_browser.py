"""An editor's targeting in the browser, as the superuser and as each role: rules built with the
pickers, reordered by dragging, the site previewed as a segment and as a real visitor."""

from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from playwright.sync_api import expect

from consent.models import ConsentRecord
from content.models import Slot, SlotRule
from experiments.models import Exposure
from personalization.segments.models import SegmentMembership
from personalization.visitors.models import Event, Impression, Visitor
from tests.factories import UserFactory
from tests.factories.users import PASSWORD
from tests.screens import screenshot

ROLES = ("superuser", "Editor", "Analyst", "Privacy officer")
WRITERS = ("superuser", "Editor")  # may add and change slot rules
PREVIEWERS = ("superuser", "Editor", "Analyst")
TABLES = (Event, Impression, Exposure, Visitor, ConsentRecord, SegmentMembership)
SIZES = {"desktop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", "--visitors", "6", stdout=StringIO())


def user_for(who: str) -> str:
    username = who.lower().replace(" ", "-")
    if who == "superuser":
        UserFactory(username=username, superuser=True)
    else:
        UserFactory(username=username, staff=True).groups.add(Group.objects.get(name=who))
    return username


def log_in(page, who: str) -> None:
    username = user_for(who)
    page.goto("/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.locator("#user-tools").wait_for()


def counts() -> dict[str, int]:
    return {table.__name__: table.objects.count() for table in TABLES}


def hero_slot() -> Slot:
    return Slot.objects.get(key="homepage-hero")


def fill_row(row, attribute: str, operator: str) -> None:
    row.locator(".tc-attribute").fill(attribute)
    row.locator(".tc-operator").select_option(operator)


@pytest.mark.browser
@pytest.mark.parametrize("who", ROLES)
def test_a_rule_is_built_with_the_pickers_against_a_segment(page, demo, who):
    log_in(page, who)
    slot = hero_slot()

    response = page.goto(f"/admin/content/slot/{slot.pk}/change/")

    if who == "Privacy officer":
        assert response.status == 403
        return
    if who not in WRITERS:
        expect(page.locator("a.tailor-add-rule")).to_have_count(0)
        assert page.goto(f"/admin/content/slotrule/add/?slot={slot.pk}").status == 403
        return
    page.click("a.tailor-add-rule")
    builder = page.locator(".field-condition .tailor-condition")
    root = builder.locator(".tc-root")
    root.locator(":scope > .tc-actions .tc-add-row").click()
    segment_row = root.locator(".tc-row").nth(0)
    fill_row(segment_row, "segments", "segment")
    segment_row.locator(".tc-value").focus()
    expect(builder.locator("datalist option[value=runners]")).to_have_attribute("label", "Runners")
    segment_row.locator(".tc-value").fill("runners")
    root.locator(":scope > .tc-actions .tc-add-row").click()
    country_row = root.locator(".tc-row").nth(1)
    fill_row(country_row, "country", "eq")
    country_row.locator(".tc-value").fill("Switz")
    expect(builder.locator("datalist option[value=CH]")).to_have_attribute("label", "Switzerland")
    country_row.locator(".tc-value").fill("CH")
    country_option = builder.locator("datalist option[value=country]")
    expect(country_option).to_have_attribute("label", "string · ISO 3166 country code from the "
                                             'CDN header; empty if unknown. e.g. "DE"')  # fmt: skip
    page.select_option("#id_strategy", "items")
    expect(page.locator(".field-items")).to_be_visible()
    expect(page.locator(".field-tags")).to_be_hidden()
    page.select_option("#id_strategy", "recommendations")
    expect(page.locator(".field-items")).to_be_hidden()
    expect(page.locator(".field-kinds")).to_be_visible()
    screenshot(page, f"rule-built-with-pickers-{who}")
    page.click("input[name=_save]")
    page.locator(".messagelist .success").wait_for()

    rule = SlotRule.objects.get(slot=slot, condition={"$inSegment": "runners", "country": "CH"})
    assert rule.name == "In segment runners and country is CH"
    assert rule.position == 6
    listed = page.locator(".inline-related tr.has_original", has_text="In segment runners and")
    expect(listed).to_contain_text("country is CH")
    screenshot(page, f"slot-rules-listed-{who}")


@pytest.mark.browser
@pytest.mark.parametrize("who", ROLES)
def test_rules_are_reordered_by_dragging(page, demo, who):
    log_in(page, who)
    slot = hero_slot()
    before = list(slot.rules.order_by("position").values_list("name", flat=True))

    response = page.goto(f"/admin/content/slot/{slot.pk}/change/")

    if who == "Privacy officer":
        assert response.status == 403
        return
    rows = page.locator(".inline-related tbody tr.has_original")
    expect(rows).to_have_count(5)
    expect(rows.nth(0)).to_contain_text("device is mobile")
    if who not in WRITERS:
        expect(page.locator("input[name=_save]")).to_have_count(0)
        screenshot(page, f"slot-rules-read-only-{who}")
        return
    rows.nth(2).locator("td.original p").drag_to(rows.nth(0).locator("td.original p"))
    expect(rows.nth(0)).to_contain_text("Sports fans")
    screenshot(page, f"slot-rules-dragged-{who}")
    page.click("input[name=_save]")
    page.locator(".messagelist .success").wait_for()

    after = list(slot.rules.order_by("position").values_list("name", flat=True))
    assert after == [before[2], before[0], before[1], *before[3:]]


@pytest.mark.browser
@pytest.mark.parametrize("who", ROLES)
def test_the_site_is_previewed_as_a_segment_and_a_real_visitor_recording_nothing(page, demo, who):
    log_in(page, who)
    page.goto("/")  # the staff member's own visit is recorded as usual, before previewing
    before = counts()

    response = page.goto("/admin/tailor/preview/")

    if who not in PREVIEWERS:
        assert response.status == 403
        expect(page.locator(".tailor-preview-bar")).to_have_count(0)
        return
    page.select_option("#id_segment", "mobile-visitors")
    page.click("input[value='Preview the site']")
    page.wait_for_url("**/")
    expect(page.locator(".hero [data-item=b-mobile]")).to_have_count(1)
    bar = page.locator(".tailor-preview-bar")
    expect(bar).to_contain_text("a member of Mobile visitors (mobile-visitors)")
    expect(bar.locator("[data-slot=homepage-hero]")).to_contain_text("rule 'Mobile visitors'")
    screenshot(page, f"preview-as-segment-{who}")
    page.goto("/admin/tailor/preview/")
    if who != "superuser":
        expect(page.locator("#id_visitor")).to_have_count(0)  # needs the view_visitor permission
    else:
        page.locator("#id_visitor").fill("demo")
        expect(page.locator("#tailor-preview-visitors option[value=demo-1]")).to_have_count(1)
        page.locator("#id_visitor").fill("demo-1")
        page.select_option("#id_segment", "")
        page.click("input[value='Preview the site']")
        page.wait_for_url("**/")
        expect(page.locator(".tailor-preview-bar")).to_contain_text("visitor demo-1")
        expect(page.locator(".hero [data-item=b-sports]")).to_have_count(1)
        screenshot(page, f"preview-as-visitor-{who}")
    page.goto("/?utm_source=newsletter")

    assert counts() == before
    page.click(".tailor-preview-bar button:text('Stop preview')")
    expect(page.locator(".hero [data-item=b-welcome]")).to_have_count(1)


WIDER_THAN_SCREEN = """() => document.documentElement.scrollWidth <= window.innerWidth ? [] :
    [...document.querySelectorAll("body *")]
        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
        .slice(0, 5).map(e => `${e.tagName.toLowerCase()}.${e.className}`)"""


def wider_than_screen(page) -> list[str]:
    """[] when the page does not scroll sideways, else the first elements that stick out."""
    return page.evaluate(WIDER_THAN_SCREEN)


@pytest.mark.browser
@pytest.mark.parametrize("size", SIZES)
def test_the_pages_touched_do_not_scroll_sideways(browser, live_server, demo, size):
    context = browser.new_context(base_url=live_server.url, viewport=SIZES[size])
    page = context.new_page()
    log_in(page, "superuser")
    slot = hero_slot()
    rule = slot.rules.order_by("position").first()
    pages = {
        "slot": f"/admin/content/slot/{slot.pk}/change/",
        "rule": f"/admin/content/slotrule/{rule.pk}/change/",
        "preview-page": "/admin/tailor/preview/",
        "segment": "/admin/personalization/segment/",
    }
    wide = {}
    for name, url in pages.items():
        page.goto(url, wait_until="networkidle")  # the condition builder has loaded
        screenshot(page, f"{name}-{size}")
        wide[name] = wider_than_screen(page)
    page.goto("/admin/tailor/preview/")
    page.select_option("#id_segment", "mobile-visitors")
    page.click("input[value='Preview the site']")
    page.wait_for_url("**/")
    screenshot(page, f"site-with-preview-bar-{size}")
    wide["site"] = wider_than_screen(page)
    position = page.locator(".tailor-preview-bar").evaluate("bar => getComputedStyle(bar).position")
    context.close()

    assert wide == {name: [] for name in wide}
    assert position == ("fixed" if size == "phone" else "static")  # a bottom sheet on phones
