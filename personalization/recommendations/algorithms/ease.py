"""EASE (Steck, 2019): a closed-form item-item model for implicit feedback.

B = I - P * diag(1 / diag(P)) with P = (X^TX + λI)⁻¹, so that B's diagonal is zero and X*B
reconstructs X from the other items. One regularisation λ (tuned on a validation split).
Cost: the Gram matrix X^TX (non-zeros x items per row), a dense items x items inverse (items^3
time, 4*items^2 bytes: 1.6 GB at 20,000 items, hence ALS beyond); then each column keeps its
`neighbours` strongest weights, so the stored model and scoring are items x neighbours.
λ and the neighbours are tuned on validation (`tuning.tune_ease`).
"""

from typing import Self

import numpy as np
from scipy import sparse
from scipy.linalg import lapack

from personalization.recommendations.algorithms.base import (
    Catalogue,
    ItemToItem,
    dense,
    prune_columns,
)
from personalization.recommendations.algorithms.interactions import Interactions

MAX_ITEMS = 20_000


def ease_weights(matrix: sparse.csr_matrix, regularization: float) -> np.ndarray:
    """The dense EASE weight matrix B of `matrix` (visitors x items)."""
    if matrix.shape[1] == 0:
        return np.zeros((0, 0), np.float32)
    gram = dense(matrix.T @ matrix)
    gram[np.diag_indices_from(gram)] += regularization
    # The Gram matrix plus λI is symmetric positive definite: Cholesky inverts it in a third
    # of the time of a general inverse.
    factor, info = lapack.spotrf(gram, lower=False, overwrite_a=True)
    if info == 0:
        factor, info = lapack.spotri(factor, lower=False, overwrite_c=True)
    if info != 0:
        raise ValueError(f"EASE: the Gram matrix is not positive definite (LAPACK info {info})")
    inverse = np.triu(factor) + np.triu(factor, 1).T
    weights = inverse / -np.diag(inverse)
    weights[np.diag_indices_from(weights)] = 0.0
    return weights.astype(np.float32)


class Ease(ItemToItem):
    name = "ease"

    def __init__(self, regularization: float = 100.0, neighbours: int = 200) -> None:
        self.regularization = regularization
        self.neighbours = neighbours
        self.weights = sparse.csr_matrix((0, 0), dtype=np.float32)

    def fit(self, data: Interactions, catalogue: Catalogue) -> Self:
        if data.matrix.shape[1] > MAX_ITEMS:
            raise ValueError(
                f"EASE needs a dense items^2 matrix: {data.matrix.shape[1]} items is more than "
                f"{MAX_ITEMS}; use ALS"
            )
        return self.prune(ease_weights(data.matrix, self.regularization))

    def prune(self, weights: np.ndarray) -> Self:
        """Keep each column's `neighbours` strongest of the dense `weights` as the model."""
        self.weights = prune_columns(weights, self.neighbours)
        return self
