"""Every answer carries a request id, and every log line written while serving it too."""

import json
import logging

from celery import shared_task

from config.logs import JsonFormatter, RequestIdFilter, request_id


def test_a_response_echoes_the_request_id_the_caller_sent(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="lb-7f3a9c")

    assert response["X-Request-ID"] == "lb-7f3a9c"


def test_a_request_without_an_id_or_with_a_malformed_one_gets_a_new_one(client):
    plain = client.get("/healthz")["X-Request-ID"]
    odd = client.get("/healthz", HTTP_X_REQUEST_ID="<script>")["X-Request-ID"]

    assert len(plain) == 32 and len(odd) == 32 and plain != odd


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.addFilter(RequestIdFilter())
        self.setFormatter(JsonFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def test_log_lines_written_while_serving_a_request_are_json_with_its_id(client):
    handler = Lines()
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        client.get("/no-such-page/", HTTP_X_REQUEST_ID="abc-123")
    finally:
        logger.removeHandler(handler)

    entry = json.loads(handler.lines[0])
    assert (entry["level"], entry["request_id"]) == ("WARNING", "abc-123")
    assert entry["message"] == "Not Found: /no-such-page/"
    assert request_id() == ""


def test_log_lines_of_a_task_carry_the_tasks_id():
    handler = Lines()
    logger = logging.getLogger("tailor.test")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        logged.apply(task_id="task-42")
    finally:
        logger.removeHandler(handler)

    assert json.loads(handler.lines[0])["request_id"] == "task-42"
    assert request_id() == ""


@shared_task(name="tailor.test_logged")
def logged() -> None:
    logging.getLogger("tailor.test").info("working")
