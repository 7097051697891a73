"""Reads of stored recommendations: the current run, a visitor's list, every list for export."""

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO

from django.db.models import QuerySet
from django.utils import timezone
from tqdm import tqdm

from config.sql import CompiledQuery
from config.versioning import SharedVersion
from content.models import ContentItem
from content.selectors import items_published, items_with_tags
from personalization.recommendations.algorithms.interactions import consenting
from personalization.recommendations.models import ModelRun, Recommendation
from personalization.segments.models import SegmentMembership
from personalization.visitors.models import Event, Visitor

POPULARITY = "popularity"
# Changes when another run becomes current: what processes keep of the run's lists is stale.
RECOMMENDATIONS_VERSION = SharedVersion("tailor:recommendations:version")
EXPORT_COLUMNS = ("visitor_id", "rank", "item_id", "score", "algorithm")
FORMATS = ("csv", "jsonl")


def model_run_current() -> ModelRun | None:
    """The compute run whose lists are served, without its (large) artifact."""
    return ModelRun.objects.defer("artifact").filter(is_current=True).first()


def visitors_with_history() -> QuerySet[Visitor]:
    """Non-merged visitors with at least one event on an item, by pk (consent not checked)."""
    with_items = Event.objects.filter(item__isnull=False).values("visitor_id")
    return Visitor.objects.filter(merged_into__isnull=True, pk__in=with_items).order_by("pk")


def cold_start_ranks(
    *, popular: Mapping[str, Any] | None, segment_keys: Iterable[str]
) -> dict[int, int]:
    """Item pk → rank for a visitor with no stored list and no affinities (a cold start).

    Their segments' popular items in the order of `segment_keys`, then the most popular
    overall, from a run's `popular` lists. The one ranking that serving, the API and the export
    share, so that a newcomer sees the same items wherever they are asked for.
    """
    popular = popular or {}
    by_segment = popular.get("segments", {})
    ranks: dict[int, int] = {}
    for key in segment_keys:
        for pk in by_segment.get(key, []):
            ranks.setdefault(pk, len(ranks) + 1)
    for pk in popular.get("global", []):
        ranks.setdefault(pk, len(ranks) + 1)
    return ranks


COLD_START_MEMO = "_tailor_cold_start"


def visitor_cold_start_ranks(
    *, visitor: Visitor, stored: Mapping[int, Any], affinity: Mapping[str, float]
) -> dict[int, int]:
    """`cold_start_ranks` for a visitor without a stored list (`stored`) nor affinities.

    Empty for anyone else, and without a current run. Two queries (the run's lists, the
    visitor's active segments), once per Visitor object: it lives for one request, and a page
    or an API call may rank for the same visitor twice.
    """
    if stored or any(affinity.values()):
        return {}
    memo = visitor.__dict__.get(COLD_START_MEMO)
    if memo is None:
        lists = ModelRun.objects.filter(is_current=True).values_list("popular", flat=True)
        popular = lists.first()
        keys = (
            SegmentMembership.objects.filter(visitor_id=visitor.pk, segment__is_active=True)
            .order_by("segment__key")
            .values_list("segment__key", flat=True)
            if popular
            else ()
        )
        memo = cold_start_ranks(popular=popular, segment_keys=keys)
        visitor.__dict__[COLD_START_MEMO] = memo
    return memo


def recommendation_rows(
    *,
    k: int = 10,
    chunk_size: int = 2000,
    now: datetime | None = None,
    progress: TextIO | None = None,
) -> Iterator[dict[str, Any]]:
    """K rows per consenting visitor with history: the current run's list, then fallbacks.

    Fallbacks fill lists the model left short: the cold-start ranking (`cold_start_ranks`),
    then published items by priority. Every item is published now and none is one the visitor
    interacted with. Cost per chunk of visitors: 5 queries plus consent; memory holds one
    chunk's lists and the published items' ids.
    """
    now = now or timezone.now()
    run = model_run_current()
    published = dict(items_published(now=now).values_list("pk", "external_id"))
    by_priority = list(
        items_published(now=now).order_by("-priority", "-pk").values_list("pk", flat=True)
    )
    ids = list(visitors_with_history().values_list("pk", "external_id", "uid"))
    bar = tqdm(
        total=len(ids), file=progress, disable=None if progress else True, unit="visitor",
        desc="export", dynamic_ncols=True,
    )  # fmt: skip
    for start in range(0, len(ids), chunk_size):
        chunk = ids[start : start + chunk_size]
        bar.update(len(chunk))
        allowed = consenting(pk for pk, _, _ in chunk)
        chunk = [row for row in chunk if row[0] in allowed]
        lists = _ChunkLists.load(run, [pk for pk, _, _ in chunk])
        for pk, external_id, uid in chunk:
            keys = lists.segment_keys.get(pk, [])
            fallback = cold_start_ranks(popular=lists.popular, segment_keys=keys)
            candidates = lists.stored.get(pk, []) + [
                (item, 0.0, POPULARITY) for item in [*fallback, *by_priority]
            ]
            picked = _picked(
                candidates, excluded=lists.seen.get(pk, set()), published=published, k=k
            )
            for rank, (item_id, score, algorithm) in enumerate(picked, start=1):
                yield {
                    "visitor_id": external_id or str(uid), "rank": rank,
                    "item_id": published[item_id] or _slug(item_id), "score": round(score, 6),
                    "algorithm": algorithm,
                }  # fmt: skip
    bar.close()


@dataclass(frozen=True)
class _ChunkLists:
    """What the export needs of a chunk of visitors: their items, stored lists and segments."""

    popular: Mapping[str, Any] | None
    seen: dict[int, set[int]]
    stored: dict[int, list[tuple[int, float, str]]]
    segment_keys: dict[int, list[str]]

    @classmethod
    def load(cls, run: ModelRun | None, pks: list[int]) -> "_ChunkLists":
        seen: dict[int, set[int]] = {}
        for visitor_id, item_id in (
            Event.objects.filter(visitor_id__in=pks, item__isnull=False)
            .values_list("visitor_id", "item_id")
            .distinct()
        ):
            seen.setdefault(visitor_id, set()).add(item_id)
        stored: dict[int, list[tuple[int, float, str]]] = {}
        if run is not None:
            for visitor_id, item_id, score, algorithm in (
                Recommendation.objects.filter(run=run, visitor_id__in=pks)
                .order_by("visitor_id", "rank")
                .values_list("visitor_id", "item_id", "score", "algorithm")
            ):
                stored.setdefault(visitor_id, []).append((item_id, score, algorithm))
        keys: dict[int, list[str]] = {}
        for visitor_id, key in (
            SegmentMembership.objects.filter(visitor_id__in=pks, segment__is_active=True)
            .order_by("visitor_id", "segment__key")
            .values_list("visitor_id", "segment__key")
        ):
            keys.setdefault(visitor_id, []).append(key)
        return cls(run.popular if run is not None else None, seen, stored, keys)


def _picked(
    candidates: Iterable[tuple[int, float, str]],
    *,
    excluded: set[int],
    published: Mapping[int, Any],
    k: int,
) -> list[tuple[int, float, str]]:
    """The first `k` distinct published candidates the visitor has not interacted with."""
    picked: list[tuple[int, float, str]] = []
    taken: set[int] = set()
    for item_id, score, algorithm in candidates:
        if item_id in taken or item_id in excluded or item_id not in published:
            continue
        taken.add(item_id)
        picked.append((item_id, score, algorithm))
        if len(picked) == k:
            break
    return picked


def _slug(item_id: int) -> str:
    return ContentItem.objects.values_list("slug", flat=True).get(pk=item_id)


def recommendations_export(
    *, k: int, fmt: str, now: datetime | None = None, progress: TextIO | None = None
) -> Iterator[str]:
    """The rows of `recommendation_rows` as CSV (with a header) or JSON lines, chunk by chunk."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
        writer.writeheader()
        yield buffer.getvalue()
        for row in recommendation_rows(k=k, now=now, progress=progress):
            buffer.seek(0)
            buffer.truncate()
            writer.writerow(row)
            yield buffer.getvalue()
    else:
        for row in recommendation_rows(k=k, now=now, progress=progress):
            yield json.dumps(row) + "\n"


_STORED_RANKS = CompiledQuery(
    lambda visitor_id: Recommendation.objects.filter(
        visitor_id=visitor_id, run__is_current=True
    ).values_list("item_id", "rank", "score", "algorithm")
)


Ranks = dict[int, tuple[int, float, str]]
STORED_MEMO = "_tailor_stored_ranks"


def stored_ranks(visitor_id: int) -> Ranks:
    """Item pk → (rank, score, algorithm) in the visitor's list of the current run: one query."""
    return {
        item_id: (rank, score, algorithm)
        for item_id, rank, score, algorithm in _STORED_RANKS.rows(visitor_id)
    }


def visitor_stored_ranks(visitor: Visitor) -> Ranks:
    """`stored_ranks` of a visitor, once per Visitor object (it lives for one request or call)."""
    memo = visitor.__dict__.get(STORED_MEMO)
    if memo is None:
        memo = stored_ranks(visitor.pk) if visitor.pk else {}
        visitor.__dict__[STORED_MEMO] = memo
    return memo


def stored_ranks_remember(visitor: Visitor, ranks: Ranks) -> None:
    """Have `visitor_stored_ranks(visitor)` answer `ranks` without a query."""
    visitor.__dict__[STORED_MEMO] = ranks


def cold_start_remember(visitor: Visitor, ranks: dict[int, int]) -> None:
    """Have `visitor_cold_start_ranks(visitor, …)` answer `ranks` without a query."""
    visitor.__dict__[COLD_START_MEMO] = ranks


def visitors_recommendations_prefetch(
    visitors: Iterable[Visitor], affinities: Mapping[int, Mapping[str, float]]
) -> None:
    """Stored lists and cold-start rankings of many visitors, remembered on each Visitor.

    At most three queries whatever the number of visitors: the current run's lists, and for the
    visitors without a list nor affinities (`affinities`: visitor pk → tag affinities) the run's
    popular lists and their active segments.
    """
    by_id = {visitor.pk: visitor for visitor in visitors if visitor.pk is not None}
    if not by_id:
        return
    ranks: dict[int, Ranks] = {pk: {} for pk in by_id}
    for visitor_id, item_id, rank, score, algorithm in Recommendation.objects.filter(
        visitor_id__in=list(by_id), run__is_current=True
    ).values_list("visitor_id", "item_id", "rank", "score", "algorithm"):
        ranks[visitor_id][item_id] = (rank, score, algorithm)
    cold = []
    for pk, visitor in by_id.items():
        stored_ranks_remember(visitor, ranks[pk])
        if ranks[pk] or any((affinities.get(pk) or {}).values()):
            cold_start_remember(visitor, {})
        else:
            cold.append(pk)
    popular = (
        ModelRun.objects.filter(is_current=True).values_list("popular", flat=True).first()
        if cold
        else None
    )
    keys: dict[int, list[str]] = {pk: [] for pk in cold}
    if popular:
        for visitor_id, key in (
            SegmentMembership.objects.filter(visitor_id__in=cold, segment__is_active=True)
            .order_by("visitor_id", "segment__key")
            .values_list("visitor_id", "segment__key")
        ):
            keys[visitor_id].append(key)
    for pk in cold:
        cold_start_remember(by_id[pk], cold_start_ranks(popular=popular, segment_keys=keys[pk]))


def stored_similar(item_id: int, *, k: int, now: datetime | None = None) -> list[tuple[Any, float]]:
    """The current run's similar items of `item_id` that are published now, best first."""
    from personalization.recommendations.models import SimilarItem

    rows = (
        SimilarItem.objects.filter(item_id=item_id, run__is_current=True)
        .order_by("rank")
        .values_list("similar_id", "score")[: k * 2]
    )
    scores = dict(rows)
    found = items_published(now=now or timezone.now()).in_bulk(list(scores))
    ranked = [(found[pk], score) for pk, score in scores.items() if pk in found]
    return ranked[:k]


def stored_candidates(
    item_ids: Iterable[int], kinds: Iterable[str], tag_slugs: Iterable[str]
) -> list[tuple[ContentItem, frozenset[str]]]:
    """Published items of `item_ids` of the kinds and tags asked, with their tag slugs."""
    items = ContentItem.objects.filter(
        pk__in=list(item_ids), status=ContentItem.Status.PUBLISHED
    ).select_related("kind")
    kinds, tag_slugs = list(kinds), list(tag_slugs)
    if kinds:
        items = items.filter(kind__key__in=kinds)
    if tag_slugs:
        items = items_with_tags(items, tag_slugs)
    return [
        (item, frozenset(tag.slug for tag in item.tags.all()))
        for item in items.prefetch_related("tags")
    ]
