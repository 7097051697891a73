"""Popularity: global (visitors per item), trending (recent interest), and per segment.

Global counts each visitor once per item (a hundred views are one visitor); trending sums each
visitor-item cell's confidence halved every `half_life_days` since its latest event, so items
rising this week beat items that were big last season. Cost: one pass over the non-zeros;
memory: one float per item (per segment: segments x items).
"""

from typing import Self

import numpy as np
from scipy import sparse

from personalization.recommendations.algorithms.base import Catalogue, Recommender, State
from personalization.recommendations.algorithms.interactions import SECONDS_PER_DAY, Interactions


class Popularity(Recommender):
    """The same list for everyone: items by how many visitors interacted with them."""

    name = "popularity"

    def __init__(self) -> None:
        self.counts = np.zeros(0, np.float32)

    def fit(self, data: Interactions, catalogue: Catalogue) -> Self:
        self.counts = np.asarray((data.matrix > 0).sum(axis=0), np.float32).ravel()
        return self

    def score(self, matrix: sparse.csr_matrix) -> np.ndarray:
        return np.broadcast_to(self.counts, (matrix.shape[0], len(self.counts))).copy()

    def state(self) -> State:
        return {"counts": self.counts}

    @classmethod
    def from_state(cls, state: State) -> Self:
        model = cls()
        model.counts = state["counts"]
        return model


class Trending(Popularity):
    """Popularity with time decay: recent interactions count more."""

    name = "trending"

    def __init__(self, half_life_days: float = 7.0) -> None:
        super().__init__()
        self.half_life_days = half_life_days

    def fit(self, data: Interactions, catalogue: Catalogue) -> Self:
        ages = np.maximum(data.now - data.last.data, 0.0) / SECONDS_PER_DAY
        decayed = data.last.copy()
        decayed.data = data.matrix.data * np.power(0.5, ages / self.half_life_days)
        self.counts = np.asarray(decayed.sum(axis=0), np.float32).ravel()
        return self


def segment_popularity(
    data: Interactions, memberships: dict[str, np.ndarray], *, k: int
) -> dict[str, list[int]]:
    """Segment key → the item pks most visitors of that segment interacted with, best first."""
    if not memberships or data.matrix.shape[0] == 0:
        return {}
    keys = sorted(memberships)
    position = {pk: row for row, pk in enumerate(data.visitor_ids.tolist())}
    rows, cols = [], []
    for index, key in enumerate(keys):
        members = [position[pk] for pk in memberships[key].tolist() if pk in position]
        rows += [index] * len(members)
        cols += members
    belongs = sparse.csr_matrix(
        (np.ones(len(rows), np.float32), (rows, cols)), shape=(len(keys), data.matrix.shape[0])
    )
    counts = (belongs @ (data.matrix > 0).astype(np.float32)).toarray()
    result = {}
    for index, key in enumerate(keys):
        best = np.argsort(-counts[index], kind="stable")[:k]
        result[key] = [int(data.item_ids[i]) for i in best if counts[index, i] > 0]
    return {key: items for key, items in result.items() if items}
