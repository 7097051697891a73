"""Prometheus metrics at /metrics: requests, decisions, buffers, runs, task retries."""

import pytest
from celery.signals import task_retry
from django.db import OperationalError
from prometheus_client import REGISTRY

from config.buffers import WriteBuffer
from config.tasks import ping
from personalization.decisions.engine import decide
from personalization.features.models import FeatureRun
from personalization.features.runs import feature_run_fail, feature_run_finish
from tests.factories import SlotFactory


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_metrics_are_served_to_an_allowed_address(client):
    client.get("/healthz")

    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")

    text = response.content.decode()
    assert response.status_code == 200
    assert "django_http_requests_total_by_view_transport_method_total" in text
    assert "tailor_decision_seconds_bucket" in text


def test_metrics_are_refused_to_other_addresses_unless_they_send_the_token(client, settings):
    settings.TAILOR_METRICS_TOKEN = "scrape-me"

    refused = client.get("/metrics", REMOTE_ADDR="203.0.113.9")
    wrong = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer nope")
    allowed = client.get(
        "/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer scrape-me"
    )

    assert (refused.status_code, wrong.status_code, allowed.status_code) == (403, 403, 200)


def test_an_allowed_network_admits_its_addresses(client, settings):
    settings.TAILOR_METRICS_ALLOWED_IPS = ["10.1.0.0/16"]

    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403


@pytest.mark.django_db
def test_decisions_are_counted_by_slot_and_reason_and_unknown_slots_under_one_label():
    SlotFactory(key="metrics-hero")
    before = sample("tailor_decisions_total", slot="metrics-hero", reason="no_consent")
    unknown = sample("tailor_decisions_total", slot="unknown", reason="unknown_slot")
    timed = sample("tailor_decision_seconds_count")

    decide("metrics-hero", None)
    decide("no-such-slot-7f3a", None)

    assert sample("tailor_decisions_total", slot="metrics-hero", reason="no_consent") == before + 1
    assert sample("tailor_decisions_total", slot="unknown", reason="unknown_slot") == unknown + 1
    assert sample("tailor_decisions_total", slot="no-such-slot-7f3a", reason="unknown_slot") == 0
    assert sample("tailor_decision_seconds_count") == timed + 2


def test_buffer_backlog_flushes_and_failures_are_measured(settings):
    settings.TAILOR_WRITE_BUFFER_SIZE = 3
    settings.TAILOR_WRITE_BUFFER_SECONDS = 60
    written: list[list[int]] = []
    buffer = WriteBuffer("metrics test", written.append)

    buffer.add(1, 2)
    pending = sample("tailor_buffer_pending_rows", buffer="metrics test")
    buffer.add(3)

    assert pending == 2
    assert sample("tailor_buffer_pending_rows", buffer="metrics test") == 0
    assert sample("tailor_buffer_rows_written_total", buffer="metrics test") == 3
    assert sample("tailor_buffer_flush_lag_seconds_count", buffer="metrics test") == 1


def test_a_failed_flush_is_counted(settings):
    settings.TAILOR_WRITE_BUFFER_SIZE = 1
    settings.TAILOR_WRITE_BUFFER_RETRIES = 0

    def failing(rows):
        raise OperationalError("deadlock detected")

    WriteBuffer("metrics failing", failing).add(1)

    assert sample("tailor_buffer_flush_failures_total", buffer="metrics failing") == 1
    assert (
        sample("tailor_buffer_rows_dropped_total", buffer="metrics failing", reason="retries") == 1
    )


def test_task_retries_are_counted_by_task():
    before = sample("tailor_task_retries_total", task="tailor.ping")

    task_retry.send(sender=ping, request=None, reason="deadlock", einfo=None)

    assert sample("tailor_task_retries_total", task="tailor.ping") == before + 1


@pytest.mark.django_db
def test_run_outcomes_and_durations_are_measured_by_kind():
    finished = sample("tailor_runs_total", kind="features", outcome="finished")
    durations = sample("tailor_run_seconds_count", kind="features")
    failed = sample("tailor_runs_total", kind="features", outcome="failed")

    feature_run_finish(run_id=FeatureRun.objects.create(chunks_total=1).pk)
    feature_run_fail(FeatureRun.objects.create(chunks_total=1).pk, "a chunk failed")

    assert sample("tailor_runs_total", kind="features", outcome="finished") == finished + 1
    assert sample("tailor_run_seconds_count", kind="features") == durations + 1
    assert sample("tailor_runs_total", kind="features", outcome="failed") == failed + 1
