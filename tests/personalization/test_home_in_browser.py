"""Two demo visitors in chromium see different home pages; withdrawing consent shows defaults."""

from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from playwright.sync_api import Page, expect

from content.models import Slot
from personalization.visitors.models import Visitor
from tests.factories import visitor_cookie
from tests.screens import screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", "--visitors", "6", stdout=StringIO())


def as_visitor(browser, live_server, external_id: str) -> Page:
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(15_000)
    cookie = visitor_cookie(Visitor.objects.get(external_id=external_id))
    context.add_cookies(
        [{"name": settings.TAILOR_VISITOR_COOKIE, "value": cookie, "url": live_server.url}]
    )
    page = context.new_page()
    page.goto("/")
    return page


def hero(page: Page) -> list[str]:
    return page.locator(".hero [data-item]").evaluate_all("els => els.map(e => e.dataset.item)")


def rail(page: Page) -> list[str]:
    return page.locator(".rail--recommended [data-item]").evaluate_all(
        "els => els.map(e => e.dataset.item)"
    )


def defaults(key: str) -> set[str]:
    return set(Slot.objects.get(key=key).default_items.values_list("external_id", flat=True))


def test_two_demo_visitors_see_different_heroes_and_recommendations(browser, live_server, demo):
    runner = as_visitor(browser, live_server, "demo-1")
    listener = as_visitor(browser, live_server, "demo-2")

    assert hero(runner) == ["b-sports"]
    assert hero(listener) == ["b-tech"]
    assert rail(runner) and rail(listener) and rail(runner) != rail(listener)
    screenshot(runner, "home-as-demo-1")
    screenshot(listener, "home-as-demo-2")
    runner.context.close()
    listener.context.close()


def test_withdrawing_personalization_in_the_banner_brings_back_the_default_content(
    browser, live_server, demo
):
    page = as_visitor(browser, live_server, "demo-1")
    assert hero(page) == ["b-sports"]

    page.get_by_role("link", name="Privacy settings").click()
    dialog = page.get_by_role("dialog", name="Your privacy choices")
    expect(dialog).to_be_visible()
    page.get_by_role("checkbox", name="Personalization", exact=True).uncheck()
    with page.expect_navigation():
        page.get_by_role("button", name="Save choices").click()

    assert hero(page) == ["b-welcome"]
    assert set(rail(page)) == defaults("homepage-recommended")
    expect(page.locator(".rail--because")).to_have_count(0)
    page.context.close()
