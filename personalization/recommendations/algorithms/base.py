"""What every recommender shares: the interface, item texts, and sparse top-k helpers."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Self

import numpy as np
from scipy import sparse

from personalization.recommendations.algorithms.interactions import Interactions

State = dict[str, np.ndarray]


@dataclass
class Catalogue:
    """What content-based models know of the items, in the interaction matrix's column order."""

    item_ids: np.ndarray
    texts: Sequence[str] = field(default_factory=list)


class Recommender:
    """Learns from an interaction matrix; scores rows of visitors against every item."""

    name: ClassVar[str]

    def fit(self, data: Interactions, catalogue: Catalogue) -> Self:
        raise NotImplementedError

    def score(self, matrix: sparse.csr_matrix) -> np.ndarray:
        """Visitors (rows of `matrix`, same columns as training) x items: higher fits better."""
        raise NotImplementedError

    def similarity(self) -> sparse.csr_matrix | None:
        """Item x item similarity for "similar items", when the model has one."""
        return None

    def state(self) -> State:
        """Arrays that rebuild the fitted model with `from_state` (stored on the model run)."""
        raise NotImplementedError

    @classmethod
    def from_state(cls, state: State) -> Self:
        raise NotImplementedError


def prune_columns(matrix: sparse.spmatrix | np.ndarray, k: int) -> sparse.csr_matrix:
    """Keep the `k` values of largest magnitude of each column, as a CSR matrix.

    Magnitude, not value: EASE's negative weights say "not with this one" and count as much.

    Scoring with `X @ W` then sums over each item's `k` strongest neighbours only: memory is
    items x k instead of items^2. Cost: a partition per column (dense), or one sort of the
    non-zeros (sparse).
    """
    if isinstance(matrix, np.ndarray) and 0 < k < matrix.shape[0]:
        # Dense (EASE): a partition per column is linear, where sorting items^2 values is not.
        rows = np.argpartition(-np.abs(matrix), k - 1, axis=0)[:k]
        values = np.take_along_axis(matrix, rows, axis=0)
        columns = np.broadcast_to(np.arange(matrix.shape[1]), rows.shape)
        pruned = sparse.csr_matrix(
            (values.ravel().astype(np.float32), (rows.ravel(), columns.ravel())),
            shape=matrix.shape,
        )
        pruned.eliminate_zeros()
        return pruned
    csc = sparse.csc_matrix(matrix, dtype=np.float32)
    csc.eliminate_zeros()
    counts = np.diff(csc.indptr)
    if k <= 0 or counts.max(initial=0) <= k:
        return csc.tocsr()
    columns = np.repeat(np.arange(csc.shape[1]), counts)
    order = np.lexsort((-np.abs(csc.data), columns))  # by column, then strongest first
    rank = np.arange(len(order)) - csc.indptr[columns[order]]
    keep = order[rank < k]
    return sparse.csr_matrix(
        (csc.data[keep], (csc.indices[keep], columns[keep])), shape=csc.shape, dtype=np.float32
    )


def sparse_state(prefix: str, matrix: sparse.csr_matrix) -> State:
    csr = sparse.csr_matrix(matrix)
    return {
        f"{prefix}_data": csr.data,
        f"{prefix}_indices": csr.indices,
        f"{prefix}_indptr": csr.indptr,
        f"{prefix}_shape": np.asarray(csr.shape),
    }


def sparse_from_state(prefix: str, state: State) -> sparse.csr_matrix:
    return sparse.csr_matrix(
        (state[f"{prefix}_data"], state[f"{prefix}_indices"], state[f"{prefix}_indptr"]),
        shape=tuple(int(n) for n in state[f"{prefix}_shape"]),
    )


def dense(product: sparse.spmatrix | np.ndarray) -> np.ndarray:
    """A product as a float32 ndarray (sparse products come back sparse)."""
    if sparse.issparse(product):
        return product.toarray().astype(np.float32, copy=False)
    return np.asarray(product, dtype=np.float32)


class ItemToItem(Recommender):
    """A model that is an item x item weight matrix: a visitor's scores are their row times it."""

    weights: sparse.csr_matrix

    def score(self, matrix: sparse.csr_matrix) -> np.ndarray:
        return dense(matrix @ self.weights)

    def similarity(self) -> sparse.csr_matrix:
        return self.weights.T.tocsr()

    def state(self) -> State:
        return sparse_state("weights", self.weights)

    @classmethod
    def from_state(cls, state: State) -> Self:
        model = cls()
        model.weights = sparse_from_state("weights", state)
        return model
