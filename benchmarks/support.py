"""What the database benchmarks share: Django set up on a test database of their own."""

import http.client
import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment, teardown_test_environment  # noqa: E402


@contextmanager
def test_database() -> Iterator[None]:
    """A fresh, migrated test database, destroyed afterwards (PostgreSQL under `make bench`).

    The shared cache is emptied first: entries keyed by ids (consent states, snapshots) that
    an earlier benchmark left on the same Redis would name this database's rows.
    """
    cache.clear()
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        yield
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


def best_of(function: Callable[[], object], *, repeat: int = 7, number: int = 1) -> float:
    """The best time in seconds of one call, over `repeat` runs of `number` calls."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for _ in range(number):
            function()
        best = min(best, (time.perf_counter() - started) / number)
    return best


# --- Pages under gunicorn -------------------------------------------------------------------
CLIENTS = 4
ROUND_SECONDS = 4.0
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(workers: int = 2) -> Iterator[int]:
    """Tailor under gunicorn on a loopback port, on this benchmark's test database; the port."""
    db = connection.settings_dict
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "ALLOWED_HOSTS": "localhost,127.0.0.1",
        # The production default (the test settings write every row at once).
        "TAILOR_WRITE_BUFFER_SIZE": "200",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--workers", str(workers),
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=20)


Cookies = str | Sequence[str] | None


def _hammer(port: int, cookies: Cookies, stop: float, counts: list[int], errors: list[str]):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"User-Agent": BROWSER, "Host": "localhost"}
    pool = [cookies] if isinstance(cookies, str) else list(cookies or ())
    draw = random.Random()  # which visitor asks next
    done = 0
    while time.perf_counter() < stop:
        if pool:
            headers["Cookie"] = draw.choice(pool)
        try:
            conn.request("GET", "/", headers=headers)
            response = conn.getresponse()
            response.read()
        except (OSError, http.client.HTTPException) as exc:  # a timeout on a crowded machine
            errors.append(repr(exc))
            break
        if response.status != 200:
            errors.append(str(response.status))
            break
        done += 1
    counts.append(done)
    conn.close()


PROCESS_GROUPS = ("gunicorn", "PostgreSQL", "Redis", "clients")


def cpu_seconds(port: int) -> dict[int, tuple[str, float]]:
    """Process id → (group, CPU seconds used so far, user + system) of the processes a page
    round keeps busy: the gunicorn serving `port` (master and workers), PostgreSQL, Redis, and
    this process (whose threads are the clients). Empty where there is no /proc (not Linux)."""
    if not os.path.isdir("/proc"):
        return {}
    tick = os.sysconf("SC_CLK_TCK")
    used = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as file:
                command = file.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{pid}/stat") as file:
                fields = file.read().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        if "gunicorn" in command and f"127.0.0.1:{port}" in command:
            group = "gunicorn"
        elif command.startswith(("postgres", "/usr/lib/postgresql")):
            group = "PostgreSQL"
        elif "redis-server" in command:
            group = "Redis"
        elif int(pid) == os.getpid():
            group = "clients"
        else:
            continue
        used[int(pid)] = (group, (int(fields[11]) + int(fields[12])) / tick)  # utime, stime
    return used


class CpuPerPage:
    """CPU milliseconds per page by process group, over the rounds `measure` is given it for.

    A process that ends during a round (a database connection closed) takes what it used in
    that round with it: the figures are a little low, never negative.
    """

    def __init__(self) -> None:
        self.seconds = dict.fromkeys(PROCESS_GROUPS, 0.0)
        self.pages = 0

    def add(self, before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]],
            pages: int) -> None:  # fmt: skip
        for pid, (group, used) in after.items():
            self.seconds[group] += used - before.get(pid, (group, 0.0))[1]
        self.pages += pages

    def milliseconds(self) -> dict[str, float]:
        return {group: used * 1000 / max(self.pages, 1) for group, used in self.seconds.items()}

    def line(self) -> str:
        figures = self.milliseconds()
        shares = ", ".join(f"{group} {figures[group]:.2f}" for group in PROCESS_GROUPS)
        return f"{sum(figures.values()):.2f} ({shares})"


def measure(port: int, cookie: Cookies, cpu: CpuPerPage | None = None) -> float:
    """Home-page requests per second from `CLIENTS` keep-alive clients over one round.

    `cookie` is one Cookie header, or several: then each request draws one at random. With
    `cpu`, the round's CPU use by process group is added to it.
    """
    before = cpu_seconds(port) if cpu is not None else {}
    counts: list[int] = []
    errors: list[str] = []
    stop = time.perf_counter() + ROUND_SECONDS
    threads = [
        threading.Thread(target=_hammer, args=(port, cookie, stop, counts, errors))
        for _ in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise SystemExit(f"requests failed: {errors[:3]}")
    if cpu is not None and before:
        cpu.add(before, cpu_seconds(port), sum(counts))
    return sum(counts) / ROUND_SECONDS
