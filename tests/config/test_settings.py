import os
import subprocess
import sys
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # Only the service addresses pass through: no test-suite setting leaks into the child.
    passed = {"PATH", "HOME", "LANG", "DATABASE_URL", "CACHE_URL", "CELERY_BROKER_URL"}
    environment = {k: v for k, v in os.environ.items() if k in passed}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_database_vendor_follows_database_url():
    url = os.environ.get("DATABASE_URL", "sqlite://")
    expected = "postgresql" if url.startswith(("postgres://", "postgresql://")) else "sqlite"
    assert connection.vendor == expected


def test_missing_secret_key_stops_start_up_when_debug_is_off():
    # Empty, so that a developer's `.env` (written by `make run`) does not fill it in.
    result = run_manage("check", DEBUG="0", SECRET_KEY="")

    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_debug_mode_starts_without_a_secret_key():
    result = run_manage("check", DEBUG="1")

    assert result.returncode == 0, result.stderr


def test_deploy_check_prints_no_warning_with_production_settings():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY="k3Jx9!vQ2mZp7Lr0aT5wYc8Nf1Hd6Gs4Bu-Ej_Ok2Pi9Rl3Sn7Tq0Vx5Wz8Ya1",
        ALLOWED_HOSTS="tailor.example.com",
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_migrations_match_the_models():
    result = run_manage("makemigrations", "--check", "--dry-run", DEBUG="1")

    assert result.returncode == 0, result.stdout + result.stderr


def test_an_event_weight_too_large_to_count_stops_start_up_naming_the_setting():
    result = run_manage("check", DEBUG="1", TAILOR_EVENT_WEIGHTS="view=1,purchase=2000000")

    assert result.returncode != 0
    assert "TAILOR_EVENT_WEIGHTS: every weight must be from 0 to 1,000,000" in result.stderr
