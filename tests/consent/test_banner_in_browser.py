"""The consent banner in chromium: reject and accept, keyboard use, re-opening from the footer."""

import time

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from consent.selectors import allows
from personalization.visitors.models import Event, Visitor

pytestmark = pytest.mark.browser


def banner(page: Page):
    return page.get_by_role("dialog", name="Your privacy choices")


def cookie_names(page: Page) -> set[str]:
    return {cookie["name"] for cookie in page.context.cookies()}


def wait_for_rows(query, count: int, timeout: float = 10.0) -> int:
    """Wait for the live server to have stored `count` rows of `query`."""
    deadline = time.monotonic() + timeout
    while (found := query.count()) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    return found


def test_reject_all_leaves_no_tracking_cookie_and_stores_no_page_view(page, transactional_db):
    page.goto("/")
    expect(banner(page)).to_be_visible()

    with page.expect_navigation():  # the choice is saved, then the page reloads
        page.get_by_role("button", name="Reject all").click()
    expect(banner(page)).to_be_hidden()
    assert settings.TAILOR_VISITOR_COOKIE not in cookie_names(page)
    assert settings.TAILOR_CONSENT_COOKIE in cookie_names(page)

    page.goto("/")

    expect(banner(page)).to_be_hidden()  # the refusal is remembered
    assert settings.TAILOR_VISITOR_COOKIE not in cookie_names(page)
    assert not Event.objects.exists()
    assert not Visitor.objects.exists()


def test_accept_all_sets_the_visitor_cookie_and_stores_the_next_page_view(page, transactional_db):
    page.goto("/")

    with page.expect_navigation():
        page.get_by_role("button", name="Accept all").click()
    expect(banner(page)).to_be_hidden()

    assert settings.TAILOR_VISITOR_COOKIE in cookie_names(page)
    visitor = Visitor.objects.get()
    assert allows(visitor, "analytics") and allows(visitor, "marketing")
    page.goto("/")
    # The reload after the choice and this visit: two page views.
    assert wait_for_rows(Event.objects.filter(visitor=visitor, type="view"), 2) == 2


def test_the_banner_is_a_dialog_with_focus_and_reject_as_prominent_as_accept(
    page, transactional_db
):
    page.goto("/")
    dialog = banner(page)
    expect(dialog).to_be_visible()

    assert page.evaluate("!!document.activeElement.closest('[role=dialog]')")
    reject = page.get_by_role("button", name="Reject all")
    accept = page.get_by_role("button", name="Accept all")
    for side in ("width", "height"):  # the same size, give or take flex's subpixel rounding
        assert reject.bounding_box()[side] == pytest.approx(accept.bounding_box()[side], abs=1)
    style = (
        "e => ['backgroundColor', 'color', 'fontSize', 'fontWeight', 'borderRadius']"
        ".map(name => getComputedStyle(e)[name])"
    )
    assert reject.evaluate(style) == accept.evaluate(style)
    necessary = page.get_by_role("checkbox", name="Strictly necessary")
    expect(necessary).to_be_checked()
    expect(necessary).to_be_disabled()
    for name in ("Analytics", "Personalization", "Marketing"):
        expect(page.get_by_role("checkbox", name=name, exact=True)).not_to_be_checked()
    expect(page.get_by_text("Records the pages you view")).to_be_visible()


def test_granular_choices_work_from_the_keyboard_alone(page, transactional_db):
    page.goto("/")
    expect(banner(page)).to_be_visible()

    page.keyboard.press("Tab")  # from the dialog to its first toggle: Analytics
    expect(page.get_by_role("checkbox", name="Analytics")).to_be_focused()
    page.keyboard.press("Space")
    save = page.get_by_role("button", name="Save choices")
    while not save.evaluate("e => e === document.activeElement"):
        page.keyboard.press("Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    visitor = Visitor.objects.get()
    assert allows(visitor, "analytics")
    assert not allows(visitor, "personalization")
    assert not allows(visitor, "marketing")


def test_privacy_settings_in_the_footer_reopen_the_banner_with_the_choice_made(
    page, transactional_db
):
    page.goto("/")
    with page.expect_navigation():
        page.get_by_role("button", name="Reject all").click()
    expect(banner(page)).to_be_hidden()

    page.get_by_role("link", name="Privacy settings").click()

    expect(banner(page)).to_be_visible()
    expect(page.get_by_role("checkbox", name="Analytics")).not_to_be_checked()
    page.keyboard.press("Escape")
    expect(banner(page)).to_be_hidden()
    expect(page.get_by_role("link", name="Privacy settings")).to_be_focused()
