"""Frequency caps: which items a visitor has already been shown as often as a slot allows.

A slot with a cap shows an item to a visitor at most `cap` times within `cap_days` days (one
day when unset), counting the impressions that count for caps. A page asks the database once
per capped decision; a caller deciding for many visitors at once (an email batch) counts every
visitor's impressions in one query first (`caps_prefetch`), remembered on each visitor for the
moment it was counted at, and the decisions for that moment read from it.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from django.db.models import Count, Q

from personalization.visitors.models import Impression, Visitor

_REMEMBERED = "_tailor_cap_counts"  # (moment, {days: {item id: impressions}}) on a visitor


def _since(now: datetime, days: int | None) -> datetime:
    return now - timedelta(days=days or 1)


def caps_prefetch(
    visitors: Sequence[Visitor], windows: Iterable[int | None], now: datetime
) -> None:
    """Count the visitors' impressions per item within each window (days) in one query."""
    windows = sorted({days or 1 for days in windows})
    by_id = {visitor.pk: visitor for visitor in visitors if visitor.pk is not None}
    if not windows or not by_id:
        return
    counted = {
        f"in_{days}": Count("pk", filter=Q(shown_at__gte=_since(now, days))) for days in windows
    }
    counts: dict[int, dict[int, dict[int, int]]] = {
        pk: {days: {} for days in windows} for pk in by_id
    }
    rows = (
        Impression.objects.filter(
            visitor_id__in=list(by_id), counts_for_cap=True, shown_at__gte=_since(now, windows[-1])
        )
        .values("visitor_id", "item_id")
        .annotate(**counted)
        .values_list("visitor_id", "item_id", *counted)
    )
    for visitor_id, item_id, *shown in rows:
        for days, number in zip(windows, shown, strict=True):
            counts[visitor_id][days][item_id] = number
    for pk, visitor in by_id.items():
        setattr(visitor, _REMEMBERED, (now, counts[pk]))


def _counted(visitor: Visitor, days: int, now: datetime) -> dict[int, int] | None:
    remembered = getattr(visitor, _REMEMBERED, None)
    if remembered is None or remembered[0] != now:
        return None
    return remembered[1].get(days)


def capped_items(
    visitor: Visitor, item_ids: Iterable[int], *, cap: int, days: int | None, now: datetime
) -> set[int]:
    """Of `item_ids`, those the visitor has been shown `cap` times or more within the window."""
    item_ids = list(item_ids)
    counted = _counted(visitor, days or 1, now)
    if counted is not None:
        return {pk for pk in item_ids if counted.get(pk, 0) >= cap}
    return set(
        Impression.objects.filter(
            visitor=visitor, item_id__in=item_ids, shown_at__gte=_since(now, days),
            counts_for_cap=True,
        )
        .values("item_id")
        .annotate(shown=Count("pk"))
        .filter(shown__gte=cap)
        .values_list("item_id", flat=True)
    )  # fmt: skip
