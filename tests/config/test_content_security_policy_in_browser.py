"""A strict Content-Security-Policy on the site, the admin and the API docs, that nothing breaks.

Chromium reports every refused script, style or connection as a `securitypolicyviolation`
event and a console error; the pages below must produce neither.
"""

import pytest
from playwright.sync_api import expect

from tests.factories import (
    ContentItemFactory,
    ContentKindFactory,
    SlotFactory,
    SlotRuleFactory,
    UserFactory,
)
from tests.factories.users import PASSWORD

WATCH = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportCspViolation(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


@pytest.fixture
def watched(page):
    """The page, with every CSP violation of every document it loads collected."""
    reported: list[str] = []
    page.on(
        "console",
        lambda message: (
            reported.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.expose_function("reportCspViolation", lambda text: reported.append(text))
    page.add_init_script(WATCH)
    page.csp_violations = reported
    return page


def violations(page) -> list[str]:
    return page.csp_violations


@pytest.mark.django_db
def test_every_page_sends_a_policy_without_unsafe_inline(client):
    for url in ["/", "/accounts/login/", "/admin/login/", "/api/v1/docs/"]:
        policy = client.get(url)["Content-Security-Policy"]

        assert "script-src 'self'" in policy, url
        assert "unsafe-inline" not in policy, url
        assert "object-src 'none'" in policy


@pytest.mark.browser
def test_the_site_with_its_banner_and_consent_choices_reports_no_violation(
    watched, transactional_db
):
    banner = ContentKindFactory(key="banner", name="Banner")
    sale = ContentItemFactory(
        title="Summer sale", kind=banner, image_url="https://cdn.example.com/sale.jpg"
    )
    SlotFactory(key="homepage-hero", default_items=[sale])

    watched.goto("/")
    expect(watched.locator(".tailor-block--banner")).to_be_visible()
    with watched.expect_navigation():  # the banner reloads the page after a choice
        watched.get_by_role("button", name="Accept all").click()
    watched.goto(f"/items/{sale.slug}/")
    watched.goto("/accounts/login/")
    watched.wait_for_load_state("networkidle")

    assert violations(watched) == []


@pytest.mark.browser
def test_the_admin_and_its_condition_builder_report_no_violation(watched, transactional_db):
    UserFactory(username="sam", superuser=True)
    slot = SlotFactory(key="homepage-hero")
    rule = SlotRuleFactory(slot=slot, condition={"device": "mobile"})

    watched.goto("/admin/login/")
    watched.fill("#id_username", "sam")
    watched.fill("#id_password", PASSWORD)
    watched.click("input[type=submit]")
    watched.locator("#user-tools").wait_for()
    watched.goto(f"/admin/content/slot/{slot.pk}/change/")  # the draggable rule list
    watched.wait_for_load_state("networkidle")
    watched.goto(f"/admin/content/slotrule/{rule.pk}/change/")
    expect(watched.locator(".tc-operator").first).to_be_visible()
    watched.goto("/admin/content/contentitem/add/")
    watched.wait_for_load_state("networkidle")

    assert violations(watched) == []


@pytest.mark.browser
def test_swagger_ui_renders_under_the_policy(watched, transactional_db):
    watched.goto("/api/v1/docs/")

    expect(watched.locator(".swagger-ui .info .title")).to_contain_text("Tailor API")
    watched.wait_for_load_state("networkidle")
    assert violations(watched) == []


@pytest.mark.browser
def test_the_tracker_runs_on_a_page_under_the_same_policy(watched, live_server, client):
    policy = client.get("/")["Content-Security-Policy"]
    page_html = (
        '<!doctype html><html><head><script src="/static/personalization/tracker.js" defer '
        'data-endpoint="/api/v1/events"></script></head><body>'
        '<a href="#" data-tailor-item="ext-1">Shoes</a></body></html>'
    )
    watched.route(
        "**/shop",
        lambda route: route.fulfill(
            body=page_html, content_type="text/html", headers={"Content-Security-Policy": policy}
        ),
    )

    watched.goto("/shop")
    watched.click("text=Shoes")
    watched.wait_for_load_state("networkidle")

    assert violations(watched) == []
