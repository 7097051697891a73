"""Time experiments.bucketing beside GrowthBook's Python SDK doing the same work.

Run from the repository root: `.venv/bin/python benchmarks/bench_bucketing.py`.
Each row first checks that both sides give identical results for every input,
then reports the best of a few repeats in microseconds per call. Cost grows
linearly with the length of the hashed strings; nothing is stored per visitor
(only the FNV state of up to 4,096 seeds is cached).
"""

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from growthbook import core as gb

from experiments import bucketing

# Best of several short passes, Tailor and GrowthBook alternating, so that a
# burst of load on a shared machine hits both sides alike and is filtered out.
REPEATS = 9
VISITORS = [f"visitor-{i:06d}" for i in range(10_000)]
UNICODE_VISITORS = [f"besucher-{i}-ü😀" for i in range(10_000)]
KEY = "homepage-hero-banner"
WEIGHTS = [0.3334, 0.3333, 0.3333]
NAMESPACE = ("homepage", 0.0, 0.6)
# What an experiment would store once and pass on every call.
RANGES = bucketing.bucket_ranges(3, 1, WEIGHTS)
# More distinct seeds than the seed cache holds, so every call misses it.
SEEDS = [f"experiment-{i}" for i in range(len(VISITORS))]


def tailor_assign(visitor: str) -> tuple[int, float | None]:
    """One assignment through Tailor's `assign`."""
    result = bucketing.assign(
        key=KEY, hash_value=visitor, num_variations=3, weights=WEIGHTS, namespace=NAMESPACE
    )
    return result.variation, result.hash_bucket


def growthbook_assign(visitor: str) -> tuple[int, float | None]:
    """The same assignment from GrowthBook's functions, in runExperiment's order."""
    if not gb.inNamespace(visitor, NAMESPACE):
        return -1, None
    n = gb.gbhash(KEY, visitor, 2)
    assert n is not None
    variation = gb.chooseVariation(n, gb.getBucketRanges(3, 1, WEIGHTS))
    return variation, n


def _seconds(func: Callable[..., Any], args: list[tuple[Any, ...]]) -> float:
    """Wall time of one pass of `func` over `args`."""
    start = time.perf_counter()
    for arg in args:
        func(*arg)
    return time.perf_counter() - start


def tailor_assign_with_ranges(visitor: str) -> tuple[int, float | None]:
    """One assignment through `assign`, with the experiment's ranges computed beforehand."""
    result = bucketing.assign(
        key=KEY, hash_value=visitor, num_variations=3, ranges=RANGES, namespace=NAMESPACE
    )
    return result.variation, result.hash_bucket


def growthbook_assign_with_ranges(visitor: str) -> tuple[int, float | None]:
    """GrowthBook's functions doing the same, with the same precomputed ranges."""
    if not gb.inNamespace(visitor, NAMESPACE):
        return -1, None
    n = gb.gbhash(KEY, visitor, 2)
    assert n is not None
    return gb.chooseVariation(n, RANGES), n


def best_microseconds(
    ours: Callable[..., Any], theirs: Callable[..., Any], args: list[tuple[Any, ...]]
) -> tuple[float, float]:
    """Best of REPEATS alternating passes of each side, in microseconds per call."""
    best_ours = best_theirs = float("inf")
    for _ in range(REPEATS):
        best_ours = min(best_ours, _seconds(ours, args))
        best_theirs = min(best_theirs, _seconds(theirs, args))
    return best_ours / len(args) * 1e6, best_theirs / len(args) * 1e6


def main() -> None:
    """Check that both sides agree on every input, then time them."""
    rows: list[tuple[str, Callable[..., Any], Callable[..., Any], list[tuple[Any, ...]]]] = [
        ("assign (v2, 3 variations, namespace)", tailor_assign, growthbook_assign,
         [(v,) for v in VISITORS]),
        ("assign, precomputed ranges", tailor_assign_with_ranges,
         growthbook_assign_with_ranges, [(v,) for v in VISITORS]),
        ("hash v2", bucketing.hash, gb.gbhash, [(KEY, v, 2) for v in VISITORS]),
        ("hash v2, seed cache miss", bucketing.hash, gb.gbhash,
         [(s, v, 2) for s, v in zip(SEEDS, VISITORS, strict=True)]),
        ("hash v2, non-ASCII id", bucketing.hash, gb.gbhash,
         [(KEY, v, 2) for v in UNICODE_VISITORS]),
        ("hash v1", bucketing.hash, gb.gbhash, [(KEY, v, 1) for v in VISITORS]),
        ("in_namespace", bucketing.in_namespace, gb.inNamespace,
         [(v, NAMESPACE) for v in VISITORS]),
    ]  # fmt: skip

    for name, ours, theirs, args in rows:
        mismatches = [a for a in args if ours(*a) != theirs(*a)]
        if mismatches:
            sys.exit(f"{name}: results differ from GrowthBook, e.g. for {mismatches[0]!r}")
    print(f"identical results on all {len(VISITORS):,} inputs of every row; best of {REPEATS}")

    header = ("operation", "tailor µs", "growthbook µs", "speed-up")
    table = []
    for name, ours, theirs, args in rows:
        tailor_us, growthbook_us = best_microseconds(ours, theirs, args)
        table.append(
            (name, f"{tailor_us:.2f}", f"{growthbook_us:.2f}", f"{growthbook_us / tailor_us:.2f}x")
        )
    widths = [max(len(row[i]) for row in [header, *table]) for i in range(len(header))]
    for row in [header, *table]:
        numbers = zip(row[1:], widths[1:], strict=True)
        cells = [row[0].ljust(widths[0])] + [cell.rjust(width) for cell, width in numbers]
        print("  ".join(cells))


if __name__ == "__main__":
    main()
