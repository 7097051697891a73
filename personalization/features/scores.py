"""Scoring one visitor: sessions, quintile scores, lifecycle stage, engagement, event weights."""

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from personalization.features.models import VisitorFeatures

DEFAULT_EVENT_WEIGHTS: dict[str, float] = {
    "view": 1.0, "click": 2.0, "add_to_cart": 4.0, "purchase": 8.0,
    "rating": 3.0, "search": 0.5, "custom": 1.0,
}  # fmt: skip
CENTS = Decimal("0.01")
MAX_EVENT_WEIGHT = 1_000_000  # an event's weight in quanta must fit in 63 bits (`aggregates`)


def event_weights() -> dict[str, float]:
    """Affinity weight per event type: TAILOR_EVENT_WEIGHTS over the defaults ("custom": others)."""
    configured = getattr(settings, "TAILOR_EVENT_WEIGHTS", DEFAULT_EVENT_WEIGHTS)
    weights = {**DEFAULT_EVENT_WEIGHTS, **configured}
    bad = sorted(
        k
        for k, w in weights.items()
        if not isinstance(w, int | float) or not 0 <= w <= MAX_EVENT_WEIGHT
    )
    if bad:
        raise ImproperlyConfigured(
            f"TAILOR_EVENT_WEIGHTS: {', '.join(bad)} must be numbers from 0 to {MAX_EVENT_WEIGHT:,}"
        )
    return {key: float(weight) for key, weight in weights.items()}


def half_life_days() -> float:
    """TAILOR_AFFINITY_HALF_LIFE_DAYS, checked: the days over which an event's weight halves."""
    half_life = float(settings.TAILOR_AFFINITY_HALF_LIFE_DAYS)
    if half_life <= 0:
        raise ImproperlyConfigured("TAILOR_AFFINITY_HALF_LIFE_DAYS must be greater than 0")
    return half_life


def session_gap() -> timedelta:
    """The gap between events that starts a new session (TAILOR_SESSION_GAP_MINUTES)."""
    return timedelta(minutes=settings.TAILOR_SESSION_GAP_MINUTES)


def age_days(now: datetime, moment: datetime) -> float:
    """Days from `moment` to `now`; a moment after `now` is 0 days old."""
    return max(0.0, (now - moment).total_seconds() / 86_400)


def cents(amount: Decimal | None) -> Decimal:
    """An amount rounded half up to cents; None is 0."""
    return (amount or Decimal(0)).quantize(CENTS, ROUND_HALF_UP)


def session_starts(times: Iterable[datetime], gap: timedelta) -> list[datetime]:
    """The first event of each session in time-ordered `times`; a gap of exactly `gap` splits."""
    starts: list[datetime] = []
    previous: datetime | None = None
    for moment in times:
        if previous is None or moment - previous >= gap:
            starts.append(moment)
        previous = moment
    return starts


def quintile_score(edges: Sequence[float], value: float, *, higher_is_better: bool = True) -> int:
    """1 to 5 by the quintile `value` falls in; a value equal to an edge falls in the lower one."""
    if not edges:
        return 1  # nothing to rank against: the documented default
    quintile = bisect_left(edges, value)
    return quintile + 1 if higher_is_better else 5 - quintile


def lifecycle_stage(
    *, first_seen: datetime, last_event: datetime | None, sessions_7d: int, now: datetime
) -> str:
    """The first stage that applies, tried in order: new, engaged, active, dormant, at risk.

    new: first seen under 7 days ago (exactly 7 days is not new); engaged: 3 or more sessions
    started in the last 7 days; active: an event under 30 days ago; dormant: no event under 90
    days ago (exactly 90 days is dormant), or no event at all; at risk: the last event 30 days
    ago or more but under 90 (exactly 30 days is at risk).
    """
    stage = VisitorFeatures.Lifecycle
    if first_seen > now - timedelta(days=7):
        return stage.NEW
    if sessions_7d >= 3:
        return stage.ENGAGED
    if last_event is not None and last_event > now - timedelta(days=30):
        return stage.ACTIVE
    if last_event is None or last_event <= now - timedelta(days=90):
        return stage.DORMANT
    return stage.AT_RISK


def engagement_score(
    *, sessions_30d: int, event_types_30d: int, recency_days: float | None
) -> float:
    """0.5·s/(s+3) + 0.25·min(types, 4)/4 + 0.25·0.5^(recency_days/7), rounded to 4 places.

    Sessions saturate (3 sessions in 30 days give half of their part), diversity counts distinct
    event types in 30 days up to 4, and recency halves every week; no events give 0.
    """
    sessions = sessions_30d / (sessions_30d + 3)
    diversity = min(event_types_30d, 4) / 4
    recency = 0.0 if recency_days is None else 0.5 ** (recency_days / 7)
    return round(0.5 * sessions + 0.25 * diversity + 0.25 * recency, 4)
