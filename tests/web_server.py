"""gunicorn serving Tailor in a process of its own, for tests of what processes do."""

import http.client
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.postgres_cluster import free_port

ROOT = Path(__file__).resolve().parent.parent


class Server:
    """gunicorn serving Tailor on a free port, against the given database."""

    def __init__(self, database_url: str, log: Path, **settings: str) -> None:
        self.port = free_port()
        self.log = log
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            **settings,
        }
        with log.open("w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind",
                 f"127.0.0.1:{self.port}", "--workers", "1", "--timeout", "60"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def get(self, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def answers(self) -> bool:
        try:
            return self.get("/healthz")[0] == 200
        except OSError:
            return False

    def workers(self) -> list[int]:
        """The process ids of gunicorn's workers."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def kill_workers(self) -> None:
        """Kill the workers as the out-of-memory killer would: no chance to exit."""
        for pid in self.workers():
            os.kill(pid, signal.SIGKILL)

    def stop(self) -> None:
        """Stop gunicorn as a deploy does: its workers finish their requests and exit."""
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
