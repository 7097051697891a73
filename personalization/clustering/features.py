"""The feature matrix: visitors' stored features and traits turned into numbers a model can use.

A `FeatureFrame` holds a chunk of visitors column by column (numeric features as one array,
lifecycle, traits and tag affinities as Python values); `FeatureEncoder` is fitted once on a
sample and then turns any frame into a dense float32 matrix of a fixed width:

* numeric block (RFM and engagement): log1p of counts and money, imputation of missing values
  (no event yet reads as the longest gap seen), IQR clipping (Tukey's fences, or the 1st-99th
  percentiles when most values are equal, e.g. nobody bought), standard scaling;
* categorical block (lifecycle, string traits): sparse one-hot (`DictVectorizer`), weighted so
  that one differing trait counts less than one standard deviation of behaviour; traits with
  more distinct values than `MAX_TRAIT_VALUES` in the sample are identifiers, not categories,
  and are left out;
* affinity block (tag slug → 0..1): a sparse matrix reduced by `TruncatedSVD` to at most
  `AFFINITY_COMPONENTS` columns, scaled so that the block's total variance is
  `AFFINITY_VARIANCE`: tastes separate visitors without drowning their behaviour.

Cost: `transform` is linear in rows x (numeric columns + non-zero one-hot and affinity cells)
plus rows x tags x components for the SVD product; its memory is the chunk's sparse matrices
and the dense result (rows x width x 4 bytes: about 25 columns, so 100 bytes a visitor).
`fit` is the same on the sample plus the SVD (randomized: linear in the sample's non-zeros).
"""

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction import DictVectorizer

NUMERIC: tuple[str, ...] = (
    "recency_days",
    "sessions_30d",
    "event_count",
    "monetary_90d",
    "engagement",
)
LOG_SCALED = frozenset({"recency_days", "sessions_30d", "event_count", "monetary_90d"})
LIFECYCLE_WEIGHT = 0.7  # one-hot: a different stage moves a visitor by about one unit
TRAIT_WEIGHT = 0.35  # traits shape clusters less than behaviour does
AFFINITY_COMPONENTS = 8
AFFINITY_VARIANCE = 3.0  # the whole block weighs as much as three behaviour features
MAX_TRAIT_VALUES = 50


@dataclass
class FeatureFrame:
    """A chunk of visitors' features, column by column; `ids` are visitor ids (or row numbers)."""

    ids: np.ndarray
    numeric: np.ndarray  # rows x len(NUMERIC), NaN where unknown
    lifecycle: list[str] = field(default_factory=list)
    traits: list[Mapping[str, Any]] = field(default_factory=list)
    affinities: list[Mapping[str, float]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, rows: Sequence[int] | np.ndarray) -> "FeatureFrame":
        """The frame of these row positions."""
        rows = list(map(int, rows))
        return FeatureFrame(
            ids=self.ids[rows], numeric=self.numeric[rows],
            lifecycle=[self.lifecycle[r] for r in rows], traits=[self.traits[r] for r in rows],
            affinities=[self.affinities[r] for r in rows],
        )  # fmt: skip

    @classmethod
    def concat(cls, frames: Iterable["FeatureFrame"]) -> "FeatureFrame":
        frames = list(frames)
        if not frames:
            return cls.empty()
        return cls(
            ids=np.concatenate([f.ids for f in frames]),
            numeric=np.vstack([f.numeric for f in frames]),
            lifecycle=[v for f in frames for v in f.lifecycle],
            traits=[v for f in frames for v in f.traits],
            affinities=[v for f in frames for v in f.affinities],
        )

    @classmethod
    def empty(cls) -> "FeatureFrame":
        return cls(ids=np.zeros(0, dtype=np.int64), numeric=np.zeros((0, len(NUMERIC))))

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]]) -> "FeatureFrame":
        """From dicts with the NUMERIC keys, `lifecycle`, `traits`, `affinity` and `id`."""
        records = list(records)
        numeric = np.array(
            [[_number(r.get(name)) for name in NUMERIC] for r in records], dtype=np.float64
        ).reshape(len(records), len(NUMERIC))
        return cls(
            ids=np.array([r.get("id", n) for n, r in enumerate(records)], dtype=np.int64),
            numeric=numeric,
            lifecycle=[str(r.get("lifecycle") or "new") for r in records],
            traits=[dict(r.get("traits") or {}) for r in records],
            affinities=[dict(r.get("affinity") or {}) for r in records],
        )


def _number(value: Any) -> float:
    if value is None:
        return np.nan
    return float(value)


def string_traits(traits: Mapping[str, Any]) -> dict[str, str]:
    """The traits that can be categories: strings and booleans (numbers and lists are not)."""
    return {
        key: str(value)
        for key, value in traits.items()
        if isinstance(value, str | bool) and str(value).strip()
    }


class FeatureEncoder:
    """Fitted on a sample once; turns frames into rows of the same, fixed-width matrix."""

    def fit(self, frame: FeatureFrame) -> "FeatureEncoder":
        if len(frame) == 0:
            raise ValueError("cannot fit features on no visitors")
        values = self._numeric_raw(frame)
        # Recency unknown means no event yet: the longest gap seen, not the typical one.
        known = ~np.isnan(values)
        medians = np.array(
            [
                np.median(values[known[:, c], c]) if known[:, c].any() else 0.0
                for c in range(len(NUMERIC))
            ]
        )
        fill = medians
        recency = NUMERIC.index("recency_days")
        if not np.all(np.isnan(values[:, recency])):
            fill[recency] = np.nanmax(values[:, recency])
        self.fill_ = fill
        values = np.where(np.isnan(values), fill, values)
        q1, q3 = np.percentile(values, [25, 75], axis=0)
        iqr = q3 - q1
        p1, p99 = np.percentile(values, [1, 99], axis=0)
        self.low_ = np.where(iqr > 0, q1 - 1.5 * iqr, p1)
        self.high_ = np.where(iqr > 0, q3 + 1.5 * iqr, p99)
        clipped = np.clip(values, self.low_, self.high_)
        self.mean_ = clipped.mean(axis=0)
        std = clipped.std(axis=0)
        self.std_ = np.where(std > 0, std, 1.0)

        counts: dict[str, Counter[str]] = {}
        for traits in frame.traits:
            for key, value in string_traits(traits).items():
                counts.setdefault(key, Counter())[value] += 1
        self.trait_keys_ = sorted(k for k, c in counts.items() if len(c) <= MAX_TRAIT_VALUES)
        self.categories_ = DictVectorizer(sparse=True, sort=True).fit(
            self._category_dicts(frame) or [{}]
        )
        self.category_weights_ = np.array(
            [
                LIFECYCLE_WEIGHT if name.startswith("lifecycle=") else TRAIT_WEIGHT
                for name in self.categories_.feature_names_
            ],
            dtype=np.float64,
        )

        self.tags_ = DictVectorizer(sparse=True, sort=True).fit(frame.affinities or [{}])
        tags = len(self.tags_.feature_names_)
        affinity = self.tags_.transform(frame.affinities)
        self.svd_: TruncatedSVD | None = None
        self.affinity_scale_ = 1.0
        if tags >= 2:
            components = min(AFFINITY_COMPONENTS, tags - 1, max(len(frame) - 1, 1))
            self.svd_ = TruncatedSVD(n_components=components, random_state=0).fit(affinity)
            reduced = self.svd_.transform(affinity)
        else:
            reduced = affinity.toarray()
        if reduced.shape[1]:
            variance = float(reduced.var(axis=0).sum())
            self.affinity_scale_ = (AFFINITY_VARIANCE / variance) ** 0.5 if variance > 0 else 1.0
        self.affinity_width_ = reduced.shape[1]
        return self

    @property
    def feature_names(self) -> list[str]:
        """The matrix's columns, in order."""
        return [
            *NUMERIC,
            *self.categories_.feature_names_,
            *(f"affinity_{n + 1}" for n in range(self.affinity_width_)),
        ]

    @property
    def tag_names(self) -> list[str]:
        return list(self.tags_.feature_names_)

    def transform(self, frame: FeatureFrame) -> np.ndarray:
        """A dense float32 matrix: rows x `len(feature_names)`."""
        if len(frame) == 0:
            return np.zeros((0, len(self.feature_names)), dtype=np.float32)
        values = self._numeric_raw(frame)
        values = np.where(np.isnan(values), self.fill_, values)
        numeric = (np.clip(values, self.low_, self.high_) - self.mean_) / self.std_
        categories = self.categories_.transform(self._category_dicts(frame))
        categories = categories @ sparse.diags(self.category_weights_)
        affinity = self.tags_.transform(frame.affinities)
        reduced = self.svd_.transform(affinity) if self.svd_ is not None else affinity.toarray()
        return np.hstack([numeric, categories.toarray(), reduced * self.affinity_scale_]).astype(
            np.float32
        )

    def _numeric_raw(self, frame: FeatureFrame) -> np.ndarray:
        values = np.array(frame.numeric, dtype=np.float64, copy=True)
        for column, name in enumerate(NUMERIC):
            if name in LOG_SCALED:
                values[:, column] = np.log1p(np.maximum(values[:, column], 0))
        return values

    def _category_dicts(self, frame: FeatureFrame) -> list[dict[str, str]]:
        keys = getattr(self, "trait_keys_", [])
        rows = []
        for lifecycle, traits in zip(frame.lifecycle, frame.traits, strict=True):
            row = {"lifecycle": lifecycle}
            strings = string_traits(traits)
            row.update({f"traits.{k}": strings[k] for k in keys if k in strings})
            rows.append(row)
        return rows
