"""Ranking held-out visitors and measuring the lists at K (see `evaluation` for the protocol).

Metrics at K, averaged over visitors with test items:

- precision: hits / K; recall: hits / test items; hit rate: visitors with a hit;
- nDCG: Σ hits 1/log2(rank + 1) over the ideal for min(K, test items);
- MAP: Σ precision at each hit / min(K, test items);
- coverage: distinct items recommended to anyone / items in the matrix;
- novelty: mean -log2(share of training visitors who had the item) of recommended items.

Cost: at most `MEASURED_VISITORS` visitors per stage (a seeded sample beyond), scored in blocks
of `BLOCK` rows (BLOCK x items floats at a time).
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from personalization.recommendations.algorithms.filters import exclude_seen, top_k
from personalization.recommendations.algorithms.interactions import Interactions

BLOCK = 2000
MEASURED_VISITORS = 20_000  # visitors measured per split; a random sample beyond
METRICS = ("precision", "recall", "ndcg", "map", "hit_rate", "coverage", "novelty")

Scorer = Callable[[sparse.csr_matrix], np.ndarray]


@dataclass
class Split:
    train: Interactions
    test: sparse.csr_matrix  # visitors x items, 1 where held out


def rankings(scorer: Scorer, train: sparse.csr_matrix, rows: np.ndarray, k: int) -> np.ndarray:
    """Each of `rows`' top `k` item columns (never a training item), scored in blocks."""
    ranked = []
    for start in range(0, len(rows), BLOCK):
        block = train[rows[start : start + BLOCK]]
        scores = exclude_seen(scorer(block).astype(np.float32, copy=True), block)
        ranked.append(top_k(scores, k)[0])
    return np.vstack(ranked) if ranked else np.zeros((0, k), int)


def _hits(ranked: np.ndarray, test: sparse.csr_matrix) -> np.ndarray:
    """1 where a ranked item (row, column) is among the test cells, else 0."""
    rows, width = test.shape
    test_keys = np.repeat(np.arange(rows, dtype=np.int64), np.diff(test.indptr)) * width
    test_keys += test.indices
    ranked_keys = np.arange(rows, dtype=np.int64)[:, None] * width + ranked
    return (np.isin(ranked_keys, test_keys) & (ranked >= 0)).astype(float)


def ndcg_per_visitor(ranked: np.ndarray, test: sparse.csr_matrix, *, k: int) -> np.ndarray:
    """nDCG@k of each row of `ranked` against the same row of `test`."""
    ranked = ranked[:, :k]
    hits = _hits(ranked, test)
    ideal_count = np.minimum(k, np.diff(test.indptr)).astype(int)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    ideal = np.cumsum(discounts)[np.maximum(ideal_count, 1) - 1]
    return (hits * discounts).sum(axis=1) / ideal


def measure(
    ranked: np.ndarray, test: sparse.csr_matrix, *, k: int, popularity: np.ndarray, visitors: int
) -> dict[str, float]:
    """The metrics of `ranked` (rows x k columns, -1 for none) against `test` rows."""
    if ranked.shape[0] == 0:
        return dict.fromkeys(METRICS, 0.0)
    ranked = ranked[:, :k]
    hits = _hits(ranked, test)
    relevant = np.diff(test.indptr).astype(float)
    found = hits.sum(axis=1)
    ideal_count = np.minimum(k, relevant).astype(int)
    at_hit = np.cumsum(hits, axis=1) / np.arange(1, k + 1)
    average = (at_hit * hits).sum(axis=1) / np.maximum(ideal_count, 1)
    shown = ranked[ranked >= 0]
    share = np.maximum(popularity, 1.0) / max(visitors, 1)
    return {
        "precision": float(np.mean(found / k)),
        "recall": float(np.mean(found / np.maximum(relevant, 1))),
        "ndcg": float(np.mean(ndcg_per_visitor(ranked, test, k=k))),
        "map": float(np.mean(average)),
        "hit_rate": float(np.mean((found > 0).astype(float))),
        "coverage": len(np.unique(shown)) / max(test.shape[1], 1),
        "novelty": float(np.mean(-np.log2(share[shown]))) if len(shown) else 0.0,
    }


class Stage:
    """One (fit part, measure part) pair: held-out rows and what novelty needs."""

    def __init__(self, split: Split, k: int, seed: int = 0) -> None:
        self.split, self.k = split, k
        self.rows = np.flatnonzero(np.diff(split.test.indptr))
        if len(self.rows) > MEASURED_VISITORS:  # a sample keeps tuning cost flat at scale
            sample = np.random.default_rng(seed).choice(self.rows, MEASURED_VISITORS, replace=False)
            self.rows = np.sort(sample)
        self.popularity = np.asarray((split.train.matrix > 0).sum(axis=0)).ravel()
        self.visitors = int((np.diff(split.train.matrix.indptr) > 0).sum())

    def blocks(self) -> list[sparse.csr_matrix]:
        """The measured visitors' training rows, in the blocks `rankings` asks for."""
        train = self.split.train.matrix
        return [train[self.rows[s : s + BLOCK]] for s in range(0, len(self.rows), BLOCK)]

    def ranked(self, scorer: Scorer) -> np.ndarray:
        return rankings(scorer, self.split.train.matrix, self.rows, self.k)

    def ndcgs(self, scorer: Scorer) -> np.ndarray:
        """nDCG@k of every measured visitor (for paired comparisons)."""
        return ndcg_per_visitor(self.ranked(scorer), self.split.test[self.rows], k=self.k)

    def evaluate(self, scorer: Scorer) -> dict[str, float]:
        return measure(
            self.ranked(scorer), self.split.test[self.rows], k=self.k,
            popularity=self.popularity, visitors=self.visitors,
        )  # fmt: skip
