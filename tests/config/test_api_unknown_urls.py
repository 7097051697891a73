"""Every answer under /api/ is JSON: unknown URLs and trailing-slash variants included."""

import pytest
from django.test import Client, override_settings

NOT_FOUND = {"message": "Not found.", "code": "not_found"}


def assert_json_not_found(response) -> None:
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == NOT_FOUND


@pytest.mark.parametrize(
    "url",
    [
        "/api",
        "/api/",
        "/api/v2/events",
        "/api/v1/no-such-endpoint/",
        "/api/v1/events/",
        "/api/v1/segments/",
        "/api/v1/slots/hero/decide/",
        "/api/v1/schema",
        "/api/v1/docs",
    ],
)
@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_an_unknown_api_url_answers_a_json_404_to_every_method(url, method):
    client = Client(enforce_csrf_checks=True)

    body = {} if method == "get" else {"data": "{}", "content_type": "application/json"}

    response = getattr(client, method)(url, **body)

    assert_json_not_found(response)


def test_a_trailing_slash_variant_is_not_redirected_to_an_html_answer(client):
    response = client.get("/api/v1/schema", follow=False)

    assert response.status_code == 404
    assert "Location" not in response


@override_settings(DEBUG=True)
def test_with_debug_on_an_unknown_api_url_is_still_json_not_the_debug_page(client):
    assert_json_not_found(client.get("/api/v1/no-such-endpoint"))


@override_settings(DEBUG=True)
def test_with_debug_on_a_post_without_the_slash_is_a_json_404_not_a_server_error(client):
    client.raise_request_exception = False

    assert_json_not_found(client.post("/api/v1/schema", data={}))


@pytest.mark.django_db
def test_a_known_endpoint_with_a_wrong_method_answers_json_405(client):
    response = client.get("/api/v1/events")

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


@pytest.mark.django_db
def test_pages_outside_the_api_keep_their_slash_redirects_and_html_404(client):
    assert client.get("/admin")["Location"] == "/admin/"
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
