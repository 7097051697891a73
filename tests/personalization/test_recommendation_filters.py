"""Post-filters: top-k without seen items, locale, and MMR diversity."""

import numpy as np
from scipy import sparse

from personalization.recommendations.algorithms.filters import (
    exclude_seen,
    locale_allowed,
    mmr,
    top_k,
)


def test_top_k_never_returns_an_item_the_visitor_interacted_with():
    scores = np.array([[0.9, 0.8, 0.1, 0.5]], np.float32)
    seen = sparse.csr_matrix(np.array([[1, 0, 0, 0]], np.float32))

    best, values = top_k(exclude_seen(scores, seen), 4)

    assert best.tolist() == [[1, 3, 2, -1]]  # -1: nothing left to recommend
    assert values[0, :3].tolist() == [np.float32(0.8), np.float32(0.5), np.float32(0.1)]


def test_items_for_every_locale_or_the_visitors_language_are_allowed():
    allowed = locale_allowed(np.array(["", "de-CH", "fr", "DE"], object), "de")

    assert allowed.tolist() == [True, True, False, True]


def test_mmr_trades_a_little_relevance_for_a_different_item():
    # Items 0 and 1 are near duplicates; item 2 is a little less relevant but different.
    similarity = sparse.csr_matrix(np.array([[0, 1.0, 0], [1.0, 0, 0], [0, 0, 0]]))
    candidates = np.array([0, 1, 2])
    relevance = np.array([1.0, 0.95, 0.9])

    assert mmr(candidates, relevance, similarity, k=2, trade_off=1.0) == [0, 1]
    assert mmr(candidates, relevance, similarity, k=2, trade_off=0.7) == [0, 2]
