"""Recommendation quality: the hybrid against its best single component on held-out data.

Fixed-seed synthetic implicit feedback (`algorithms.synthetic`: topics, log-normal activity
and popularity) in place of a public data set, which this machine cannot download. Protocol
(`algorithms.evaluation.evaluate`): 20 % of each visitor's items held out for the test, a
validation split carved the same way from the rest picks every parameter and the blend
weights, every model is refitted on the whole training part and measured once on the test.
The baseline in the same run is the best single component on the test split; the hybrid
must not be below it.
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import support  # noqa: F401 - Django set up: the recommenders import models

from personalization.recommendations.algorithms.base import Catalogue
from personalization.recommendations.algorithms.evaluation import evaluate
from personalization.recommendations.algorithms.synthetic import synthetic_interactions

RUNS = (  # (data set seed, split)
    (1, "random"),
    (2, "random"),
    (3, "random"),
    (1, "temporal"),
)
VISITORS, ITEMS = 10_000, 1_000


def report(seed: int, split: str) -> None:
    data = synthetic_interactions(visitors=VISITORS, items=ITEMS, seed=seed)
    started = time.perf_counter()
    result = evaluate(data, Catalogue(data.item_ids), split=split, k=10, seed=42)
    seconds = time.perf_counter() - started
    print(
        f"-- synthetic seed {seed}: {VISITORS:,} visitors, {ITEMS:,} items, "
        f"{data.matrix.nnz:,} cells; {split} split, {result.test_visitors:,} tested, "
        f"evaluated in {seconds:.0f} s",
        flush=True,
    )
    for line in result.table():
        print("   ", line)
    components = [n for n in result.metrics if n != "hybrid"]
    best = max(components, key=lambda n: result.metrics[n]["ndcg"])
    hybrid, alone = result.metrics["hybrid"]["ndcg"], result.metrics[best]["ndcg"]
    weights = ", ".join(f"{n} {w:g}" for n, w in sorted(result.weights.items()) if w)
    print(
        f"    hybrid nDCG@10 {hybrid:.4f} vs best component ({best}) {alone:.4f}: "
        f"{hybrid / alone:.3f}x; weights {weights}; ease {result.parameters.get('ease')}; "
        f"validation {result.validation}",
        flush=True,
    )


def main() -> None:
    for seed, split in RUNS:
        report(seed, split)


if __name__ == "__main__":
    main()
