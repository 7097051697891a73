"""Fixtures shared by the whole suite: Celery modes, a real worker process, and a browser."""

import importlib
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from config.celery import app as celery_app
from tests.screens import screenshot

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# The address of the test client and of the browser's requests to the live server.
LOCAL_CLIENT = "127.0.0.1"


# Rows that data migrations create: a transactional test's flush deletes them, so such tests
# put them back before they start.
MIGRATION_DATA = [
    ("content.migrations.0002_default_kinds", "create_kinds"),
    ("content.migrations.0003_roles", "create_roles"),
    ("consent.migrations.0002_default_purposes", "create_purposes"),
    ("consent.migrations.0005_privacy_officer_permissions", "grant_privacy_officer"),
    ("experiments.migrations.0002_roles", "grant_roles"),
    ("personalization.migrations.0012_analyst_reads_runs", "grant_analyst"),
    ("personalization.migrations.0013_triggers", "grant_trigger_roles"),
    ("personalization.migrations.0015_preview_and_segment_roles", "grant"),
    ("insights.migrations.0002_roles", "grant_insights"),
]


@pytest.fixture(autouse=True)
def _migration_data_in_transactional_tests(request) -> None:
    marker = request.node.get_closest_marker("django_db")
    if not (
        "transactional_db" in request.fixturenames
        or "live_server" in request.fixturenames
        or (marker is not None and marker.kwargs.get("transaction"))
    ):
        return
    request.getfixturevalue("transactional_db")
    from django.apps import apps

    for module, function in MIGRATION_DATA:
        getattr(importlib.import_module(module), function)(apps, None)


@pytest.fixture(autouse=True)
def _fresh_process_caches(request) -> Iterator[None]:
    """Segments, purposes, policies, triggers and content are cached per process; a rolled-back
    test leaves none.

    Purposes, policies and trigger definitions are loaded again before a database test starts,
    so that a test that counts queries does not count this process-wide warm-up.
    """
    from consent.selectors import consent_config_clear, purposes
    from content.cache import content_version_bump
    from personalization.segments.selectors import segments_cache_clear
    from personalization.triggers.selectors import trigger_definitions, triggers_cache_clear

    segments_cache_clear()
    consent_config_clear()
    triggers_cache_clear()
    content_version_bump()  # items a rolled-back test left in this process's caches
    marker = request.node.get_closest_marker("django_db")
    if (
        marker is not None
        and not marker.kwargs.get("transaction")
        and (
            "transactional_db" not in request.fixturenames
            and "live_server" not in request.fixturenames
        )
    ):
        request.getfixturevalue("db")
        purposes()
        trigger_definitions()
    yield
    segments_cache_clear()
    consent_config_clear()
    triggers_cache_clear()


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    """Login failures and click rates of the test client and browser (127.0.0.1) start at zero.

    They live in the shared cache (Redis), which outlives a test's rolled-back transaction;
    login failures counted in the database (without a shared cache) roll back with the test.
    """
    from axes.utils import reset
    from django.conf import settings
    from django.core.cache import cache

    def forget() -> None:
        if settings.AXES_HANDLER.endswith("AxesCacheHandler"):
            reset(ip=LOCAL_CLIENT)
        cache.delete_many([f"throttle_click_{LOCAL_CLIENT}", f"throttle_api_key_ip-{LOCAL_CLIENT}"])

    forget()
    yield
    forget()


@pytest.fixture(autouse=True)
def _tasks_run_in_process() -> Iterator[None]:
    """Tasks run eagerly unless a test asks for the `celery_worker` fixture."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


def _database_url() -> str:
    """The URL of the test database that pytest-django created, for another process."""
    s = connection.settings_dict
    if connection.vendor != "postgresql":
        pytest.fail("a real Celery worker needs PostgreSQL: run the suite with `make test`")
    return f"postgres://{s['USER']}:{s['PASSWORD'] or ''}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[str]:
    """A real `celery worker` process on the Redis broker, consuming a queue of its own."""
    broker = os.environ.get("CELERY_BROKER_URL")
    if not broker:
        pytest.fail("CELERY_BROKER_URL is not set: run the suite with `make test`")
    with django_db_blocker.unblock():
        database_url = _database_url()
    queue = f"tailor-test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DATABASE_URL": database_url}
    log_path = tmp_path_factory.mktemp("celery") / "worker.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool=solo",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "-Q",
                queue,
                "--loglevel=INFO",
                "-n",
                f"{queue}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    previous_queue = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    try:
        from config.tasks import ping

        celery_app.conf.task_always_eager = False
        try:
            assert ping.delay().get(timeout=60) == "pong"
        except Exception:
            process.terminate()
            pytest.fail(f"the Celery worker did not answer; its log:\n{log_path.read_text()}")
        yield queue
    finally:
        celery_app.conf.task_default_queue = previous_queue
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def tasks_on_worker(celery_worker: str) -> Iterator[str]:
    """Send tasks to the real worker for this test instead of running them in process."""
    celery_app.conf.task_always_eager = False
    yield celery_worker
    celery_app.conf.task_always_eager = True


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium, headless, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the
    # test itself are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, request):
    """A fresh browser context and page whose relative URLs go to the live server.

    When the test ends, the page is saved as `screenshots/<test name>.png` (the folder is
    not committed), whether the test passed or failed.
    """
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    screenshot(page, request.node.name)
    context.close()
