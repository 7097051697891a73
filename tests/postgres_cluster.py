"""A throwaway PostgreSQL cluster a test can stop and start, beside the suite's own one."""

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def _as_postgres(command: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: as the postgres system user there."""
    return ["runuser", "-u", "postgres", "--", *command] if os.getuid() == 0 else command


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Cluster:
    """`initdb` into a temporary folder, one database `tailor`; `stop()` and `start()` it."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="tailor-pg-"))
        self.port = free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/tailor"
        if os.getuid() == 0:
            shutil.chown(self.folder, "postgres")
        self._run([str(PG_BIN / "initdb"), "-D", str(self.folder / "data"), "-U", "postgres",
                   "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8"])  # fmt: skip
        self.start()
        self._run([str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                   "-U", "postgres", "tailor"])  # fmt: skip

    @property
    def _ctl(self) -> list[str]:
        return [str(PG_BIN / "pg_ctl"), "-D", str(self.folder / "data")]

    def _run(self, command: list[str]) -> None:
        subprocess.run(_as_postgres(command), check=True, capture_output=True, cwd=self.folder)

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off"
        )
        log = str(self.folder / "pg.log")
        self._run([*self._ctl, "-l", log, "-w", "-t", "60", "-o", options, "start"])

    def stop(self, mode: str = "fast") -> None:
        self._run([*self._ctl, "-m", mode, "-w", "stop"])

    def load(self, source_url: str) -> None:
        """Copy a database (schema and rows) into this cluster's `tailor` database."""
        dump = subprocess.run(
            [str(PG_BIN / "pg_dump"), "--no-owner", "--no-privileges", "-d", source_url],
            check=True, capture_output=True,
        )  # fmt: skip
        subprocess.run(
            [str(PG_BIN / "psql"), "-q", "-v", "ON_ERROR_STOP=1", "-d", self.url],
            input=dump.stdout, check=True, capture_output=True,
        )  # fmt: skip

    def remove(self) -> None:
        stop = _as_postgres([*self._ctl, "-m", "immediate", "stop"])
        subprocess.run(stop, capture_output=True, cwd=self.folder, check=False)
        shutil.rmtree(self.folder, ignore_errors=True)
