"""Clusters in words: readable centroids, descriptions like "frequent, high spend, likes running".

Everything is computed from the fitted sample: a cluster's centroid is the mean of its visitors'
raw features (sessions, money, days, shares of lifecycle stages and trait values, mean tag
affinities), and its description names what sets it apart from the whole sample — a numeric
feature whose standardized mean is `NOTABLE` or more away from the population's, a lifecycle
stage or trait value held by most of the cluster and far fewer elsewhere, the tags it likes
clearly more than others do. Cost: O(sample rows x (columns + tags)), once per run.
"""

from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.decomposition import PCA

from personalization.clustering.features import NUMERIC, FeatureEncoder, FeatureFrame, string_traits

NOTABLE = 0.5  # standard deviations
DOMINANT_SHARE = 0.6
DOMINANT_LIFT = 1.5
LIKED_AFFINITY = 0.3
LIKED_LIFT = 0.15
TOP_TAGS = 3
PROJECTION_POINTS = 800

# (feature, words when above the population, words when below)
NUMERIC_WORDS: tuple[tuple[str, str, str], ...] = (
    ("sessions_30d", "frequent", "rare visits"),
    ("monetary_90d", "high spend", "low spend"),
    ("recency_days", "lapsing", "recent"),
    ("engagement", "engaged", "low engagement"),
)
LIFECYCLE_WORDS = {
    "new": "mostly new",
    "engaged": "mostly engaged",
    "active": "mostly active",
    "at_risk": "mostly at risk",
    "dormant": "mostly dormant",
}


def _round(value: float) -> float:
    return round(float(value), 3)


def _shares(values: list[str]) -> dict[str, float]:
    counts = Counter(values)
    total = sum(counts.values()) or 1
    return {value: count / total for value, count in counts.most_common()}


@dataclass(frozen=True)
class _Sample:
    """The fitted sample as clusters are described from it, and its population-wide shares."""

    frame: FeatureFrame
    matrix: np.ndarray
    affinity: Any  # rows x tags, sparse
    tags: list[str]
    trait_keys: list[str]
    trait_rows: list[dict[str, str]]
    lifecycle: dict[str, float]
    traits: dict[str, dict[str, float]]
    mean_affinity: np.ndarray

    @classmethod
    def of(cls, frame: FeatureFrame, matrix: np.ndarray, encoder: FeatureEncoder) -> "_Sample":
        affinity = encoder.tags_.transform(frame.affinities).tocsr()
        trait_rows = [string_traits(t) for t in frame.traits]
        return cls(
            frame=frame, matrix=matrix, affinity=affinity, tags=encoder.tag_names,
            trait_keys=encoder.trait_keys_, trait_rows=trait_rows,
            lifecycle=_shares(frame.lifecycle),
            traits={
                key: _shares([row[key] for row in trait_rows if key in row])
                for key in encoder.trait_keys_
            },
            mean_affinity=np.asarray(affinity.mean(axis=0)).ravel(),
        )  # fmt: skip


def clusters_describe(
    frame: FeatureFrame, matrix: np.ndarray, labels: np.ndarray, encoder: FeatureEncoder, k: int
) -> list[dict[str, Any]]:
    """Per cluster number: `sample_size`, `centroid` (readable) and `description` (words)."""
    sample = _Sample.of(frame, matrix, encoder)
    described = []
    for number in range(k):
        rows = np.flatnonzero(labels == number)
        if len(rows) == 0:
            described.append({"sample_size": 0, "centroid": {}, "description": "empty"})
            continue
        lifecycle = _shares([frame.lifecycle[r] for r in rows])
        mean_affinity = np.asarray(sample.affinity[rows].mean(axis=0)).ravel()
        centroid = _centroid(sample, rows, lifecycle, mean_affinity)
        words = _words(sample, rows, lifecycle, mean_affinity, centroid["traits"])
        described.append(
            {
                "sample_size": len(rows),
                "centroid": centroid,
                "description": ", ".join(words) or "typical visitors",
            }
        )
    return described


def _centroid(
    sample: _Sample, rows: np.ndarray, lifecycle: dict[str, float], mean_affinity: np.ndarray
) -> dict[str, Any]:
    """The cluster's raw means, top lifecycle stages, top trait values and top tags."""
    raw = sample.frame.numeric[rows]
    centroid: dict[str, Any] = {}
    for column, name in enumerate(NUMERIC):
        known = raw[:, column][~np.isnan(raw[:, column])]
        centroid[name] = _round(known.mean()) if len(known) else None
    centroid["lifecycle"] = {stage: _round(share) for stage, share in list(lifecycle.items())[:3]}
    traits: dict[str, dict[str, float]] = {}
    for key in sample.trait_keys:
        values = [sample.trait_rows[r][key] for r in rows if key in sample.trait_rows[r]]
        if values:
            traits[key] = {v: _round(s) for v, s in list(_shares(values).items())[:3]}
    centroid["traits"] = traits
    top = np.argsort(-mean_affinity)[:5]
    centroid["affinity"] = {
        sample.tags[t]: _round(mean_affinity[t]) for t in top if mean_affinity[t] > 0
    }
    return centroid


def _words(
    sample: _Sample,
    rows: np.ndarray,
    lifecycle: dict[str, float],
    mean_affinity: np.ndarray,
    traits: dict[str, dict[str, float]],
) -> list[str]:
    """What sets the cluster apart from the whole sample, in words."""
    words = []
    # The numeric block of the matrix is standardized: its means are z-scores already.
    z_columns = {name: n for n, name in enumerate(NUMERIC)}
    z = sample.matrix[rows].mean(axis=0)
    for name, above, below in NUMERIC_WORDS:
        value = float(z[z_columns[name]])
        if value >= NOTABLE:
            words.append(above)
        elif value <= -NOTABLE:
            words.append(below)
    stage, share = next(iter(lifecycle.items()))
    if share >= DOMINANT_SHARE and share >= DOMINANT_LIFT * sample.lifecycle.get(stage, 0):
        words.append(LIFECYCLE_WORDS.get(stage, f"mostly {stage}"))
    lift = mean_affinity - sample.mean_affinity
    liked = [
        sample.tags[t]
        for t in np.argsort(-lift)[:TOP_TAGS]
        if mean_affinity[t] >= LIKED_AFFINITY and lift[t] >= LIKED_LIFT
    ]
    if liked:
        words.append("likes " + ", ".join(liked))
    for key, shares in traits.items():
        value, share = next(iter(shares.items()))
        if share >= DOMINANT_SHARE and share >= 2 * sample.traits[key].get(value, 0):
            words.append(f"{key} {value}")
    return words


def projection_2d(matrix: np.ndarray, labels: np.ndarray, *, seed: int = 0) -> list[list[float]]:
    """[x, y, cluster] of at most `PROJECTION_POINTS` sample rows on the first two PCA axes."""
    if len(matrix) < 3 or matrix.shape[1] < 2:
        return []
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(matrix), size=min(len(matrix), PROJECTION_POINTS), replace=False)
    points = PCA(n_components=2, random_state=seed).fit_transform(matrix[rows])
    return [
        [_round(x), _round(y), int(label)]
        for (x, y), label in zip(points, labels[rows], strict=True)
    ]
