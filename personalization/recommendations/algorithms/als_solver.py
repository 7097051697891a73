"""Implicit ALS trained by conjugate gradient, every row of a side advancing together.

The algorithm is the one of `implicit`'s CPU solver (Hu, Koren & Volinsky, 2008; conjugate
gradient warm-started from the previous iteration, Takács et al., 2011): each iteration
solves every visitor's factors against the item factors, then every item's against the
visitors', with `cg_steps` steps of conjugate gradient per row, starting from random factors
drawn as `implicit` draws them. Rows without a cell get zero factors.

What differs is the arrangement, which makes it several times faster: `implicit` runs each
row's steps alone, with a Gram matrix-vector product and a BLAS call per non-zero (each call
costing more than its 32 multiplications), so it spends about five times the arithmetic of
the sparse products it stands for. Here the rows of a side take each step together: the Gram
term of every row is one matrix product (BLAS, `direction @ gram`), and the non-zeros are
walked in compiled loops (`als_kernels`, numba), one row per task, rows spread over the
threads. A row's own arithmetic is unchanged, so are its answers up to float rounding, and
they do not depend on the number of threads.

Memory: the matrix and its transpose, the factors, and three arrays of a side's rows x factors.
This module loads numba (about a second, once per process): import it where training runs.
"""

import threading

import numba
import numpy as np
from scipy import sparse
from threadpoolctl import threadpool_limits

from personalization.recommendations.algorithms.als_kernels import residuals, step

# Compiled loops launched from two threads at once could share numba's thread pool badly
# on a machine whose only threading layer is numba's own: one training at a time.
_LOCK = threading.Lock()


def train(
    matrix: sparse.csr_matrix,
    *,
    factors: int,
    iterations: int,
    regularization: float,
    seed: int,
    threads: int,
    cg_steps: int = 3,
) -> tuple[np.ndarray, np.ndarray]:
    """(visitor factors, item factors) of a float32 CSR matrix of confidences.

    `threads` 0 means every core numba may use (`NUMBA_NUM_THREADS`).
    """
    by_visitor = sparse.csr_matrix(matrix, dtype=np.float32)
    by_item = by_visitor.T.tocsr()
    random = np.random.default_rng(seed)
    visitors = random.random((by_visitor.shape[0], factors), dtype=np.float32) * 0.01
    items = random.random((by_visitor.shape[1], factors), dtype=np.float32) * 0.01
    limit = numba.config.NUMBA_NUM_THREADS
    with _LOCK, threadpool_limits(1, "blas"):
        previous = numba.get_num_threads()
        numba.set_num_threads(min(threads, limit) if threads > 0 else limit)
        try:
            sides = (
                (by_visitor, visitors, items, _work(visitors)),
                (by_item, items, visitors, _work(items)),
            )
            for _ in range(iterations):
                for matrix_of_side, solved, fixed, work in sides:
                    _solve(matrix_of_side, solved, fixed, regularization, cg_steps, work)
        finally:
            numba.set_num_threads(previous)
    return visitors, items


Work = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _work(solved: np.ndarray) -> Work:
    """Arrays a side's steps write into, made once for every iteration: residuals, directions,
    products with the Gram matrix (rows x factors each), squared residual norms."""
    rows = len(solved)
    return (np.empty_like(solved), np.empty_like(solved), np.empty_like(solved),
            np.empty(rows, np.float32))  # fmt: skip


def _solve(
    matrix: sparse.csr_matrix,
    solved: np.ndarray,
    fixed: np.ndarray,
    regularization: float,
    cg_steps: int,
    work: Work,
) -> None:
    """`cg_steps` conjugate-gradient steps for every row of `solved`, in place."""
    residual, direction, product, norms = work
    gram = fixed.T @ fixed
    gram[np.diag_indices_from(gram)] += np.float32(regularization)
    arrays = (matrix.indptr, matrix.indices, matrix.data, solved, fixed)
    np.dot(solved, -gram, out=residual)
    residuals(*arrays, residual, direction, norms)
    for _ in range(cg_steps):
        np.dot(direction, gram, out=product)
        step(*arrays, direction, product, residual, norms)
