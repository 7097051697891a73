"""Home-page requests per second under gunicorn, personalized vs not, in one run.

Gunicorn serves Tailor on loopback from a test database of this benchmark's own, seeded with
the demo catalogue and slots and `VISITORS` demo visitors with histories (`seed_visitors`:
events, consent, features, scores, segments, clusters and a recommendation model run). The
same home page is requested by keep-alive clients in alternating rounds:

- unpersonalized: no visitor cookie, so every slot shows its default content;
- personalized: each request draws one of the visitors who allow personalization at random
  and sends their signed cookie and the consent banner's cookie, so the visitor is
  identified, the page view is recorded (written in bulk, as in production), every slot is
  decided from the visitor's features and segments, and the page shows their stored
  recommendations and "because you viewed".

Drawing among thousands of visitors is what a site sees: no visitor's data is warm in a
process because the previous request was theirs. Before the rounds every visitor asks for the
page twice, some seconds apart (`visit_everyone`), as visitors already browsing the site have:
their first page began a session, which made their snapshot stale, and their next page built
it again. So the rounds measure a page of a visitor in the middle of a visit, one Redis round
trip and no query; the first page of a visit, which rebuilds the snapshot, is counted in
queries below. The ratio personalized / unpersonalized is what personalization costs a page
(target ≥ 0.8). The CPU each kind of page costs, by process (gunicorn, PostgreSQL, Redis, the
clients), says where the difference goes: on a machine whose cores the rounds keep busy,
throughput follows the CPU a page costs in all of them.
"""

import http.client
import os
import random
import threading
import time

# Page views are written in bulk as in production, not by the page that records them (the
# test settings' default), so that the queries counted per page are the page's own.
os.environ.setdefault("TAILOR_WRITE_BUFFER_SIZE", "200")

from django.conf import settings
from django.core import signing
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from support import BROWSER, CLIENTS, CpuPerPage, gunicorn, measure, test_database

from consent.cookies import consent_cookie_value
from consent.purposes import PERSONALIZATION
from consent.selectors import consent_states, policy_current_version
from content.demo import seed_content
from personalization.demo import seed_visitors
from personalization.recommendations.models import Recommendation
from personalization.visitors.models import Visitor
from personalization.visitors.selectors import COOKIE_SALT
from personalization.visitors.services import IMPRESSIONS, PAGE_VIEWS
from personalization.visitors.snapshots import snapshots_invalidate

ROUNDS = 5
VISITORS = 3000
WORKERS = (2, 4)  # one per core; README's production command (`--workers 4`)
SAMPLE = 40  # pages checked for what a personalized page shows


def seed() -> list[str]:
    """The Cookie headers of every demo visitor who allows personalization."""
    seed_content(seed=42)
    seed_visitors(count=VISITORS, seed=42)
    visitors = {v.pk: v for v in Visitor.objects.filter(external_id__startswith="demo-")}
    states = consent_states(visitors)
    signer = signing.get_cookie_signer(salt=settings.TAILOR_VISITOR_COOKIE + COOKIE_SALT)
    # The banner's cookie too, as a browser that chose in the banner sends it with every page.
    choices = consent_cookie_value(
        choices={"analytics": True, "personalization": True, "marketing": True},
        policy_version=policy_current_version(),
    )
    return [
        f"{settings.TAILOR_VISITOR_COOKIE}={signer.sign(str(v.uid))}; "
        f"{settings.TAILOR_CONSENT_COOKIE}={choices}"
        for pk, v in sorted(visitors.items())
        if states[pk].get(PERSONALIZATION)
    ]


def _rail(page: str) -> str:
    return page.split("rail--recommended", 1)[-1].split("</section>", 1)[0]


def shown(port: int, cookies: list[str]) -> tuple[int, int]:
    """Of `SAMPLE` random visitors' pages: how many show "because you viewed", and how many a
    recommendation rail of their own (not the unpersonalized page's)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def page(cookie: str | None) -> str:
        headers = {"User-Agent": BROWSER, **({"Cookie": cookie} if cookie else {})}
        conn.request("GET", "/", headers=headers)
        return conn.getresponse().read().decode()

    everyone = _rail(page(None))
    because = own = 0
    for cookie in random.Random(7).sample(cookies, SAMPLE):
        html = page(cookie)
        because += "rail--because" in html
        own += _rail(html) != everyone
    conn.close()
    return because, own


def queries_per_page(cookies: list[str]) -> tuple[int, int, int]:
    """Database queries of one page in process: unpersonalized; personalized with the visitor's
    snapshot rebuilt; personalized again, from the snapshot."""
    client = Client(HTTP_USER_AGENT=BROWSER)

    def count(cookie: str | None) -> int:
        client.cookies.clear()
        if cookie:
            client.cookies.load(cookie)
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/").status_code == 200
        return len(queries)

    cookie = random.Random(11).choice(cookies)
    count(cookie)  # this process's caches: definitions, candidates, the anchor's similar items
    uid = signing.get_cookie_signer(salt=settings.TAILOR_VISITOR_COOKIE + COOKIE_SALT).unsign(
        cookie.split(";")[0].split("=", 1)[1]
    )
    snapshots_invalidate([Visitor.objects.get(uid=uid).pk])
    counts = count(None), count(cookie), count(cookie)
    for buffer in (IMPRESSIONS, PAGE_VIEWS):  # written now, while the database is there
        buffer.flush()
    return counts


def visit_everyone(port: int, cookies: list[str]) -> None:
    """Every visitor's page twice, the second time after their page views were written."""

    def visit(share: list[str]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for cookie in share:
            conn.request("GET", "/", headers={"User-Agent": BROWSER, "Cookie": cookie})
            conn.getresponse().read()
        conn.close()

    for _ in range(2):
        threads = [
            threading.Thread(target=visit, args=(cookies[n::CLIENTS],)) for n in range(CLIENTS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        time.sleep(float(settings.TAILOR_WRITE_BUFFER_SECONDS) + 1)  # buffers flushed on time


Measured = tuple[list[float], list[float], int, int, CpuPerPage, CpuPerPage]


def rounds(workers: int, cookies: list[str]) -> Measured:
    """Requests/s of each round, unpersonalized and personalized, under `workers` workers; of
    `SAMPLE` random visitors' pages, how many show what is theirs; CPU per page of each kind."""
    with gunicorn(workers) as port:
        visit_everyone(port, cookies)
        measure(port, None), measure(port, cookies)  # warm both paths' code and caches
        plain, personal = [], []
        plain_cpu, personal_cpu = CpuPerPage(), CpuPerPage()
        for _ in range(ROUNDS):
            plain.append(measure(port, None, plain_cpu))
            personal.append(measure(port, cookies, personal_cpu))
        because, own = shown(port, cookies)
    return plain, personal, because, own, plain_cpu, personal_cpu


def main() -> None:
    with test_database():
        cookies = seed()
        if connection.vendor != "postgresql":
            raise SystemExit("bench_home needs PostgreSQL: run it with `make bench`")
        listed = Recommendation.objects.values("visitor_id").distinct().count()
        measured = {workers: rounds(workers, cookies) for workers in WORKERS}
        plain_queries, rebuilt_queries, cached_queries = queries_per_page(cookies)
    _, _, because, own, _, _ = measured[WORKERS[-1]]
    print(f"home page under gunicorn, {CLIENTS} keep-alive clients, best of {ROUNDS} rounds")
    print(f"{len(cookies):,} visitors with histories who allow personalization, one drawn at "
          f"random per request; {listed:,} have a stored recommendation list")  # fmt: skip
    print(f"of {SAMPLE} random visitors' pages: {because} show 'because you viewed', "
          f"{own} a recommendation rail of their own")  # fmt: skip
    print(f"database queries per page: unpersonalized {plain_queries}; personalized "
          f"{cached_queries} from the visitor's snapshot, "
          f"{rebuilt_queries} rebuilding it")  # fmt: skip
    print(f"{'page':<44}{'workers':>8}{'requests/s':>12}{'ratio':>8}")
    for workers, (plain, personal, _, _, plain_cpu, personal_cpu) in measured.items():
        best_plain, best_personal = max(plain), max(personal)
        print(f"{'unpersonalized (defaults, no visitor)':<44}{workers:>8}{best_plain:>12.1f}"
              f"{1:>8.2f}")  # fmt: skip
        print(f"{'personalized (identified, tracked, decided)':<44}{workers:>8}"
              f"{best_personal:>12.1f}{best_personal / best_plain:>8.2f}")  # fmt: skip
        print("  rounds (requests/s): unpersonalized " + ", ".join(f"{r:.0f}" for r in plain)
              + "; personalized " + ", ".join(f"{r:.0f}" for r in personal))  # fmt: skip
        if plain_cpu.pages:
            print(f"  CPU ms per page, all rounds: unpersonalized {plain_cpu.line()}")
            print(f"  {'':<23}personalized {personal_cpu.line()}")
    print(
        f"{WORKERS[-1]} workers is README's production command; {WORKERS[0]}, one per core, "
        "leaves a core idle whenever a worker waits on Redis or PostgreSQL"
    )


if __name__ == "__main__":
    main()
