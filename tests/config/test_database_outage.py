"""While PostgreSQL is down the API answers 503 with Retry-After, and recovers on its own."""

import json

import pytest

from config.services import api_key_create
from tests.conftest import _database_url
from tests.postgres_cluster import Cluster
from tests.web_server import Server
from tests.worker_processes import wait_for


@pytest.fixture
def cluster():
    spare = Cluster()
    yield spare
    spare.remove()


@pytest.mark.django_db(transaction=True)
def test_the_api_answers_503_with_retry_after_while_the_database_is_down_then_200_again(
    cluster, tmp_path
):
    _, key = api_key_create(name="outage", scopes=["segments:write"])
    cluster.load(_database_url())
    server = Server(cluster.url, tmp_path / "gunicorn.log")
    auth = {"Authorization": f"Bearer {key}"}
    try:
        assert wait_for(server.answers), server.log.read_text()
        before = server.get("/api/v1/segments", **auth)[0], server.get("/readyz")[0]

        cluster.stop()
        status, headers, body = server.get("/api/v1/segments", **auth)
        ready, _, readiness = server.get("/readyz")

        cluster.start()
        assert wait_for(lambda: server.get("/api/v1/segments", **auth)[0] == 200)
        after = server.get("/readyz")[0]
    finally:
        server.stop()

    assert before == (200, 200)
    assert (status, headers.get("Retry-After")) == (503, "5")
    assert json.loads(body)["code"] == "unavailable"
    assert (ready, json.loads(readiness)["failing"]) == (503, ["database"])
    assert after == 200
    assert "Traceback" not in server.log.read_text()
