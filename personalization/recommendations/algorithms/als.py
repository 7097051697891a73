"""Implicit ALS (Hu, Koren & Volinsky, 2008) for catalogues too large for EASE.

Confidence c = 1 + alpha*x for observed cells, preference 1. Training is the algorithm of
the `implicit` library's CPU solver, conjugate gradient warm-started from the last iteration
(Takács et al., 2011), with the rows of a side stepping together (`als_solver`: the Gram
term as one matrix product, the non-zeros in compiled loops), on every core of the worker
(numba's threads: `NUMBA_NUM_THREADS` caps them; OpenBLAS's own are held to one meanwhile):
training runs once per run in one worker. Scoring
folds new visitors in with an exact least-squares solve per visitor against the fixed item
factors, on one thread (chunks are spread over workers instead).
Cost per iteration: (non-zeros x f + rows x f^2) x CG steps time; memory is the matrix, its
transpose and (visitors + items) x f floats; the stored model is items x f floats.
"""

from typing import Self

import numpy as np
from implicit.cpu.als import AlternatingLeastSquares
from scipy import sparse
from threadpoolctl import threadpool_limits

from personalization.recommendations.algorithms.base import Catalogue, Recommender, State
from personalization.recommendations.algorithms.interactions import Interactions

TRAINING_THREADS = 0  # every core
SCORING_THREADS = 1


def confidences(matrix: sparse.spmatrix, alpha: float) -> sparse.csr_matrix:
    """1 + alpha*x on the observed cells, as `implicit` reads them (a cell's total confidence)."""
    csr = sparse.csr_matrix(matrix, dtype=np.float32)
    return sparse.csr_matrix(
        ((1.0 + alpha * csr.data).astype(np.float32), csr.indices, csr.indptr), shape=csr.shape
    )


def _solver(factors: int, regularization: float, *, threads: int) -> AlternatingLeastSquares:
    return AlternatingLeastSquares(
        factors=factors, regularization=regularization, alpha=1.0, dtype=np.float32,
        num_threads=threads,
    )  # fmt: skip


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
        matrix = confidences(data.matrix, self.alpha)
        if matrix.nnz == 0:
            self.item_factors = np.zeros((matrix.shape[1], self.factors), np.float32)
            return self
        # Imported here: the solver loads numba, which only training needs.
        from personalization.recommendations.algorithms.als_solver import train

        _, self.item_factors = train(
            matrix, factors=self.factors, iterations=self.iterations,
            regularization=self.regularization, seed=self.seed, threads=TRAINING_THREADS,
        )  # fmt: skip
        return self

    def visitor_factors(self, matrix: sparse.spmatrix) -> np.ndarray:
        """Each row's factors against the fixed item factors (exact least squares)."""
        rows = matrix.shape[0]
        if rows == 0 or len(self.item_factors) == 0:
            return np.zeros((rows, self.item_factors.shape[1]), np.float32)
        with threadpool_limits(1, "blas"):
            solver = _solver(
                self.item_factors.shape[1], self.regularization, threads=SCORING_THREADS
            )
            solver.item_factors = np.ascontiguousarray(self.item_factors, np.float32)
            return solver.recalculate_user(np.arange(rows), confidences(matrix, self.alpha))

    def score(self, matrix: sparse.csr_matrix) -> np.ndarray:
        return self.visitor_factors(matrix) @ self.item_factors.T

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
