"""`GET/POST /api/v1/consent` from browsers (banner) and machine clients (API key)."""

import pytest
from django.conf import settings
from django.core import signing
from django.test import RequestFactory
from rest_framework.test import APIClient

from config.services import api_key_create
from consent.cookies import consent_cookie_value, consent_from_cookie
from consent.models import ConsentRecord, PolicyVersion
from consent.request import request_allows
from consent.selectors import allows
from personalization.visitors.models import Event, Visitor
from personalization.visitors.selectors import COOKIE_SALT
from tests.factories import UserFactory
from tests.factories.personalization import VisitorFactory, grant

pytestmark = pytest.mark.django_db

URL = "/api/v1/consent"
BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
ALL = {"analytics": True, "personalization": True, "marketing": True}
NONE = {"analytics": False, "personalization": False, "marketing": False}


@pytest.fixture
def browser() -> APIClient:
    """A browser without any cookie; CSRF checks relaxed as Django's test client does."""
    return APIClient(HTTP_USER_AGENT=BROWSER)


@pytest.fixture
def strict_browser() -> APIClient:
    """A browser whose posts go through the real CSRF check."""
    return APIClient(enforce_csrf_checks=True, HTTP_USER_AGENT=BROWSER)


def with_key(client: APIClient, *scopes: str) -> APIClient:
    _, secret = api_key_create(name="crm", scopes=list(scopes))
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def with_visitor_cookie(client: APIClient, visitor: Visitor) -> APIClient:
    signer = signing.get_cookie_signer(salt=settings.TAILOR_VISITOR_COOKIE + COOKIE_SALT)
    client.cookies[settings.TAILOR_VISITOR_COOKIE] = signer.sign(str(visitor.uid))
    return client


def choose(client: APIClient, purposes: dict, **extra):
    return client.post(URL, {"purposes": purposes}, format="json", **extra)


def granted(body: dict) -> dict[str, bool]:
    return {p["key"]: p["granted"] for p in body["purposes"]}


def cookie_is_set(response, name: str) -> bool:
    morsel = response.cookies.get(name)
    return morsel is not None and morsel.value != "" and morsel["max-age"] != 0


def test_a_new_browser_reads_the_opt_in_defaults_and_has_not_decided(browser):
    response = browser.get(URL)

    assert response.status_code == 200
    body = response.json()
    assert body["mode"] == "opt-in"
    assert body["policy_version"] == 1
    assert body["decided"] is False
    assert body["gpc"] is False
    assert body["purposes"][0] == {
        "key": "necessary",
        "name": "Strictly necessary",
        "description": "Keeps the site working and remembers your privacy choices.",
        "required": True,
        "granted": True,
    }
    assert granted(body) == {"necessary": True} | NONE
    assert settings.CSRF_COOKIE_NAME in response.cookies  # what the banner posts with


def test_a_browser_choice_is_recorded_with_source_banner_and_pseudonymous_proof(browser):
    choice = {"analytics": True, "personalization": False, "marketing": False}

    response = choose(browser, choice, REMOTE_ADDR="203.0.113.9")

    assert response.status_code == 200
    assert response.json()["decided"] is True
    assert granted(response.json()) == {"necessary": True} | choice
    visitor = Visitor.objects.get()
    records = ConsentRecord.objects.filter(visitor=visitor)
    assert {(r.purpose.key, r.granted, r.source) for r in records} == {
        ("analytics", True, "banner"),
        ("personalization", False, "banner"),
        ("marketing", False, "banner"),
    }
    assert all(r.ip_hash and "203.0.113.9" not in r.ip_hash for r in records)
    assert all(r.policy.version == 1 and r.policy_hash for r in records)
    assert str(visitor.uid) in response.cookies[settings.TAILOR_VISITOR_COOKIE].value
    assert allows(visitor, "analytics") and not allows(visitor, "personalization")


def test_the_choice_is_read_back_and_followed_on_the_next_page_view(browser):
    choose(browser, {"analytics": True, "personalization": True, "marketing": False})

    body = browser.get(URL).json()
    browser.get("/")

    assert body["decided"] is True
    assert granted(body) == {
        "necessary": True, "analytics": True, "personalization": True, "marketing": False
    }  # fmt: skip
    assert Event.objects.filter(visitor=Visitor.objects.get(), type="view").count() == 1


def test_an_unknown_purpose_is_refused_with_a_json_400_naming_it(browser):
    response = choose(browser, {"analytics": True, "telemetry": True})

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["errors"] == {"purposes": ["unknown purpose 'telemetry'"]}
    assert not Visitor.objects.exists()
    assert not ConsentRecord.objects.exists()
    assert settings.TAILOR_CONSENT_COOKIE not in response.cookies


@pytest.mark.parametrize(
    "body",
    [{}, {"purposes": {}}, {"purposes": {"analytics": "maybe"}}, {"purposes": ["analytics"]}],
    ids=["no purposes", "empty", "not a boolean", "a list"],
)
def test_a_malformed_choice_is_refused_with_an_error_on_purposes(browser, body):
    response = browser.post(URL, body, format="json")

    assert response.status_code == 400
    assert "purposes" in response.json()["errors"]
    assert not ConsentRecord.objects.exists()


def test_required_purposes_in_a_choice_are_ignored(browser):
    response = choose(browser, {"necessary": False, "analytics": True})

    assert response.status_code == 200
    assert granted(response.json())["necessary"] is True
    keys = set(ConsentRecord.objects.values_list("purpose__key", flat=True))
    assert keys == {"analytics"}


def test_a_browser_post_without_a_csrf_token_is_refused(strict_browser):
    response = choose(strict_browser, ALL)

    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert response.json()["message"].startswith("CSRF Failed")
    assert not Visitor.objects.exists()
    assert settings.TAILOR_VISITOR_COOKIE not in response.cookies


def test_a_browser_post_with_a_forged_csrf_token_is_refused(strict_browser):
    strict_browser.get(URL)

    response = choose(strict_browser, ALL, HTTP_X_CSRFTOKEN="x" * 32)

    assert response.status_code == 403
    assert not ConsentRecord.objects.exists()


def test_a_browser_post_with_the_token_of_its_csrf_cookie_is_accepted(strict_browser):
    token = strict_browser.get(URL).cookies[settings.CSRF_COOKIE_NAME].value

    response = choose(strict_browser, ALL, HTTP_X_CSRFTOKEN=token)

    assert response.status_code == 200
    assert ConsentRecord.objects.filter(granted=True).count() == 3


def test_reject_all_creates_no_visitor_and_sets_only_the_consent_cookie(browser):
    response = choose(browser, NONE)

    assert response.status_code == 200
    assert not Visitor.objects.exists()
    assert not ConsentRecord.objects.exists()
    assert settings.TAILOR_VISITOR_COOKIE not in response.cookies
    cookie = response.cookies[settings.TAILOR_CONSENT_COOKIE]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["max-age"] == settings.TAILOR_CONSENT_COOKIE_AGE


def test_a_refusal_is_remembered_so_the_banner_stays_closed_and_nothing_is_stored(browser):
    choose(browser, NONE)

    state = browser.get(URL).json()
    page = browser.get("/")

    assert state["decided"] is True
    assert granted(state) == {"necessary": True} | NONE
    assert 'data-decided="true"' in page.content.decode()
    assert settings.TAILOR_VISITOR_COOKIE not in page.cookies
    assert not Visitor.objects.exists()
    assert not Event.objects.exists()


def test_withdrawing_analytics_and_personalization_deletes_the_visitor_cookie(browser):
    visitor = VisitorFactory(external_id=None)
    grant(visitor, "analytics", "personalization")
    with_visitor_cookie(browser, visitor)

    response = choose(browser, {"analytics": False, "personalization": False})
    browser.get("/")

    cookie = response.cookies[settings.TAILOR_VISITOR_COOKIE]
    assert cookie.value == ""
    assert cookie["max-age"] == 0
    assert not allows(visitor, "analytics")
    assert not allows(visitor, "personalization")
    assert not Event.objects.exists()
    assert Visitor.objects.count() == 1  # no new profile for the page view either


def test_withdrawing_only_analytics_keeps_the_visitor_cookie(browser):
    visitor = VisitorFactory(external_id=None)
    grant(visitor, "analytics", "personalization")
    with_visitor_cookie(browser, visitor)

    response = choose(browser, {"analytics": False, "personalization": True})

    assert settings.TAILOR_VISITOR_COOKIE not in response.cookies  # neither set nor deleted
    assert allows(visitor, "personalization") and not allows(visitor, "analytics")


def test_marketing_alone_from_an_anonymous_browser_is_kept_only_in_the_consent_cookie(browser):
    response = choose(browser, {"analytics": False, "personalization": False, "marketing": True})

    assert not Visitor.objects.exists()
    assert not cookie_is_set(response, settings.TAILOR_VISITOR_COOKIE)
    assert granted(browser.get(URL).json())["marketing"] is True


def test_marketing_alone_from_a_logged_in_user_is_recorded_on_their_profile(browser):
    user = UserFactory()
    browser.force_login(user)

    response = choose(browser, {"analytics": False, "personalization": False, "marketing": True})

    visitor = Visitor.objects.get(user=user)
    assert allows(visitor, "marketing")
    assert not cookie_is_set(response, settings.TAILOR_VISITOR_COOKIE)


def test_a_tampered_consent_cookie_is_ignored(browser):
    value = consent_cookie_value(choices={"analytics": True}, policy_version=1)
    browser.cookies[settings.TAILOR_CONSENT_COOKIE] = value[:-2] + "xx"

    body = browser.get(URL).json()

    assert body["decided"] is False
    assert granted(body)["analytics"] is False


def test_a_policy_that_requires_fresh_consent_asks_a_remembered_browser_again(browser):
    choose(browser, NONE)
    PolicyVersion.objects.create(version=2, text="New terms.", requires_fresh_consent=True)

    body = browser.get(URL).json()

    assert body["decided"] is False
    assert body["policy_version"] == 2


def test_a_policy_that_requires_fresh_consent_asks_a_visitor_again(browser):
    choose(browser, ALL)
    PolicyVersion.objects.create(version=2, text="New terms.", requires_fresh_consent=True)

    body = browser.get(URL).json()

    assert body["decided"] is False
    assert granted(body)["analytics"] is False  # grants under v1 no longer count


def test_in_opt_out_mode_a_refusal_in_the_consent_cookie_refuses_the_purpose(settings):
    settings.TAILOR_CONSENT_MODE = "opt-out"
    request = RequestFactory().get("/")
    request.COOKIES[settings.TAILOR_CONSENT_COOKIE] = consent_cookie_value(
        choices={"analytics": False, "personalization": True, "marketing": True}, policy_version=1
    )
    request.visitor = None

    assert consent_from_cookie(request) == {
        "analytics": False, "personalization": True, "marketing": True
    }  # fmt: skip
    assert request_allows(request, "analytics") is False
    assert request_allows(request, "personalization") is True
    assert request_allows(request, "necessary") is True
    assert request_allows(request, "telemetry") is False


def test_the_home_page_carries_the_banner_open_until_the_browser_decides(browser):
    html = browser.get("/").content.decode()

    assert 'role="dialog"' in html
    assert 'aria-labelledby="tailor-consent-title"' in html
    assert 'data-decided="false"' in html
    assert "data-tailor-consent-open" in html  # the footer's "Privacy settings"
    assert "/static/consent/banner.js" in html
    assert 'name="csrfmiddlewaretoken"' in html


# Machine clients: an API key with the `privacy:admin` scope speaks for a named visitor.


def test_an_api_key_with_privacy_admin_records_consent_with_source_api():
    crm = with_key(APIClient(enforce_csrf_checks=True), "privacy:admin")
    visitor = VisitorFactory(external_id="crm-1")

    response = crm.post(
        URL, {"visitor_id": "crm-1", "purposes": {"marketing": True}}, format="json"
    )

    assert response.status_code == 200
    assert granted(response.json())["marketing"] is True
    record = ConsentRecord.objects.get(visitor=visitor)
    assert (record.purpose.key, record.granted, record.source) == ("marketing", True, "api")
    assert record.ip_hash == ""  # the client's address is not the subject's
    assert not response.cookies


def test_an_api_key_may_record_consent_for_a_visitor_not_seen_yet():
    crm = with_key(APIClient(), "privacy:admin")

    response = crm.post(
        URL, {"visitor_id": "crm-new", "purposes": {"analytics": False}}, format="json"
    )

    assert response.status_code == 200
    visitor = Visitor.objects.get(external_id="crm-new")
    assert ConsentRecord.objects.get(visitor=visitor).source == "api"


def test_an_api_key_reads_a_named_visitors_consent():
    crm = with_key(APIClient(), "privacy:admin")
    visitor = VisitorFactory(external_id="crm-2")
    grant(visitor, "analytics", "personalization", "marketing")

    body = crm.get(URL, {"visitor_id": "crm-2"}).json()
    missing = crm.get(URL, {"visitor_id": "nobody"})

    assert body["decided"] is True
    assert granted(body) == {"necessary": True} | ALL
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"


def test_an_api_key_must_name_the_visitor():
    crm = with_key(APIClient(), "privacy:admin")

    posted = crm.post(URL, {"purposes": {"analytics": True}}, format="json")
    read = crm.get(URL)

    assert posted.status_code == 400
    assert posted.json()["errors"] == {"visitor_id": ["This field is required with an API key."]}
    assert read.status_code == 400
    assert "visitor_id" in read.json()["errors"]


def test_a_visitor_id_with_a_nul_character_is_a_json_400_not_a_server_error():
    crm = with_key(APIClient(), "privacy:admin")
    crm.raise_request_exception = False

    response = crm.get(URL, {"visitor_id": "crm\x001"})

    assert response.status_code == 400
    assert response.json()["errors"] == {"visitor_id": ["Null characters are not allowed."]}


def test_an_api_key_without_privacy_admin_is_refused():
    shop = with_key(APIClient(), "events:write")
    VisitorFactory(external_id="crm-3")

    response = shop.post(
        URL, {"visitor_id": "crm-3", "purposes": {"marketing": True}}, format="json"
    )

    assert response.status_code == 403
    assert response.json()["message"] == "This API key lacks the scope needed here."
    assert not ConsentRecord.objects.exists()


def test_an_unknown_api_key_is_refused_with_401():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer tl_0000_nope")

    response = client.post(URL, {"visitor_id": "x", "purposes": ALL}, format="json")

    assert response.status_code == 401
    assert not Visitor.objects.exists()


def test_the_consent_api_is_in_the_openapi_schema(admin_client):
    schema = admin_client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()

    operations = schema["paths"]["/api/v1/consent"]
    assert set(operations) >= {"get", "post"}
    assert "ConsentState" in schema["components"]["schemas"]
