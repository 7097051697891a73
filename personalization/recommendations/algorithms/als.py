"""Implicit ALS (Hu, Koren & Volinsky, 2008) for catalogues too large for EASE.

Confidence c = 1 + alpha*x for observed cells, preference 1; visitors' and items' factors are
solved in turn by a few steps of conjugate gradient warm-started from the last iteration
(Takács et al., 2011), all rows of a side at once with sparse products, so there is no Python
loop per visitor and no extra dependency: a library such as
`implicit` would be faster on many cores but brings native builds and threads of its own into
the Celery workers. Scoring folds new visitors in with the same solve against fixed item
factors. Cost per iteration: (non-zeros x f + rows x f^2) x steps time, non-zeros x f floats of
memory; the model is items x f floats.
"""

from typing import Self

import numpy as np
from scipy import sparse

from personalization.recommendations.algorithms.base import Catalogue, Recommender, State
from personalization.recommendations.algorithms.interactions import Interactions

CG_STEPS = 3


def solve_side(
    matrix: sparse.csr_matrix,
    fixed: np.ndarray,
    *,
    alpha: float,
    regularization: float,
    start: np.ndarray | None = None,
    steps: int = CG_STEPS,
) -> np.ndarray:
    """Every row's factors given the other side's `fixed` factors, by conjugate gradient.

    All rows at once: A*p for every row is p*(Y^TY + λI) plus a sparse product over the
    non-zeros, so memory is non-zeros x f floats and there is no loop per row.
    """
    rows, factors = matrix.shape[0], fixed.shape[1]
    fixed = fixed.astype(np.float32, copy=False)
    gram = fixed.T @ fixed + regularization * np.eye(factors, dtype=np.float32)
    confidence = (alpha * matrix.data).astype(np.float32)
    row_of = np.repeat(np.arange(rows), np.diff(matrix.indptr))
    gathered = fixed[matrix.indices]

    def apply(vectors: np.ndarray) -> np.ndarray:
        dots = np.einsum("ef,ef->e", gathered, vectors[row_of])
        weighted = sparse.csr_matrix(
            (confidence * dots, matrix.indices, matrix.indptr), shape=matrix.shape
        )
        return vectors @ gram + weighted @ fixed

    targets = (
        sparse.csr_matrix((1.0 + confidence, matrix.indices, matrix.indptr), shape=matrix.shape)
        @ fixed
    )
    solution = np.zeros((rows, factors), np.float32) if start is None else start.copy()
    residual = targets - apply(solution)
    direction = residual.copy()
    norms = np.einsum("rf,rf->r", residual, residual)
    for _ in range(steps):
        applied = apply(direction)
        curvature = np.einsum("rf,rf->r", direction, applied)
        step = np.divide(norms, curvature, out=np.zeros_like(norms), where=curvature > 1e-12)
        solution += step[:, None] * direction
        residual -= step[:, None] * applied
        new_norms = np.einsum("rf,rf->r", residual, residual)
        ratio = np.divide(new_norms, norms, out=np.zeros_like(norms), where=norms > 1e-12)
        direction = residual + ratio[:, None] * direction
        norms = new_norms
    return solution


class Als(Recommender):
    name = "als"

    def __init__(
        self,
        factors: int = 32,
        iterations: int = 8,
        regularization: float = 0.1,
        alpha: float = 10.0,
        seed: int = 0,
    ) -> None:
        self.factors, self.iterations, self.seed = factors, iterations, seed
        self.regularization, self.alpha = regularization, alpha
        self.item_factors = np.zeros((0, factors), np.float32)

    def fit(self, data: Interactions, catalogue: Catalogue) -> Self:
        matrix = data.matrix.tocsr()
        by_item = matrix.T.tocsr()
        rng = np.random.default_rng(self.seed)
        items = rng.normal(0, 0.01, (matrix.shape[1], self.factors)).astype(np.float32)
        options = {"alpha": self.alpha, "regularization": self.regularization}
        visitors = np.zeros((matrix.shape[0], self.factors), np.float32)
        for _ in range(self.iterations):
            visitors = solve_side(matrix, items, start=visitors, **options)
            items = solve_side(by_item, visitors, start=items, **options)
        self.item_factors = items
        return self

    def score(self, matrix: sparse.csr_matrix) -> np.ndarray:
        # New visitors start from zero: more steps than a warm-started training iteration.
        visitors = solve_side(
            matrix.tocsr(), self.item_factors, alpha=self.alpha,
            regularization=self.regularization, steps=3 * CG_STEPS,
        )  # fmt: skip
        return visitors @ self.item_factors.T

    def state(self) -> State:
        return {
            "item_factors": self.item_factors,
            "options": np.asarray([self.alpha, self.regularization]),
        }

    @classmethod
    def from_state(cls, state: State) -> Self:
        model = cls(factors=state["item_factors"].shape[1])
        model.item_factors = state["item_factors"]
        model.alpha, model.regularization = (float(v) for v in state["options"])
        return model
