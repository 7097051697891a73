"""Post-filters between scores and stored lists: seen items, unpublished items, locale, MMR.

Kinds, tags and frequency caps depend on the slot asking, so they apply at serve time
(`personalization.recommendations.serving.recommended_items`). Cost: scores are visitors x
items blocks; MMR is k x candidates per visitor.
"""

import numpy as np
from scipy import sparse

EXCLUDED = -np.inf


def exclude_seen(scores: np.ndarray, matrix: sparse.csr_matrix) -> np.ndarray:
    """Items a visitor interacted with score -∞ (never recommended back)."""
    coo = matrix.tocoo()
    scores[coo.row, coo.col] = EXCLUDED
    return scores


def exclude_items(scores: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Columns where `allowed` is False (unpublished, another locale…) score -∞."""
    scores[:, ~allowed] = EXCLUDED
    return scores


def locale_allowed(item_locales: np.ndarray, language: str) -> np.ndarray:
    """Items for every locale (empty) or for the visitor's language ('de' fits 'de-CH')."""
    if not language:
        return np.ones(len(item_locales), bool)
    language = language.lower().split("-")[0]
    return np.array(
        [not loc or loc.lower().split("-")[0] == language for loc in item_locales], bool
    )


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Column indices and scores of each row's `k` best finite scores (-1 pads short rows)."""
    rows, columns = scores.shape
    k_here = min(k, columns)
    if k_here == 0:
        return np.full((rows, k), -1), np.zeros((rows, k), np.float32)
    best = np.argpartition(-scores, k_here - 1, axis=1)[:, :k_here]
    values = np.take_along_axis(scores, best, axis=1)
    order = np.lexsort((best, -values), axis=1)  # by score, ties by column
    best = np.take_along_axis(best, order, axis=1)
    values = np.take_along_axis(values, order, axis=1)
    best = np.where(np.isfinite(values), best, -1)
    if k_here < k:
        best = np.pad(best, ((0, 0), (0, k - k_here)), constant_values=-1)
        values = np.pad(values, ((0, 0), (0, k - k_here)), constant_values=EXCLUDED)
    return best, values


def mmr(
    candidates: np.ndarray,
    relevance: np.ndarray,
    similarity: sparse.csr_matrix | None,
    *,
    k: int,
    trade_off: float,
) -> list[int]:
    """Maximal marginal relevance: positions in `candidates`, each next pick the best
    `trade_off`*relevance - (1 - trade_off)*(most similarity to an item already picked).

    `relevance` is divided by its largest value first, similarity by its own; trade_off 1
    keeps the ranking as it is.
    """
    count = len(candidates)
    if trade_off >= 1 or similarity is None or count <= 1:
        return list(range(min(k, count)))
    top = np.abs(relevance).max()
    scaled = relevance / top if top > 0 else np.ones(count)
    block = similarity[candidates][:, candidates].toarray()
    strongest = np.abs(block).max()
    if strongest > 0:
        block = block / strongest
    picked: list[int] = []
    closest = np.zeros(count)
    remaining = np.ones(count, bool)
    for _ in range(min(k, count)):
        value = np.where(remaining, trade_off * scaled - (1 - trade_off) * closest, -np.inf)
        choice = int(np.argmax(value))
        picked.append(choice)
        remaining[choice] = False
        closest = np.maximum(closest, np.maximum(block[choice], block[:, choice]))
    return picked
