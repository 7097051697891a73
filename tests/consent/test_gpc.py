"""Global Privacy Control: `Sec-GPC: 1` withdraws marketing once and refuses it on every request."""

import pytest
from django.test import RequestFactory
from rest_framework.test import APIClient

from consent.models import ConsentRecord
from consent.request import request_allows
from consent.selectors import allows
from personalization.visitors.models import Event, Visitor
from tests.consent.test_consent_api import BROWSER, URL, granted, with_visitor_cookie
from tests.factories.personalization import VisitorFactory, grant

pytestmark = pytest.mark.django_db

GPC = {"HTTP_SEC_GPC": "1"}


@pytest.fixture
def browser() -> APIClient:
    return APIClient(HTTP_USER_AGENT=BROWSER)


@pytest.fixture
def marketing_visitor() -> Visitor:
    """A visitor identified by cookie who allowed everything, marketing included."""
    visitor = VisitorFactory(external_id=None)
    grant(visitor, "analytics", "personalization", "marketing")
    return visitor


def gpc_records(visitor: Visitor) -> list[ConsentRecord]:
    return list(ConsentRecord.objects.filter(visitor=visitor, source="gpc"))


def test_gpc_records_one_marketing_withdrawal_however_many_requests(browser, marketing_visitor):
    with_visitor_cookie(browser, marketing_visitor)

    for _ in range(3):
        browser.get("/", **GPC)

    [record] = gpc_records(marketing_visitor)
    assert (record.purpose.key, record.granted) == ("marketing", False)
    assert record.ip_hash and record.user_agent_hash  # the same proof as a banner choice
    assert not allows(marketing_visitor, "marketing")


def test_gpc_leaves_the_other_purposes_as_they_were(browser, marketing_visitor):
    with_visitor_cookie(browser, marketing_visitor)

    browser.get("/", **GPC)

    assert allows(marketing_visitor, "analytics")
    assert allows(marketing_visitor, "personalization")
    assert Event.objects.filter(visitor=marketing_visitor, type="view").count() == 1


def test_gpc_records_nothing_for_a_visitor_who_never_allowed_marketing(browser):
    visitor = VisitorFactory(external_id=None)
    grant(visitor, "analytics")
    with_visitor_cookie(browser, visitor)

    browser.get("/", **GPC)

    assert not gpc_records(visitor)


def test_gpc_from_an_anonymous_browser_stores_nothing(browser):
    browser.get("/", **GPC)

    assert not Visitor.objects.exists()
    assert not ConsentRecord.objects.exists()


def test_without_the_signal_marketing_follows_the_visitors_choice(browser, marketing_visitor):
    with_visitor_cookie(browser, marketing_visitor)

    browser.get("/")

    assert not gpc_records(marketing_visitor)
    assert allows(marketing_visitor, "marketing")


@pytest.mark.parametrize("mode", ["opt-in", "opt-out"])
def test_any_request_with_gpc_refuses_marketing(settings, marketing_visitor, mode):
    settings.TAILOR_CONSENT_MODE = mode
    anonymous = RequestFactory().get("/", **GPC)
    anonymous.visitor = None
    identified = RequestFactory().get("/", **GPC)
    identified.visitor = marketing_visitor  # before the middleware has recorded anything

    assert request_allows(anonymous, "marketing") is False
    assert request_allows(identified, "marketing") is False
    assert request_allows(identified, "analytics") is True


def test_the_consent_api_reports_the_signal_and_marketing_off(browser, marketing_visitor):
    with_visitor_cookie(browser, marketing_visitor)

    body = browser.get(URL, **GPC).json()

    assert body["gpc"] is True
    assert granted(body)["marketing"] is False


def test_accept_all_under_gpc_keeps_marketing_refused(browser):
    choice = {"analytics": True, "personalization": True, "marketing": True}

    response = browser.post(URL, {"purposes": choice}, format="json", **GPC)

    assert response.status_code == 200
    assert response.json()["decided"] is True
    assert granted(response.json())["marketing"] is False
    visitor = Visitor.objects.get()
    assert not allows(visitor, "marketing")
    assert not ConsentRecord.objects.filter(purpose__key="marketing", granted=True).exists()
    assert browser.get(URL, **GPC).json()["decided"] is True  # the signal answered marketing


def test_the_banner_shows_marketing_locked_off_under_gpc(browser):
    html = browser.get("/", **GPC).content.decode()

    marketing = html[html.index('id="tailor-consent-marketing"') :].split(">", 1)[0]
    assert "disabled" in marketing
    assert "checked" not in marketing
    assert "Global Privacy Control" in html
