"""The compiled loops of `als_solver`: the non-zeros of each row, one row per task.

For a row u with cells (i, c) of the matrix, x its factors and Y the fixed side's factors,
`gram` is YᵀY + λI, so the row's system is (gram + Σ (c-1) y_i y_iᵀ) x = Σ c y_i. The solver
computes each Gram term as one matrix product for all rows; these loops add the rest, a
dot product and an update per cell, and take the conjugate-gradient step. A row whose
residual is below 1e-20 has converged and is left alone, as `implicit` leaves it; a row
without cells gets zero factors. A negative confidence (a disliked item) counts with
preference 0, as in `implicit`.

Compiled on first use and cached on disk (`cache=True`, in `__pycache__`, or numba's
user-wide cache where that is not writable); `fastmath` lets the sums vectorise, so they
round differently from a plain loop.
"""

import numba
import numpy as np

_CONVERGED = 1e-20


@numba.njit(fastmath=True, cache=True, nogil=True, inline="always")
def _weight(confidence: float, dot: float, residual: bool) -> float:
    """A cell's coefficient: in the residual, c - (c-1)·y·x (preference 1, or 0 when c < 0);
    in a step, (|c|-1)·y·p."""
    if not residual:
        return (abs(confidence) - 1) * dot
    if confidence > 0:
        return confidence - (confidence - 1) * dot
    return (confidence + 1) * dot


@numba.njit(fastmath=True, cache=True, nogil=True, error_model="numpy")
def _add_cells(
    start: int,
    end: int,
    indices: np.ndarray,
    data: np.ndarray,
    fixed: np.ndarray,
    vector: np.ndarray,
    out: np.ndarray,
    residual: bool,
) -> None:
    """out += Σ weight(c, y·vector)·y over a row's cells, four cells at a time (so that
    their products overlap and `out` is read and written once per four)."""
    factors = len(vector)
    cell = start
    while cell + 3 < end:
        y1, y2 = fixed[indices[cell]], fixed[indices[cell + 1]]
        y3, y4 = fixed[indices[cell + 2]], fixed[indices[cell + 3]]
        d1 = d2 = d3 = d4 = np.float32(0)
        for f in range(factors):
            d1 += y1[f] * vector[f]
            d2 += y2[f] * vector[f]
            d3 += y3[f] * vector[f]
            d4 += y4[f] * vector[f]
        w1 = _weight(data[cell], d1, residual)
        w2 = _weight(data[cell + 1], d2, residual)
        w3 = _weight(data[cell + 2], d3, residual)
        w4 = _weight(data[cell + 3], d4, residual)
        for f in range(factors):
            out[f] += (w1 * y1[f] + w2 * y2[f]) + (w3 * y3[f] + w4 * y4[f])
        cell += 4
    while cell < end:
        y = fixed[indices[cell]]
        dot = np.float32(0)
        for f in range(factors):
            dot += y[f] * vector[f]
        weight = _weight(data[cell], dot, residual)
        for f in range(factors):
            out[f] += weight * y[f]
        cell += 1


@numba.njit(parallel=True, fastmath=True, cache=True, nogil=True, error_model="numpy")
def residuals(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    solved: np.ndarray,
    fixed: np.ndarray,
    residual: np.ndarray,
    direction: np.ndarray,
    norms: np.ndarray,
) -> None:
    """residual[u] (holding -gram·x) += the cells' terms; direction[u] = residual[u];
    norms[u] = |residual[u]|²."""
    rows, factors = solved.shape
    for u in numba.prange(rows):
        start, end = indptr[u], indptr[u + 1]
        x, r = solved[u], residual[u]
        if start == end:  # zero factors; its direction too, which the Gram product reads
            x[:] = 0
            direction[u, :] = 0
            norms[u] = 0
            continue
        _add_cells(start, end, indices, data, fixed, x, r, True)
        norm = np.float32(0)
        for f in range(factors):
            direction[u, f] = r[f]
            norm += r[f] * r[f]
        norms[u] = norm


@numba.njit(parallel=True, fastmath=True, cache=True, nogil=True, error_model="numpy")
def step(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    solved: np.ndarray,
    fixed: np.ndarray,
    direction: np.ndarray,
    product: np.ndarray,
    residual: np.ndarray,
    norms: np.ndarray,
) -> None:
    """One conjugate-gradient step of every unconverged row; product[u] holds gram·p."""
    rows, factors = solved.shape
    for u in numba.prange(rows):
        previous = norms[u]
        if previous < _CONVERGED:
            continue
        p, q, x, r = direction[u], product[u], solved[u], residual[u]
        _add_cells(indptr[u], indptr[u + 1], indices, data, fixed, p, q, False)
        curvature = np.float32(0)
        for f in range(factors):
            curvature += p[f] * q[f]
        length = previous / curvature
        norm = np.float32(0)
        for f in range(factors):
            x[f] += length * p[f]
            r[f] -= length * q[f]
            norm += r[f] * r[f]
        if norm < _CONVERGED:
            norms[u] = 0
            continue
        turn = norm / previous
        for f in range(factors):
            p[f] = r[f] + turn * p[f]
        norms[u] = norm
