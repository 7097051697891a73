"""Time `segments_compute_all` on 5,000 visitors and 50 segments, and `$inSegment` per request.

Run from the repository root: `.venv/bin/python benchmarks/bench_segments.py`. `make bench` gives
it a throwaway PostgreSQL through DATABASE_URL; without one it uses SQLite. Either way it works
in a test database of its own, created here and destroyed at the end.

Two figures, each beside a baseline in the same run:

* the membership run against one read of every visitor's features (the least any computation
  over stored attributes has to read): a first run, which inserts every membership (most of
  its time is building and sending those rows), and a recompute where nothing changed (consent,
  memberships, each visitor's attribute dict and 50 compiled conditions per visitor). Queries
  grow with chunks (visitors / chunk size), not with visitors; time with visitors x segments
  and with the memberships that change;
* `key in SegmentSet` for a stored and a live segment against `key in set()`: the lazy container
  the decision engine puts in `attributes["segments"]`, after its one query per request.
"""

import os
import random
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment, teardown_test_environment  # noqa: E402

from consent.models import ConsentRecord, PolicyVersion, Purpose  # noqa: E402
from personalization.features.models import VisitorFeatures  # noqa: E402
from personalization.segments.models import Segment, SegmentMembership  # noqa: E402
from personalization.segments.selectors import segment_definitions, visitor_segments  # noqa: E402
from personalization.segments.services import segments_compute_all  # noqa: E402
from personalization.visitors.models import Visitor  # noqa: E402

VISITORS = 5_000
SEGMENTS = 50
CHUNK_SIZE = 2_000
REPEATS = 200_000
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
STAGES = ["new", "engaged", "active", "at_risk", "dormant"]
COUNTRIES = ["DE", "FR", "NL", "US", "GB", "ES"]


def conditions(rng: random.Random) -> list[dict[str, Any]]:
    """Realistic stored rules: features, traits, consent; every fifth reads an earlier one."""
    made: list[dict[str, Any]] = []
    for n in range(SEGMENTS):
        choice = n % 5
        if choice == 0:
            made.append({"monetary_90d": {"$gte": rng.choice([50, 100, 250])}})
        elif choice == 1:
            made.append({"lifecycle": {"$in": rng.sample(STAGES, 2)}, "sessions_30d": {"$gte": 2}})
        elif choice == 2:
            made.append({"traits.country": rng.choice(COUNTRIES), "r_score": {"$gte": 3}})
        elif choice == 3:
            made.append({"affinity.running": {"$gt": 0.3}, "consent.marketing": True})
        else:
            made.append({"$inSegment": f"bench-{n - 4}", "engagement": {"$gt": 0.2}})
    return made


def seed(rng: random.Random) -> None:
    for n, condition in enumerate(conditions(rng)):
        Segment.objects.create(key=f"bench-{n}", name=f"Bench {n}", condition=condition)
    Segment.objects.create(key="bench-mobile", name="Mobile", condition={"device": "mobile"})
    visitors = Visitor.objects.bulk_create(
        [
            Visitor(external_id=f"v{n}", traits={"country": rng.choice(COUNTRIES)})
            for n in range(VISITORS)
        ],
        batch_size=2_000,
    )
    purposes = {p.key: p for p in Purpose.objects.filter(key__in=["personalization", "marketing"])}
    policy = PolicyVersion.objects.order_by("-version").first()
    ConsentRecord.objects.bulk_create(
        [
            ConsentRecord(visitor=v, purpose=p, granted=n % 20 != 0, policy=policy, source="import")
            for n, v in enumerate(visitors)
            for p in purposes.values()
        ],
        batch_size=5_000,
    )
    VisitorFeatures.objects.bulk_create(
        [
            VisitorFeatures(
                visitor=v,
                computed_at=NOW,
                event_count=rng.randint(0, 80),
                sessions_30d=rng.randint(0, 8),
                monetary_90d=Decimal(rng.randint(0, 400)),
                r_score=rng.randint(1, 5),
                lifecycle=rng.choice(STAGES),
                engagement=rng.random(),
                tag_affinities={"running": round(rng.random(), 2)},
            )
            for v in visitors
        ],
        batch_size=2_000,
    )


def features_read() -> int:
    return len(list(VisitorFeatures.objects.values_list("visitor_id", "monetary_90d", "lifecycle")))


def per_call(function: Any) -> float:
    started = time.perf_counter()
    for _ in range(REPEATS):
        function()
    return (time.perf_counter() - started) / REPEATS * 1e6


def main() -> None:
    seed(random.Random(11))
    started = time.perf_counter()
    features_read()
    base = time.perf_counter() - started
    started = time.perf_counter()
    summary = segments_compute_all(chunk_size=CHUNK_SIZE, now=NOW)
    first = time.perf_counter() - started
    started = time.perf_counter()
    segments_compute_all(chunk_size=CHUNK_SIZE, now=NOW)
    again = time.perf_counter() - started
    print(
        f"{VISITORS:,} visitors, {SEGMENTS} stored segments on {connection.vendor}: "
        f"{summary['joined']:,} memberships in {summary['chunks']} chunks"
    )
    print(f"{'':34}  {'seconds':>8}  {'visitors/s':>10}  {'x baseline':>10}")
    for label, seconds in [
        ("read every feature row", base),
        ("first run (inserts every member)", first),
        ("recompute (nothing changed)", again),
    ]:
        print(f"{label:34}  {seconds:8.2f}  {VISITORS / seconds:10,.0f}  {seconds / base:10.1f}")

    member = SegmentMembership.objects.select_related("visitor").first()
    segment_definitions()
    stored_key = member.segment.key if member else "bench-0"
    segments = visitor_segments(member.visitor if member else None, {"device": "mobile"})
    plain = {stored_key}
    stored = per_call(lambda: stored_key in segments)
    live = per_call(lambda: "bench-mobile" in segments)
    baseline = per_call(lambda: stored_key in plain)
    print(f"{'':34}  {'µs':>8}  {'x set':>10}")
    for label, micros in [("key in set()", baseline), ("stored key in SegmentSet", stored),
                          ("live key in SegmentSet", live)]:  # fmt: skip
        print(f"{label:34}  {micros:8.3f}  {micros / baseline:10.1f}")


if __name__ == "__main__":
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        main()
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()
