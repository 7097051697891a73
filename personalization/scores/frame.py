"""Point-in-time features and labels from a frame of events, without Django.

An `EventFrame` holds events as arrays (visitor row, day, type, value); `features_at(frame,
cutoff)` reads only events strictly before `cutoff`, and `labels_at(frame, cutoff, horizon,
target)` only events in [cutoff, cutoff + horizon). Nothing else reaches either: that is what
makes training honest (a model never sees the future it is asked to predict) and what the
tests check. Days are float days since the Unix epoch, so windows compare exact moments.

Targets are rows of `TARGETS`: a new target (another event type, say `add_to_cart`) is one
more row, with no new code path.

Cost: features at one cut-off are a handful of passes over the events (`np.bincount`), so
O(events) time and O(visitors x features) memory; about 25 float64 columns, 200 MB per
million visitors.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from personalization.features.models import VisitorFeatures

EVENT_TYPES: tuple[str, ...] = (
    "view", "click", "add_to_cart", "purchase", "search", "rating", "custom",
)  # fmt: skip
TYPE_CODES = {name: code for code, name in enumerate(EVENT_TYPES)}
WINDOWS = (7, 30, 90)
TYPE_WINDOWS = (30, 90)
COUNTED_TYPES = ("view", "click", "add_to_cart", "purchase")
NO_HISTORY_DAYS = 365.0  # recency of a visitor without events before the cut-off


@dataclass(frozen=True)
class Target:
    """What a score predicts: events of `event_types` (None: any) in the horizon, or none."""

    key: str
    description: str
    event_types: tuple[str, ...] | None = None
    absent: bool = False  # True: the target is "no such event in the horizon"


TARGETS: tuple[Target, ...] = (
    Target("churn", "No activity at all in the next N days.", None, absent=True),
    Target("purchase", "A purchase in the next N days.", ("purchase",)),
)
TARGETS_BY_KEY = {t.key: t for t in TARGETS}

FEATURES: tuple[str, ...] = (
    "recency_days", "tenure_days", "events_total", "purchases_total", "monetary_total",
    *(f"events_{w}d" for w in WINDOWS),
    *(f"active_days_{w}d" for w in WINDOWS),
    *(f"{kind}_{w}d" for w in TYPE_WINDOWS for kind in COUNTED_TYPES),
    "monetary_90d", "days_between_events",
)  # fmt: skip


def to_days(moment: datetime) -> float:
    """Float days since the Unix epoch."""
    return moment.timestamp() / 86_400


def from_days(days: float) -> datetime:
    return datetime.fromtimestamp(days * 86_400, tz=UTC)


@dataclass
class EventFrame:
    """Events as arrays: `visitor` is a row of `visitor_ids`, `day` float epoch days."""

    visitor_ids: np.ndarray  # int64, one per visitor row
    visitor: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    day: np.ndarray = field(default_factory=lambda: np.zeros(0))
    kind: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    value: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @classmethod
    def build(
        cls, visitor_ids: Sequence[int], rows: Sequence[tuple[int, float, str, float]]
    ) -> "EventFrame":
        """From (visitor id, day, event type, value) rows; types outside the list are custom."""
        ids = np.asarray(visitor_ids, dtype=np.int64)
        row_of = {int(pk): row for row, pk in enumerate(ids)}
        custom = TYPE_CODES["custom"]
        return cls(
            visitor_ids=ids,
            visitor=np.fromiter((row_of[r[0]] for r in rows), np.int64, len(rows)),
            day=np.fromiter((r[1] for r in rows), np.float64, len(rows)),
            kind=np.fromiter((TYPE_CODES.get(r[2], custom) for r in rows), np.int8, len(rows)),
            value=np.fromiter((r[3] or 0.0 for r in rows), np.float64, len(rows)),
        )

    @property
    def size(self) -> int:
        return len(self.visitor_ids)


def _count(frame: EventFrame, mask: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    w = None if weights is None else weights[mask]
    return np.bincount(frame.visitor[mask], weights=w, minlength=frame.size).astype(np.float64)


def _active_days(frame: EventFrame, mask: np.ndarray) -> np.ndarray:
    keys = np.unique(frame.visitor[mask] * 1_000_000 + np.floor(frame.day[mask]).astype(np.int64))
    return np.bincount(keys // 1_000_000, minlength=frame.size).astype(np.float64)


def features_at(frame: EventFrame, cutoff: float) -> tuple[np.ndarray, np.ndarray]:
    """(visitors x FEATURES matrix, has history) from events strictly before `cutoff` only."""
    before = frame.day < cutoff
    columns: dict[str, np.ndarray] = {}
    last = np.full(frame.size, -np.inf)
    first = np.full(frame.size, np.inf)
    np.maximum.at(last, frame.visitor[before], frame.day[before])
    np.minimum.at(first, frame.visitor[before], frame.day[before])
    history = np.isfinite(last)
    columns["recency_days"] = np.where(history, cutoff - last, NO_HISTORY_DAYS)
    columns["tenure_days"] = np.where(history, cutoff - first, 0.0)
    purchase = frame.kind == TYPE_CODES["purchase"]
    columns["events_total"] = _count(frame, before)
    columns["purchases_total"] = _count(frame, before & purchase)
    columns["monetary_total"] = _count(frame, before & purchase, frame.value)
    for w in WINDOWS:
        window = before & (frame.day > cutoff - w)
        columns[f"events_{w}d"] = _count(frame, window)
        columns[f"active_days_{w}d"] = _active_days(frame, window)
    for w in TYPE_WINDOWS:
        window = before & (frame.day > cutoff - w)
        for kind in COUNTED_TYPES:
            columns[f"{kind}_{w}d"] = _count(frame, window & (frame.kind == TYPE_CODES[kind]))
    columns["monetary_90d"] = _count(
        frame, before & purchase & (frame.day > cutoff - 90), frame.value
    )
    columns["days_between_events"] = columns["tenure_days"] / np.maximum(columns["events_total"], 1)
    return np.column_stack([columns[name] for name in FEATURES]), history


def labels_at(frame: EventFrame, cutoff: float, horizon_days: float, target: Target) -> np.ndarray:
    """1 where the target happened in [cutoff, cutoff + horizon), else 0, per visitor row."""
    window = (frame.day >= cutoff) & (frame.day < cutoff + horizon_days)
    if target.event_types is not None:
        codes = [TYPE_CODES.get(name, TYPE_CODES["custom"]) for name in target.event_types]
        window &= np.isin(frame.kind, codes)
    happened = _count(frame, window) > 0
    return (~happened if target.absent else happened).astype(np.int8)


def lifecycle_stages(matrix: np.ndarray, cutoff: float) -> np.ndarray:
    """The lifecycle stage Tailor's features would give each row at `cutoff` (the rule).

    `features.scores.lifecycle_stage` on whole columns: the same thresholds, tried in the same
    order (new, engaged, active, dormant, at risk), in one pass instead of a loop over rows.
    """
    col = {name: i for i, name in enumerate(FEATURES)}
    recency, tenure = matrix[:, col["recency_days"]], matrix[:, col["tenure_days"]]
    has_events = matrix[:, col["events_total"]] > 0
    stage = VisitorFeatures.Lifecycle
    return np.select(
        [
            tenure < 7,
            matrix[:, col["active_days_7d"]] >= 3,
            has_events & (recency < 30),
            ~has_events | (recency >= 90),
        ],
        [stage.NEW.value, stage.ENGAGED.value, stage.ACTIVE.value, stage.DORMANT.value],
        default=stage.AT_RISK.value,
    )
