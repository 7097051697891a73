"""Time personalization.rules beside GrowthBook's interpreter on the same targeting rules.

Run from the repository root: `.venv/bin/python benchmarks/bench_rules.py` (or
`benchmarks/run.py rules`). About twenty realistic conditions (device, country, UTM, visit
counts, tag affinities, lifecycle, app versions, regular expressions, nested $and/$or, arrays
of objects) meet a few hundred generated visitors. The script first checks that Tailor and
`growthbook.core.evalCondition` agree on every pair, then reports two ratios against
GrowthBook's interpreter on the same pairs:

1. a condition seen before: the best of a few alternating passes in microseconds per
   evaluation of
   * `evaluate_condition`, same dicts: the hot path, a condition object evaluated again;
   * `evaluate_condition`, fresh copies: every call brings an equal but new dict (as when a
     condition is re-read from the database), so the content cache is what finds it;
   * compiled once: the function `compile_condition` returned, called directly;
2. a condition never seen: each pair timed alone, Tailor's caches emptied before (compiled
   conditions, regular expressions, version strings) and Python's `re` cache emptied before
   GrowthBook's (it compiles `$regex` patterns with `re`); the sum of each pair's best of a
   few passes. Beside the first evaluation, the same with both sides' regular expressions
   already compiled (a new condition reusing a known pattern), and the first three
   evaluations together (Tailor compiles a condition at its third use) against three of
   GrowthBook's.

Cost grows with the size of the condition and, for array operators, with the arrays'
lengths; nothing is stored per visitor (at most 2,048 compiled conditions are cached).
"""

import copy
import random
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from growthbook.core import evalCondition

from personalization.rules import compile_condition, engine, evaluate_condition
from personalization.rules.semantics import padded_version

REPEATS = 15
VISITORS = 300
FIRST_VISITORS = 30  # visitors per condition when timing first evaluations
FIRST_REPEATS = 5
SEED = 20240611

CONDITIONS: list[dict[str, Any]] = [
    {"device": "mobile"},
    {"country": {"$in": ["DE", "FR", "NL", "ES", "IT", "AT", "BE"]}},
    {"utm.source": "newsletter", "utm.medium": {"$in": ["email", "newsletter"]}},
    {"visits": {"$gte": 3}},
    {"visits": {"$gte": 5}, "days_since_last_visit": {"$lte": 7}},
    {"affinities.running": {"$gt": 0.5}},
    {"top_tags": {"$in": ["running", "trail"]}},
    {"lifecycle": {"$in": ["new", "active"]}, "$not": {"consent.marketing": False}},
    {"app_version": {"$vgte": "2.3.0"}},
    {"app_version": {"$vlt": "3.0.0-beta.2"}},
    {"user_agent": {"$regexi": "iphone|ipad"}},
    {"email": {"$regex": "@(example|corp)\\.com$"}},
    {"$and": [{"device": {"$ne": "desktop"}},
              {"$or": [{"country": "US"}, {"visits": {"$gt": 10}}]}]},
    {"cart.items": {"$elemMatch": {"category": "shoes", "price": {"$gte": 50}}}},
    {"cart.items": {"$size": {"$gte": 3}}},
    {"top_tags": {"$all": ["running", "outdoor"]}},
    {"$nor": [{"lifecycle": "churned"}, {"country": {"$in": ["RU", "BY"]}}]},
    {"customer_id": {"$exists": True}, "orders": {"$gte": 1}},
    {"monetary": {"$gte": 100, "$lt": 1000}},
    {"language": {"$ini": ["de", "de-at", "de-ch"]}},
    {"referrer": {"$type": "string", "$nin": ["", "direct"]}},
    {
        "$or": [
            {"$and": [{"lifecycle": "active"}, {"affinities.trail": {"$gte": 0.3}}]},
            {"$and": [{"device": "tablet"}, {"cart.items.0.price": {"$gt": 100}}]},
            {"utm.campaign": {"$regex": "^spring-"}, "country": {"$nin": ["US", "CA"]}},
        ]
    },
]  # fmt: skip

_TAGS = ["running", "trail", "outdoor", "yoga", "tennis", "sale", "kids"]


def _visitor(rng: random.Random) -> dict[str, Any]:
    """A visitor's attribute dict as the decide step builds it; some fields are missing."""
    visitor: dict[str, Any] = {
        "device": rng.choice(["mobile", "desktop", "tablet"]),
        "country": rng.choice(["DE", "FR", "US", "CA", "NL", "RU", "GB", None]),
        "visits": rng.choice([0, 1, 2, 3, 5, 8, 13, 40]),
        "days_since_last_visit": rng.choice([0, 1, 3, 7, 30, 400]),
        "affinities": {tag: round(rng.random(), 2) for tag in rng.sample(_TAGS, 3)},
        "top_tags": rng.sample(_TAGS, rng.randrange(4)),
        "lifecycle": rng.choice(["new", "active", "at_risk", "churned"]),
        "consent": {"marketing": rng.choice([True, False])},
        "app_version": rng.choice(["2.2.9", "2.3.0", "2.10.1", "3.0.0-beta.1", "3.0.0", None]),
        "user_agent": rng.choice(["Mozilla/5.0 (iPhone)", "Mozilla/5.0 (Windows NT)", "iPad"]),
        "language": rng.choice(["de", "DE-AT", "en", "fr-FR"]),
        "referrer": rng.choice(["", "direct", "https://news.example", None]),
    }
    if rng.random() < 0.5:
        visitor["utm"] = {
            "source": rng.choice(["newsletter", "google", "partner"]),
            "medium": rng.choice(["email", "cpc", "newsletter"]),
            "campaign": rng.choice(["spring-sale", "summer", "spring-shoes"]),
        }
    if rng.random() < 0.6:
        visitor["cart"] = {
            "items": [
                {"category": rng.choice(["shoes", "shirts"]), "price": rng.choice([20, 60, 150])}
                for _ in range(rng.randrange(5))
            ]
        }
    if rng.random() < 0.4:
        visitor["customer_id"] = f"c-{rng.randrange(10**6)}"
        visitor["orders"] = rng.randrange(5)
        visitor["monetary"] = rng.choice([0, 50, 150, 999.5, 2500])
        visitor["email"] = rng.choice(["a@example.com", "b@corp.com", "c@mail.org"])
    return visitor


def _seconds(calls: list[tuple[Callable[..., bool], tuple[Any, ...]]]) -> float:
    """Wall time of one pass over the calls."""
    start = time.perf_counter()
    for function, arguments in calls:
        function(*arguments)
    return time.perf_counter() - start


def _forget(*, patterns: bool) -> None:
    """Empty the caches a new condition finds empty (with `patterns`, regexes too) on both sides."""
    try:
        engine.clear_caches(patterns=patterns)
    except TypeError:  # a version whose clear_caches takes no argument
        engine.clear_caches()
    padded_version.cache_clear()
    if patterns:
        re.purge()  # GrowthBook compiles `$regex` patterns with `re`, which caches them


def _first_uses(
    pairs: list[tuple[dict[str, Any], dict[str, Any]]], uses: int, *, patterns: bool = True
) -> tuple[int, int]:
    """Nanoseconds of the first `uses` evaluations of new conditions: Tailor's, GrowthBook's."""
    tailor = growthbook = 0
    for condition, visitor in pairs:
        best_tailor = best_growthbook = 1 << 62
        for _ in range(FIRST_REPEATS):
            _forget(patterns=patterns)
            started = time.perf_counter_ns()
            for _ in range(uses):
                evaluate_condition(condition, visitor)
            best_tailor = min(best_tailor, time.perf_counter_ns() - started)
            started = time.perf_counter_ns()
            for _ in range(uses):
                evalCondition(visitor, condition)
            best_growthbook = min(best_growthbook, time.perf_counter_ns() - started)
        tailor += best_tailor
        growthbook += best_growthbook
    return tailor, growthbook


def _print_table(header: tuple[str, ...], table: list[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in [header, *table]) for i in range(len(header))]
    for row in [header, *table]:
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        print("  ".join(cells))


def main() -> None:
    """Check that Tailor and GrowthBook agree on every pair, then time them."""
    rng = random.Random(SEED)
    visitors = [_visitor(rng) for _ in range(VISITORS)]
    pairs = [(condition, visitor) for visitor in visitors for condition in CONDITIONS]

    compiled = {id(condition): compile_condition(condition) for condition in CONDITIONS}
    disagreements = [
        (condition, visitor)
        for condition, visitor in pairs
        if evaluate_condition(condition, visitor) is not evalCondition(visitor, condition)
        or compiled[id(condition)](visitor) is not evalCondition(visitor, condition)
    ]
    if disagreements:
        sys.exit(f"results differ from GrowthBook, e.g. for {disagreements[0]!r}")
    matches = sum(evalCondition(visitor, condition) for condition, visitor in pairs)
    print(
        f"identical results on all {len(pairs):,} pairs ({len(CONDITIONS)} conditions x "
        f"{VISITORS} visitors, {matches:,} match)"
    )

    # Equal but new dicts, made before timing so that only the lookup is measured.
    fresh = [(copy.deepcopy(condition), visitor) for condition, visitor in pairs]
    rows: list[tuple[str, list[tuple[Callable[..., bool], tuple[Any, ...]]]]] = [
        ("growthbook evalCondition", [(evalCondition, (v, c)) for c, v in pairs]),
        ("tailor evaluate_condition, same dicts", [(evaluate_condition, (c, v)) for c, v in pairs]),
        ("tailor evaluate_condition, fresh copies", [(evaluate_condition, p) for p in fresh]),
        ("tailor compiled once", [(compiled[id(c)], (v,)) for c, v in pairs]),
    ]  # fmt: skip
    # Each row's calls in slices of one visitor's pairs at a time (well under a millisecond):
    # the best of the repeats is taken per slice and the slices' bests are added up, so that
    # a busy machine's interruptions, which a whole pass rarely escapes, fall out. The rows
    # alternate within each slice so that a burst of load hits all of them alike.
    size = len(CONDITIONS)
    best = dict.fromkeys((name for name, _ in rows), 0.0)
    for start in range(0, len(pairs), size):
        slice_best = dict.fromkeys(best, float("inf"))
        for _ in range(REPEATS):
            for name, calls in rows:
                # Twice in a row: the second pass finds the caches as the first one left them
                # rather than as the previous row did, alike for every row.
                for _ in range(2):
                    seconds = _seconds(calls[start : start + size])
                    slice_best[name] = min(slice_best[name], seconds)
        for name in best:
            best[name] += slice_best[name]
    baseline = best[rows[0][0]]
    print(f"\n1. conditions seen before; each visitor's pairs the best of {REPEATS}")
    _print_table(
        ("evaluation", "µs/eval", "speed-up"),
        [
            (name, f"{seconds / len(pairs) * 1e6:.2f}", f"{baseline / seconds:.2f}x")
            for name, seconds in best.items()
        ],
    )

    sample = [(c, v) for v in visitors[:FIRST_VISITORS] for c in CONDITIONS]
    first = _first_uses(sample, 1)
    known = _first_uses(sample, 1, patterns=False)
    three = _first_uses(sample, 3)
    print(
        f"\n2. new conditions: {len(sample):,} pairs, each timed alone with every cache empty; "
        f"sum of each pair's best of {FIRST_REPEATS}"
    )
    _print_table(
        ("evaluation", "tailor µs", "growthbook µs", "tailor / growthbook"),
        [
            (label, f"{t / len(sample) / 1e3:.2f}", f"{g / len(sample) / 1e3:.2f}", f"{t / g:.2f}x")
            for label, (t, g) in (
                ("first evaluation", first),
                ("first evaluation, regular expressions known", known),
                ("first three evaluations", three),
            )
        ],
    )
    same = best[rows[1][0]]
    print(
        f"\nsummary: seen before {baseline / same:.2f}x faster than GrowthBook (target >= 5x); "
        f"first evaluation {first[0] / first[1]:.2f}x GrowthBook's time (target <= 2x)"
    )


if __name__ == "__main__":
    main()
