"""Fitting clusters on a sample: the estimators, the choice of k, and assigning new rows.

`clusters_fit` encodes a sample (`FeatureEncoder`), fits one estimator per k of the range and
scores each on the sample: silhouette (on at most `SILHOUETTE_SAMPLE` rows: its cost is
quadratic) and Davies-Bouldin (linear). The k with the best sum of ranks on both wins (ties go
to the better silhouette). The result predicts any later frame chunk by chunk.

Estimators: `kmeans` (scikit-learn's KMeans, `N_INIT` restarts), `minibatch` (MiniBatchKMeans
fed with `partial_fit` over shuffled batches of the sample for `EPOCHS` passes: memory holds one
batch of distances, suited to large samples), `gmm` (GaussianMixture with diagonal covariances,
soft clusters; its BIC is reported too).

Cost: for each k, kmeans is O(N_INIT x iterations x n x k x d) on the sample of n rows and d
columns, minibatch O(EPOCHS x n x k x d), gmm O(iterations x n x k x d); silhouette
O(min(n, SILHOUETTE_SAMPLE)^2 x d). Memory: the sample matrix (n x d x 4 bytes) plus one
estimator. Predicting is O(rows x k x d) per chunk, with memory for the chunk only.
"""

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import davies_bouldin_score, silhouette_score
from sklearn.mixture import GaussianMixture

from personalization.clustering.features import FeatureEncoder, FeatureFrame

ALGORITHMS = ("kmeans", "minibatch", "gmm")
SILHOUETTE_SAMPLE = 3000
N_INIT = 4
EPOCHS = 3
BATCH_SIZE = 4096
DEFAULT_K_RANGE = (2, 8)


class ClusteringError(ValueError):
    """Clustering cannot run as asked (too few visitors, a bad k range…)."""


@dataclass
class KScore:
    """How well one k separated the sample."""

    k: int
    silhouette: float
    davies_bouldin: float
    bic: float | None = None
    chosen: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "silhouette": round(self.silhouette, 4),
            "davies_bouldin": round(self.davies_bouldin, 4),
            "bic": None if self.bic is None else round(self.bic, 1),
            "chosen": self.chosen,
        }


@dataclass
class FittedClusters:
    """An encoder and an estimator fitted together; `predict` assigns any frame."""

    algorithm: str
    encoder: FeatureEncoder
    estimator: Any
    k: int
    scores: list[KScore] = field(default_factory=list)

    def predict(self, frame: FeatureFrame) -> np.ndarray:
        """The cluster number (0 … k-1) of every row of the frame."""
        if len(frame) == 0:
            return np.zeros(0, dtype=np.int64)
        return self.predict_matrix(self.encoder.transform(frame))

    def predict_matrix(self, matrix: np.ndarray) -> np.ndarray:
        return np.asarray(self.estimator.predict(matrix), dtype=np.int64)


def k_range_parse(text: str) -> tuple[int, int]:
    """`"2-8"` → (2, 8); a clear error for anything else."""
    low, sep, high = text.partition("-")
    try:
        bounds = (int(low), int(high)) if sep else (int(low), int(low))
    except ValueError:
        raise ClusteringError(f"k range {text!r}: write it as LOW-HIGH, e.g. 2-8") from None
    if bounds[0] < 2 or bounds[1] < bounds[0]:
        raise ClusteringError(f"k range {text!r}: needs 2 <= LOW <= HIGH")
    if bounds[1] > 50:
        raise ClusteringError(f"k range {text!r}: at most 50 clusters")
    return bounds


def estimator_fit(algorithm: str, matrix: np.ndarray, k: int, *, seed: int = 0) -> Any:
    """One estimator of `algorithm` with k clusters fitted on the matrix."""
    with warnings.catch_warnings():
        # Duplicate rows (many visitors with the same features) make sklearn warn; k stays.
        warnings.simplefilter("ignore", ConvergenceWarning)
        if algorithm == "kmeans":
            return KMeans(n_clusters=k, n_init=N_INIT, random_state=seed).fit(matrix)
        if algorithm == "minibatch":
            # Ten batches an epoch at least, so that small samples still get many updates.
            batch = max(min(BATCH_SIZE, len(matrix) // 10), 3 * k)
            estimator = MiniBatchKMeans(
                n_clusters=k, random_state=seed, batch_size=batch, n_init=3,
                compute_labels=False,  # labels come from predict once, not after every batch
            )  # fmt: skip
            rng = np.random.default_rng(seed)
            for _ in range(EPOCHS):
                order = rng.permutation(len(matrix))
                for start in range(0, len(order), batch):
                    rows = order[start : start + batch]
                    if len(rows) >= k:  # partial_fit needs at least k rows to start
                        estimator.partial_fit(matrix[rows])
            return estimator
        if algorithm == "gmm":
            return GaussianMixture(
                n_components=k, covariance_type="diag", n_init=2, reg_covar=1e-3,
                random_state=seed,
            ).fit(matrix)  # fmt: skip
    raise ClusteringError(f"unknown algorithm {algorithm!r}: one of {', '.join(ALGORITHMS)}")


def k_score(algorithm: str, estimator: Any, matrix: np.ndarray, k: int, seed: int) -> KScore:
    labels = estimator.predict(matrix)
    if len(set(labels.tolist())) < 2:
        return KScore(k=k, silhouette=-1.0, davies_bouldin=float("inf"))
    silhouette = silhouette_score(
        matrix, labels, sample_size=min(len(matrix), SILHOUETTE_SAMPLE), random_state=seed
    )
    bic = float(estimator.bic(matrix)) if algorithm == "gmm" else None
    return KScore(
        k=k,
        silhouette=float(silhouette),
        davies_bouldin=float(davies_bouldin_score(matrix, labels)),
        bic=bic,
    )


def k_choose(scores: list[KScore]) -> KScore:
    """The k with the best rank sum: silhouette (higher better) + Davies-Bouldin (lower)."""
    by_silhouette = sorted(scores, key=lambda s: -s.silhouette)
    by_db = sorted(scores, key=lambda s: s.davies_bouldin)
    rank = {s.k: by_silhouette.index(s) + by_db.index(s) for s in scores}
    return min(scores, key=lambda s: (rank[s.k], -s.silhouette, s.k))


def clusters_fit(
    frame: FeatureFrame,
    *,
    algorithm: str = "kmeans",
    k_range: tuple[int, int] = DEFAULT_K_RANGE,
    seed: int = 0,
) -> tuple[FittedClusters, np.ndarray]:
    """Fit the encoder and one estimator per k on the sample; returns the best and its matrix."""
    if algorithm not in ALGORITHMS:
        raise ClusteringError(f"unknown algorithm {algorithm!r}: one of {', '.join(ALGORITHMS)}")
    low, high = k_range
    if len(frame) <= high:
        raise ClusteringError(
            f"{len(frame)} visitors with personalization consent and features: clustering "
            f"into up to {high} clusters needs more than {high}"
        )
    encoder = FeatureEncoder().fit(frame)
    matrix = encoder.transform(frame)
    fitted: dict[int, Any] = {}
    scores = []
    for k in range(low, high + 1):
        fitted[k] = estimator_fit(algorithm, matrix, k, seed=seed)
        scores.append(k_score(algorithm, fitted[k], matrix, k, seed))
    best = k_choose(scores)
    best.chosen = True
    model = FittedClusters(
        algorithm=algorithm, encoder=encoder, estimator=fitted[best.k], k=best.k, scores=scores
    )
    return model, matrix
