"""Recommenders: training and scoring time and peak memory at 10k, 100k and 1M interactions.

Synthetic interactions (visitors with a favourite group of items, skewed popularity) over
3,000 items, one visitor per 20 interactions. Each model is timed beside the bare numpy/scipy
kernel it is built on, on the same matrix: EASE beside the Gram matrix and a dense inverse,
item-kNN beside the sparse product XᵀX, ALS beside the sparse-dense products of its iterations,
scoring 1,000 visitors beside the product X·W alone. The ratio says what our code adds.
Peak memory is what tracemalloc saw (numpy's buffers included, LAPACK workspace not).
"cells" counts the distinct visitor-item pairs the interactions fall into.
"""

import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import support  # noqa: F401 - Django set up: the recommenders import models

from personalization.recommendations.algorithms.als import Als
from personalization.recommendations.algorithms.base import Catalogue
from personalization.recommendations.algorithms.ease import Ease
from personalization.recommendations.algorithms.filters import exclude_seen, top_k
from personalization.recommendations.algorithms.interactions import from_triples
from personalization.recommendations.algorithms.knn import ItemKnn

ITEMS = 3_000
SIZES = (10_000, 100_000, 1_000_000)
SCORED = 1_000


def synthetic(interactions: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    visitors = max(interactions // 20, 1)
    groups = 50
    rows = rng.integers(0, visitors, interactions)
    taste = rows % groups
    in_group = rng.random(interactions) < 0.7
    per_group = ITEMS // groups
    grouped = taste * per_group + rng.integers(0, per_group, interactions)
    popular = np.minimum(rng.zipf(1.3, interactions) - 1, ITEMS - 1)
    items = np.where(in_group, grouped, popular)
    return from_triples(
        rows, items, rng.integers(1, 4, interactions).astype(float),
        np.zeros(interactions), now=0.0, half_life_days=90.0,
    )  # fmt: skip


def measured(function: Callable[[], object]) -> tuple[float, float, object]:
    """Seconds and peak traced MiB of one call, and its result."""
    tracemalloc.start()
    started = time.perf_counter()
    result = function()
    seconds = time.perf_counter() - started
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

    for model, kernel in (
        (Ease(regularization=100.0), ease_kernel),
        (ItemKnn(neighbours=50, shrinkage=10.0), knn_kernel),
        (Als(factors=32, iterations=8), als_kernel),
    ):
        train, peak, _ = measured(lambda m=model: m.fit(data, catalogue))
        kernel_seconds, _, _ = measured(kernel)
        score, _, _ = measured(lambda m=model: top_k(exclude_seen(m.score(block), block), 10))
        if isinstance(model, Als):
            users = np.random.default_rng(0).random((SCORED, 32), np.float32)
            score_kernel, _, _ = measured(lambda m=model, u=users: u @ m.item_factors.T)
        else:
            score_kernel, _, _ = measured(lambda m=model: block @ m.weights)
        print(
            f"{matrix.nnz:>12,} {model.name:<9} {train:>8.2f} {kernel_seconds:>8.2f} "
            f"{train / kernel_seconds:>8.2f} {peak:>8.1f} {score:>8.3f} {score_kernel:>8.3f} "
            f"{score / max(score_kernel, 1e-9):>8.1f}",
            flush=True,
        )


def main() -> None:
    print(f"{ITEMS} items; scoring = {SCORED} visitors' top 10 (seen items excluded)")
    print(
        f"{'cells':>12} {'model':<9} {'train s':>8} {'kernel s':>8} {'x kernel':>8}"
        f" {'peak MiB':>8} {'score s':>8} {'kernel s':>8} {'x kernel':>8}"
    )
    for size in SIZES:
        print(f"-- {size:,} synthetic interactions", flush=True)
        report(size)


if __name__ == "__main__":
    main()
