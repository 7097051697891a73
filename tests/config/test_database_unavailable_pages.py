"""A database error outside the API's views still answers 503 with Retry-After, in one log line."""

import json
import logging

import pytest
from django.db import OperationalError

from config.logs import DatabaseUnavailableFilter


@pytest.fixture
def down(settings, client):
    settings.ROOT_URLCONF = "tests.config.urls_database_down"
    client.raise_request_exception = False
    return client


def test_a_page_answers_503_with_retry_after_when_the_database_is_down(down):
    response = down.get("/page/")

    assert (response.status_code, response["Retry-After"]) == (503, "5")


def test_an_api_path_answers_503_json_when_the_database_is_down_outside_a_view(down):
    response = down.get("/api/v1/thing")

    assert (response.status_code, response["Retry-After"]) == (503, "5")
    assert json.loads(response.content)["code"] == "unavailable"


def test_an_unreachable_database_is_logged_as_one_warning_line_without_a_traceback():
    exc = OperationalError("connection refused")
    record = logging.LogRecord(
        "django.request", logging.ERROR, __file__, 1, "%s: %s", ("Service Unavailable", "/"),
        (OperationalError, exc, None),
    )  # fmt: skip

    DatabaseUnavailableFilter().filter(record)

    assert (record.levelname, record.exc_info) == ("WARNING", None)
    assert record.getMessage() == "Service Unavailable: / (database unavailable: OperationalError)"
