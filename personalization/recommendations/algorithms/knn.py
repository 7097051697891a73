"""Item-kNN: cosine similarity between item columns, shrunk, top neighbours per item.

sim(i, j) = x_i*x_j / (|x_i||x_j| + shrinkage): items seen together by few visitors get
pulled toward 0. Each item keeps its `neighbours` most similar items. Cost: the sparse product
X^TX (time grows with Σ over visitors of items per visitor^2; memory with the co-occurring
pairs), then one sort of its non-zeros; scoring a chunk is V x items x neighbours at most.
"""

from typing import Self

import numpy as np
from scipy import sparse

from personalization.recommendations.algorithms.base import (
    Catalogue,
    ItemToItem,
    prune_columns,
)
from personalization.recommendations.algorithms.interactions import Interactions


def cosine_gram(matrix: sparse.csr_matrix, shrinkage: float) -> sparse.csr_matrix:
    """Item x item shrunk cosine of the columns of `matrix`, zero diagonal."""
    gram = (matrix.T @ matrix).tocoo()
    norms = np.sqrt(gram.diagonal()) if gram.shape[0] else np.zeros(0)
    keep = gram.row != gram.col
    rows, cols = gram.row[keep], gram.col[keep]
    values = gram.data[keep] / (norms[rows] * norms[cols] + shrinkage + 1e-9)
    return sparse.csr_matrix((values.astype(np.float32), (rows, cols)), shape=gram.shape)


class ItemKnn(ItemToItem):
    name = "item_knn"

    def __init__(self, neighbours: int = 50, shrinkage: float = 10.0) -> None:
        self.neighbours = neighbours
        self.shrinkage = shrinkage
        self.weights = sparse.csr_matrix((0, 0), dtype=np.float32)

    def fit(self, data: Interactions, catalogue: Catalogue) -> Self:
        self.weights = prune_columns(cosine_gram(data.matrix, self.shrinkage), self.neighbours)
        return self
