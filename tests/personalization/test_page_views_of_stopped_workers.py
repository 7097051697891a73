"""Page views wait in a web worker's memory: written when it stops, bounded when it is killed."""

import pytest

from consent.services import consent_record
from personalization.visitors.models import Event, Visitor
from tests.conftest import _database_url
from tests.factories import visitor_cookie
from tests.personalization.test_page_views import BROWSER
from tests.web_server import Server
from tests.worker_processes import wait_for

BUFFER = {"TAILOR_WRITE_BUFFER_SIZE": "5", "TAILOR_WRITE_BUFFER_SECONDS": "3600"}


@pytest.fixture
def visitor() -> Visitor:
    visitor = Visitor.objects.create(external_id="reader")
    consent_record(visitor=visitor, choices={"analytics": True}, source="banner")
    return visitor


def visit(server: Server, visitor: Visitor, pages: int) -> None:
    cookie = f"tailor_vid={visitor_cookie(visitor)}"
    for _ in range(pages):
        assert server.get("/", Cookie=cookie, **{"User-Agent": BROWSER})[0] == 200


@pytest.mark.django_db(transaction=True)
def test_a_web_worker_stopped_by_a_deploy_writes_the_page_views_it_held(visitor, tmp_path):
    server = Server(_database_url(), tmp_path / "gunicorn.log", **BUFFER)
    try:
        assert wait_for(server.answers), server.log.read_text()
        visit(server, visitor, pages=3)
        held = Event.objects.filter(visitor=visitor).count()
    finally:
        server.stop()

    assert held == 0
    assert Event.objects.filter(visitor=visitor).count() == 3


@pytest.mark.django_db(transaction=True)
def test_a_killed_web_worker_loses_at_most_the_page_views_of_one_buffer(visitor, tmp_path):
    server = Server(_database_url(), tmp_path / "gunicorn.log", **BUFFER)
    try:
        assert wait_for(server.answers), server.log.read_text()
        visit(server, visitor, pages=12)
        server.kill_workers()
    finally:
        server.stop()

    assert Event.objects.filter(visitor=visitor).count() == 10
