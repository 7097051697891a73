import pytest
from django.test import RequestFactory

from personalization.visitors.context import describe_user_agent, request_context

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 16_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/16.0 Mobile/15E148 Safari/604.1"
)
ANDROID_TABLET = (
    "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0 Safari/537.36"
)
DESKTOP = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


@pytest.mark.parametrize(
    ("user_agent", "device", "browser", "os"),
    [
        (IPHONE, "mobile", "Mobile Safari", "iOS"),
        (IPAD, "tablet", "Mobile Safari", "iOS"),
        (ANDROID_TABLET, "tablet", "Chrome", "Android"),
        (DESKTOP, "desktop", "Chrome", "Windows"),
        (GOOGLEBOT, "bot", "Googlebot", ""),
    ],
)
def test_the_user_agent_gives_device_browser_and_os(user_agent, device, browser, os):
    described = describe_user_agent(user_agent)

    assert (described["device"], described["browser"], described["os"]) == (device, browser, os)


def test_crawlers_and_empty_user_agents_are_bots():
    assert describe_user_agent(GOOGLEBOT)["is_bot"] is True
    assert describe_user_agent("")["is_bot"] is True
    assert describe_user_agent(DESKTOP)["is_bot"] is False


def test_campaign_referrer_and_country_come_from_the_request(settings):
    request = RequestFactory().get(
        "/?utm_source=newsletter&utm_campaign=spring",
        HTTP_USER_AGENT=DESKTOP,
        HTTP_REFERER="https://www.search.example/results?q=boots",
        HTTP_CF_IPCOUNTRY="de",
    )

    context = request_context(request)

    assert context["utm_source"] == "newsletter"
    assert context["utm_campaign"] == "spring"
    assert context["utm_medium"] == ""
    assert context["referrer_host"] == "www.search.example"
    assert context["country"] == "DE"


def test_local_hour_follows_the_browser_time_zone_cookie():
    from datetime import UTC, datetime

    request = RequestFactory().get("/", HTTP_USER_AGENT=DESKTOP)
    request.COOKIES["tailor_tz"] = "Asia/Tokyo"

    context = request_context(request, now=datetime(2026, 3, 2, 23, 30, tzinfo=UTC))

    assert context["hour"] == 8
    assert context["weekday"] == 2  # Tuesday in Tokyo, still Monday in UTC


def test_an_unknown_time_zone_falls_back_to_the_site_zone():
    from datetime import UTC, datetime

    request = RequestFactory().get("/", HTTP_USER_AGENT=DESKTOP)
    request.COOKIES["tailor_tz"] = "Mars/Olympus_Mons"

    assert request_context(request, now=datetime(2026, 3, 2, 23, 30, tzinfo=UTC))["hour"] == 23
