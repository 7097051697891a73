import pytest


def test_an_unknown_api_path_answers_json_404(client):
    response = client.get("/api/v1/no-such-endpoint")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"message": "Not found.", "code": "not_found"}


@pytest.mark.django_db
def test_the_openapi_schema_is_served(admin_client):
    response = admin_client.get("/api/v1/schema/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    assert response.json()["info"]["title"] == "Tailor API"


@pytest.mark.django_db
def test_the_api_docs_load_swagger_ui_from_tailor_itself(admin_client):
    response = admin_client.get("/api/v1/docs/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "swagger-ui" in html
    assert "cdn." not in html
    assert "/static/drf_spectacular_sidecar/" in html
