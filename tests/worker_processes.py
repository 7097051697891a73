"""Celery worker processes a test starts, kills and starts again (the suite's own worker is
shared by the session and must stay up)."""

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def worker_start(*, queue: str, database_url: str, log: Path, **env: str) -> subprocess.Popen:
    """A `celery worker` (solo pool) consuming only `queue`, against the given database."""
    environment = {**os.environ, "DATABASE_URL": database_url, **env}
    with log.open("a") as out:
        return subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo",
                "--without-heartbeat", "--without-gossip", "--without-mingle", "-Q", queue,
                "--loglevel=INFO", "-n", f"{queue}-{time.monotonic_ns()}@%h",
            ],
            cwd=ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip


def worker_stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for(check: Callable[[], object], seconds: float = 60, every: float = 0.2) -> bool:
    """Poll `check` until it is true or the time is up; its last answer, as a boolean."""
    deadline = time.monotonic() + seconds
    while not check() and time.monotonic() < deadline:
        time.sleep(every)
    return bool(check())
