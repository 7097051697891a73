"""`GET /api/v1/runs…`: every kind of batch run, for monitoring, to keys with `runs:read`."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from personalization.clustering.models import ClusterRun
from personalization.features.models import FeatureRun
from personalization.recommendations.models import ModelRun
from personalization.scores.models import ScoreRun
from personalization.segments.models import SegmentRun
from tests.factories import UserFactory, api_client_signed_in, api_client_with_key

pytestmark = pytest.mark.django_db

ENDPOINTS = ["/api/v1/runs", "/api/v1/runs/features/1"]
FIELDS = {
    "kind", "id", "status", "active", "started_at", "heartbeat_at", "finished_at",
    "duration_seconds", "chunks_total", "chunks_done", "attempt", "retry_of", "error",
    "metrics", "is_current",
}  # fmt: skip


def hours_ago(hours: float):
    return timezone.now() - timedelta(hours=hours)


@pytest.fixture
def monitor() -> APIClient:
    return api_client_with_key("runs:read", name="monitoring")


@pytest.fixture
def runs() -> dict[str, object]:
    """One run of each kind, the newest first: scores, recommendations, clusters, segments,
    features; the recommendation run still training."""
    return {
        "features": FeatureRun.objects.create(
            started_at=hours_ago(5), status=FeatureRun.Status.FINISHED, chunks_total=3,
            chunks_done=3,
        ),
        "segments": SegmentRun.objects.create(
            started_at=hours_ago(4), status=SegmentRun.Status.FAILED, error="a chunk failed"
        ),
        "clusters": ClusterRun.objects.create(
            started_at=hours_ago(3), status=ClusterRun.Status.DONE, is_current=True,
            metrics={"silhouette": 0.41},
        ),
        "recommendations": ModelRun.objects.create(
            started_at=hours_ago(2), status=ModelRun.Status.TRAINING
        ),
        "scores": ScoreRun.objects.create(started_at=hours_ago(1), status=ScoreRun.Status.FAILED),
    }  # fmt: skip


@pytest.mark.parametrize("path", ENDPOINTS)
def test_an_anonymous_caller_gets_401_with_a_json_error(path):
    response = APIClient().get(path)

    assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_key_without_the_runs_scope_is_refused(path):
    response = api_client_with_key("insights:read", "profiles:read").get(path)

    assert response.status_code == 403


@pytest.mark.parametrize("path", ENDPOINTS)
def test_an_editor_signed_in_is_refused_however_staff(path):
    assert api_client_signed_in("Editor").get(path).status_code == 403


def test_an_analyst_signed_in_reads_the_runs(runs):
    assert api_client_signed_in("Analyst").get("/api/v1/runs").status_code == 200


def test_a_superuser_signed_in_reads_a_run(runs):
    client = APIClient()
    client.force_login(UserFactory(superuser=True))

    response = client.get(f"/api/v1/runs/scores/{runs['scores'].pk}")

    assert (response.status_code, response.json()["status"]) == (200, "failed")


def test_runs_cannot_be_changed_through_the_api(monitor, runs):
    response = monitor.delete(f"/api/v1/runs/features/{runs['features'].pk}")

    assert response.status_code == 405
    assert FeatureRun.objects.filter(pk=runs["features"].pk).exists()


def test_the_list_has_every_kind_newest_first(monitor, runs):
    listed = monitor.get("/api/v1/runs").json()

    assert [(r["kind"], r["id"]) for r in listed] == [
        (kind, runs[kind].pk)
        for kind in ["scores", "recommendations", "clusters", "segments", "features"]
    ]


def test_a_run_not_started_yet_comes_first(monitor, runs):
    pending = ClusterRun.objects.create(status=ClusterRun.Status.PENDING)

    first = monitor.get("/api/v1/runs").json()[0]

    assert (first["kind"], first["id"], first["started_at"]) == ("clusters", pending.pk, None)


def test_a_run_answers_its_fields_and_nothing_else(monitor, runs):
    run = monitor.get(f"/api/v1/runs/clusters/{runs['clusters'].pk}").json()

    assert set(run) == FIELDS
    expected = ("done", True, {"silhouette": 0.41})
    assert (run["status"], run["is_current"], run["metrics"]) == expected


def test_a_run_a_task_is_working_on_is_active(monitor, runs):
    listed = monitor.get("/api/v1/runs").json()

    assert {r["kind"] for r in listed if r["active"]} == {"recommendations"}


def test_kinds_without_metrics_answer_null_metrics(monitor, runs):
    run = monitor.get(f"/api/v1/runs/features/{runs['features'].pk}").json()

    assert (run["metrics"], run["is_current"], run["chunks_done"]) == (None, None, 3)


def test_kind_and_status_narrow_the_list(monitor, runs):
    ScoreRun.objects.create(started_at=hours_ago(9), status=ScoreRun.Status.FINISHED)

    listed = monitor.get("/api/v1/runs", {"kind": "scores", "status": "failed"}).json()

    assert [r["id"] for r in listed] == [runs["scores"].pk]


def test_limit_keeps_the_newest_runs(monitor, runs):
    listed = monitor.get("/api/v1/runs", {"limit": 2}).json()

    assert [r["kind"] for r in listed] == ["scores", "recommendations"]


@pytest.mark.parametrize(("query", "field"), [
    ({"kind": "visitors"}, "kind"), ({"limit": 0}, "limit"), ({"limit": 101}, "limit"),
    ({"limit": "ten"}, "limit"),
])  # fmt: skip
def test_a_bad_query_is_a_json_error_naming_the_parameter(monitor, query, field):
    response = monitor.get("/api/v1/runs", query)

    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_an_unknown_kind_of_run_is_a_json_404(monitor):
    response = monitor.get("/api/v1/runs/visitors/1")

    assert response.status_code == 404
    assert "features" in response.json()["message"]


def test_an_unknown_run_is_a_json_404(monitor, runs):
    response = monitor.get(f"/api/v1/runs/scores/{runs['scores'].pk + 1000}")

    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_the_list_reads_each_kind_once_however_many_runs(monitor, runs):
    monitor.get("/api/v1/runs")  # the key's first use is recorded once
    with CaptureQueriesContext(connection) as few:
        monitor.get("/api/v1/runs")
    for hours in range(30):
        FeatureRun.objects.create(started_at=hours_ago(hours + 10))
    with CaptureQueriesContext(connection) as many:
        monitor.get("/api/v1/runs")

    assert len(many) == len(few)
