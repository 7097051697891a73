"""ALS training with the rows of a side stepping together answers as `implicit`'s solver does."""

import numpy as np
from implicit.cpu.als import AlternatingLeastSquares
from scipy import sparse
from threadpoolctl import threadpool_limits

from personalization.recommendations.algorithms.als_solver import train


def confidences(seed: int = 0, *, visitors: int = 300, items: int = 60) -> sparse.csr_matrix:
    """Random confidences 1 + 10·x, a visitor and an item without any cell."""
    random = np.random.default_rng(seed)
    dense = np.where(random.random((visitors, items)) < 0.08, 1 + 10 * random.random(), 0)
    dense[7] = 0  # a visitor without cells
    dense[:, 5] = 0  # an item without cells
    return sparse.csr_matrix(dense.astype(np.float32))


# Both solvers round differently (vectorised sums here, BLAS calls there), and the differences
# grow over the iterations to a few thousandths on factors of about 1; a wrong term would move
# them by tenths.
TOLERANCE = {"rtol": 5e-3, "atol": 2e-3}


def implicit_factors(matrix: sparse.csr_matrix, **options: int) -> tuple[np.ndarray, np.ndarray]:
    with threadpool_limits(1, "blas"):
        solver = AlternatingLeastSquares(
            factors=8, regularization=0.1, alpha=1.0, dtype=np.float32, num_threads=1,
            iterations=options.get("iterations", 4), random_state=options.get("seed", 3),
        )  # fmt: skip
        solver.fit(matrix, show_progress=False)
    return solver.user_factors, solver.item_factors


def test_factors_match_implicits_solver_on_the_same_matrix_and_seed() -> None:
    matrix = confidences()
    visitors, items = train(matrix, factors=8, iterations=4, regularization=0.1, seed=3, threads=1)
    expected_visitors, expected_items = implicit_factors(matrix)
    np.testing.assert_allclose(visitors, expected_visitors, **TOLERANCE)
    np.testing.assert_allclose(items, expected_items, **TOLERANCE)


def test_a_disliked_item_with_a_negative_confidence_counts_as_implicit_counts_it() -> None:
    matrix = confidences(seed=1)
    matrix.data[::9] *= -1
    _, items = train(matrix, factors=8, iterations=4, regularization=0.1, seed=3, threads=1)
    np.testing.assert_allclose(items, implicit_factors(matrix)[1], **TOLERANCE)


def test_rows_without_cells_get_zero_factors() -> None:
    visitors, items = train(
        confidences(), factors=8, iterations=2, regularization=0.1, seed=0, threads=1
    )
    assert not visitors[7].any()
    assert not items[5].any()
    assert visitors.dtype == items.dtype == np.float32


def test_the_factors_do_not_depend_on_the_number_of_threads() -> None:
    matrix = confidences(seed=2, visitors=2_000)
    options = {"factors": 8, "iterations": 3, "regularization": 0.1, "seed": 5}
    one = train(matrix, threads=1, **options)
    every = train(matrix, threads=0, **options)
    np.testing.assert_array_equal(one[0], every[0])
    np.testing.assert_array_equal(one[1], every[1])
