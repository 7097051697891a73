"""Recommenders: training and scoring time and peak memory at 10k, 100k and 1M interactions,
and the memory of a whole training (tuning, evaluation, final fit) at 100k and 1M visitors.

Synthetic interactions (visitors with a favourite group of items, skewed popularity) over
3,000 items, one visitor per 20 interactions. Each model is timed beside the bare numpy/scipy
kernel it is built on, on the same matrix: EASE beside the Gram matrix and a dense inverse,
item-kNN beside the sparse product XᵀX, ALS beside the sparse-dense products of its iterations
(one X·F and one Xᵀ·(…) per conjugate-gradient step and side), scoring 1,000 visitors beside
the product X·W alone. The ratio says what our code adds. Times come from an untraced pass,
peak memory from a second pass under tracemalloc (numpy's buffers included; LAPACK's and
`implicit`'s native workspaces not). "cells" counts the distinct visitor-item pairs.

Training memory: each population runs in a subprocess of its own, which trains as
`recommendation_run_train` does (the seeded sample of at most `SAMPLE` visitors, then
`hybrid_train`: tuning, evaluation, final fit) over 1,000 items, and prints its peak resident
memory (`ru_maxrss`: everything, native buffers too). The baseline is the same training on
every visitor of the smaller population, as before the sample existed.
"""

import os
import resource
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import support  # noqa: F401 - Django set up: the recommenders import models

from personalization.recommendations.algorithms import als
from personalization.recommendations.algorithms.als import Als
from personalization.recommendations.algorithms.base import Catalogue
from personalization.recommendations.algorithms.ease import Ease
from personalization.recommendations.algorithms.filters import exclude_seen, top_k
from personalization.recommendations.algorithms.interactions import from_triples
from personalization.recommendations.algorithms.knn import ItemKnn
from personalization.recommendations.services import hybrid_train, recommendation_training_sample

ITEMS = 3_000
SIZES = (10_000, 100_000, 1_000_000)
SCORED = 1_000
POPULATIONS = (100_000, 1_000_000)
SAMPLE = 50_000  # TAILOR_RECOMMENDATION_TRAINING_VISITORS here (200,000 by default)
TRAINING_ITEMS = 1_000


def synthetic(interactions: int, seed: int = 0, items: int = ITEMS):
    rng = np.random.default_rng(seed)
    visitors = max(interactions // 20, 1)
    groups = 50
    rows = rng.integers(0, visitors, interactions)
    taste = rows % groups
    in_group = rng.random(interactions) < 0.7
    per_group = items // groups
    grouped = taste * per_group + rng.integers(0, per_group, interactions)
    popular = np.minimum(rng.zipf(1.3, interactions) - 1, items - 1)
    items = np.where(in_group, grouped, popular)
    return from_triples(
        rows, items, rng.integers(1, 4, interactions).astype(float),
        np.zeros(interactions), now=0.0, half_life_days=90.0,
    )  # fmt: skip


def measured(
    function: Callable[[], object], *, traced: bool = False
) -> tuple[float, float, object]:
    """Seconds of one call (and with `traced`, a second call's peak traced MiB), its result."""
    started = time.perf_counter()
    result = function()
    seconds = time.perf_counter() - started
    peak = 0.0
    if traced:
        tracemalloc.start()
        function()
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return seconds, peak, result


def report(size: int) -> None:
    data = synthetic(size)
    matrix = data.matrix
    catalogue = Catalogue(data.item_ids)
    block = matrix[:SCORED]

    def ease_kernel() -> np.ndarray:
        gram = (matrix.T @ matrix).toarray()
        gram[np.diag_indices_from(gram)] += 100.0
        return np.linalg.inv(gram)

    def knn_kernel() -> object:
        return matrix.T @ matrix

    def als_kernel() -> None:
        factors = np.random.default_rng(0).random((matrix.shape[1], 32), dtype=np.float32)
        by_item = matrix.T.tocsr()
        for _ in range(8 * 3):  # iterations x conjugate-gradient steps, each side
            factors = by_item @ (matrix @ factors)

    for label, model, kernel, threads in (
        ("ease", Ease(regularization=100.0), ease_kernel, 0),
        ("item_knn", ItemKnn(neighbours=50, shrinkage=10.0), knn_kernel, 0),
        ("als 1 thr", Als(factors=32, iterations=8), als_kernel, 1),
        (f"als {os.cpu_count()} thr", Als(factors=32, iterations=8), als_kernel, 0),
    ):
        als.TRAINING_THREADS = threads
        train, peak, _ = measured(lambda m=model: m.fit(data, catalogue), traced=True)
        kernel_seconds, _, _ = measured(kernel)
        score, _, _ = measured(lambda m=model: top_k(exclude_seen(m.score(block), block), 10))
        if isinstance(model, Als):
            users = np.random.default_rng(0).random((SCORED, 32), np.float32)
            score_kernel, _, _ = measured(lambda m=model, u=users: u @ m.item_factors.T)
        else:
            score_kernel, _, _ = measured(lambda m=model: block @ m.weights)
        print(
            f"{matrix.nnz:>12,} {label:<9} {train:>8.2f} {kernel_seconds:>8.2f} "
            f"{train / kernel_seconds:>8.2f} {peak:>8.1f} {score:>8.3f} {score_kernel:>8.3f} "
            f"{score / max(score_kernel, 1e-9):>8.1f}",
            flush=True,
        )


def training(population: int, sample: int | None) -> None:
    """Train as a run does on `population` visitors (a sample of `sample`); print the peak."""
    started = time.perf_counter()
    ids = np.arange(population, dtype=np.int64)
    picked = recommendation_training_sample(ids, limit=sample, seed=0) if sample else None
    trained = population if picked is None else len(picked)
    data = synthetic(20 * trained, items=TRAINING_ITEMS)
    hybrid_train(data, Catalogue(data.item_ids), seed=0, k=10, progress=None)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{population:>12,} {trained:>10,} {data.matrix.nnz:>12,} "
        f"{time.perf_counter() - started:>9.1f} {peak:>9.0f}",
        flush=True,
    )


def training_memory() -> None:
    print(f"-- training memory ({TRAINING_ITEMS} items; peak resident, one process each)")
    print(f"{'visitors':>12} {'trained':>10} {'cells':>12} {'seconds':>9} {'peak MiB':>9}")
    runs = [(POPULATIONS[0], None)] + [(population, SAMPLE) for population in POPULATIONS]
    for population, sample in runs:
        command = [sys.executable, __file__, "--training", str(population), str(sample or 0)]
        subprocess.run(command, check=True)
    print(f"   (first line: every visitor trained, as before the sample of {SAMPLE:,})")


def main() -> None:
    if sys.argv[1:2] == ["--training"]:
        training(int(sys.argv[2]), int(sys.argv[3]) or None)
        return
    # ALS trains with compiled loops loaded (or compiled, the first time on a machine) once
    # per process: that happens here, timed apart, so that the rows time training alone.
    started = time.perf_counter()
    tiny = synthetic(1_000)
    Als(factors=32, iterations=1).fit(tiny, Catalogue(tiny.item_ids))
    print(f"ALS's compiled loops loaded in {time.perf_counter() - started:.1f} s, once per process")
    print(f"{ITEMS} items; scoring = {SCORED} visitors' top 10 (seen items excluded)")
    print(
        f"{'cells':>12} {'model':<9} {'train s':>8} {'kernel s':>8} {'x kernel':>8}"
        f" {'peak MiB':>8} {'score s':>8} {'kernel s':>8} {'x kernel':>8}"
    )
    for size in SIZES:
        print(f"-- {size:,} synthetic interactions", flush=True)
        report(size)
    training_memory()


if __name__ == "__main__":
    main()
