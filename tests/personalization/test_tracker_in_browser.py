import time

import pytest
from django.conf import settings
from django.core import signing

from personalization.visitors.models import Event, Visitor
from personalization.visitors.selectors import COOKIE_SALT
from tests.factories import ContentItemFactory
from tests.factories.personalization import VisitorFactory, grant

PAGE = """<!doctype html>
<html><head><title>Shop</title>
<script src="/static/personalization/tracker.js" defer data-endpoint="/api/v1/events"
        data-interval="60000"></script>
</head><body>
<a href="/tracker-next" data-tailor-item="ext-1"><span>Running shoes</span></a>
</body></html>"""


def signed_cookie(visitor: Visitor) -> str:
    """The value `response.set_signed_cookie` gives the visitor cookie."""
    signer = signing.get_cookie_signer(salt=settings.TAILOR_VISITOR_COOKIE + COOKIE_SALT)
    return signer.sign(str(visitor.uid))


def serving(body: str):
    """A Playwright route handler answering with an HTML page."""
    return lambda route: route.fulfill(body=body, content_type="text/html")


def events_of(visitor: Visitor, count: int, timeout: float = 10.0) -> list[Event]:
    """Wait for the live server to store `count` events of the visitor."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = list(Event.objects.filter(visitor=visitor).select_related("item"))
        if len(events) >= count:
            return events
        time.sleep(0.1)
    return list(Event.objects.filter(visitor=visitor))


@pytest.mark.browser
def test_the_tracker_sends_a_view_and_a_click_when_the_visitor_leaves(
    page, live_server, transactional_db
):
    ContentItemFactory(external_id="ext-1")
    visitor = VisitorFactory(external_id=None)
    grant(visitor, "analytics")
    page.context.add_cookies(
        [{"name": settings.TAILOR_VISITOR_COOKIE, "value": signed_cookie(visitor),
          "url": live_server.url, "httpOnly": True, "sameSite": "Lax"}]
    )  # fmt: skip
    html = {"/tracker-test": PAGE, "/tracker-next": "<!doctype html><title>Next</title>"}
    for path, body in html.items():
        page.route(f"{live_server.url}{path}", serving(body))

    page.goto("/tracker-test")
    page.wait_for_function("window.tailor && typeof window.tailor.track === 'function'")
    page.click("text=Running shoes")  # leaving the page sends the batch
    page.wait_for_url("**/tracker-next")

    events = {event.type: event for event in events_of(visitor, 2)}
    assert set(events) == {"view", "click"}
    assert events["view"].properties == {"path": "/tracker-test"}
    assert events["click"].item.external_id == "ext-1"
    assert events["click"].context["browser"] == "HeadlessChrome"
    time_zone = {c["name"]: c["value"] for c in page.context.cookies()}.get("tailor_tz")
    assert time_zone
