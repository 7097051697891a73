"""Segment memberships: computed a chunk of visitors at a time, imported lists, daily sizes.

`segment_memberships_compute` rewrites the rule-segment memberships of a chunk of visitors:
it builds each visitor's stored attributes (traits, features, consent, static and cluster
memberships), evaluates every active rule segment that reads no request attribute, each after
the segments it references with `$inSegment`, and writes only the difference, so that `since`
keeps the day a visitor entered. A visitor without personalization consent is in no rule
segment: their rule memberships are deleted. Static lists and clusters are left as they are.

Cost of a chunk of C visitors: 4 reads (visitors, features, memberships; consent is a cache
read plus at most 3 queries on a miss), then at most one delete and one insert, whatever C and
the number of segments S. Memory holds C visitors' attributes and memberships; time grows with
C x S condition evaluations (microseconds each). A run reads every visitor id in chunks
(keyset pagination), then counts members per segment in one GROUP BY.
"""

import logging
import math
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator
from datetime import datetime
from itertools import islice
from typing import Any, TextIO

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from tqdm import tqdm

from config.errors import ApplicationError
from consent.purposes import PERSONALIZATION
from consent.selectors import consent_states
from personalization.features.models import VisitorFeatures
from personalization.features.services import visitor_id_chunks
from personalization.rules.attributes import attributes_build
from personalization.rules.sources import attribute_sources_many
from personalization.segments.models import Segment, SegmentMembership, SegmentSizeSnapshot
from personalization.segments.selectors import SegmentDefinitions, segment_definitions
from personalization.visitors.models import Visitor
from personalization.visitors.selectors import external_id_problem, visitors_survivors
from personalization.visitors.snapshots import snapshots_invalidate_all

logger = logging.getLogger(__name__)

RULE = Segment.Kind.RULE.value
BATCH = 5000


# What follows membership changes, registered by packages above (from `AppConfig.ready()`):
# listener(joined=[(visitor id, segment id), …], left=[…]), called inside the write's
# transaction with the memberships just added and deleted. It must queue its work
# (`transaction.on_commit`), not do it: it runs in every chunk of a segment run.
MembershipListener = Callable[..., object]
_membership_listeners: dict[str, MembershipListener] = {}


def membership_change_register(name: str, listener: MembershipListener) -> None:
    """Have `listener(joined=, left=)` called with every batch of membership changes."""
    _membership_listeners[name] = listener


def _memberships_changed(joined: list[tuple[int, int]], left: list[tuple[int, int]]) -> None:
    if joined or left:
        for listener in _membership_listeners.values():
            listener(joined=joined, left=left)


class SegmentError(ApplicationError):
    """A segment operation that cannot be done as asked."""


def memberships_follow_merge(*, source_id: int, target_id: int) -> None:
    """On a profile merge static lists follow the person; rule memberships are recomputed."""
    kept = SegmentMembership.objects.filter(visitor_id=target_id).values("segment_id")
    SegmentMembership.objects.filter(
        visitor_id=source_id, segment__kind=Segment.Kind.STATIC
    ).exclude(segment_id__in=kept).update(visitor_id=target_id)
    SegmentMembership.objects.filter(visitor_id=source_id).delete()


def segment_memberships_compute(
    *,
    visitor_ids: Iterable[int],
    segments: SegmentDefinitions | None = None,
    now: datetime | None = None,
) -> dict[str, int]:
    """Rewrite the rule-segment memberships of a chunk of visitors; returns counts.

    Counts: computed, skipped_consent (no personalization: removed from every rule segment),
    skipped_merged (merged or gone), joined and left (memberships added and deleted).
    """
    now = now or timezone.now()
    definitions = segments or segment_definitions()
    ids = sorted(set(visitor_ids))
    visitors = {
        v.pk: v
        for v in Visitor.objects.filter(pk__in=ids, merged_into__isnull=True).only(
            "pk", "uid", "external_id", "user_id", "traits", "sessions"
        )
    }
    states = consent_states(visitors) if visitors else {}
    allowed = [pk for pk in visitors if states[pk].get(PERSONALIZATION, False)]
    features = (
        {f.visitor_id: f for f in VisitorFeatures.objects.filter(visitor_id__in=allowed)}
        if allowed and definitions.stored_rules
        else {}
    )
    held, current = _memberships_current(ids, definitions)
    sourced = attribute_sources_many(allowed) if allowed and definitions.stored_rules else {}
    wanted: set[tuple[int, int]] = set()
    for pk in allowed:
        keys = set(held[pk])  # grows as segments match, for the $inSegment of later ones
        attributes = attributes_build(
            visitor=visitors[pk],
            features=features.get(pk),
            consent=states[pk],
            segments=keys,
            sourced=sourced.get(pk),
        )
        for definition in definitions.stored_rules:
            if definition.evaluate(attributes):  # type: ignore[misc]
                keys.add(definition.key)
                wanted.add((pk, definition.id))
    joined, left = _memberships_rewrite(current=current, wanted=wanted, now=now)
    return {
        "computed": len(allowed),
        "skipped_consent": len(visitors) - len(allowed),
        "skipped_merged": len(ids) - len(visitors),
        "joined": joined,
        "left": left,
    }


def _memberships_current(
    ids: list[int], definitions: SegmentDefinitions
) -> tuple[defaultdict[int, set[str]], dict[tuple[int, int], int]]:
    """The visitors' static and cluster segment keys, and their rule memberships' pks."""
    held: defaultdict[int, set[str]] = defaultdict(set)  # static lists and clusters
    current: dict[tuple[int, int], int] = {}  # (visitor, rule segment) → membership pk
    rows = SegmentMembership.objects.filter(visitor_id__in=ids).values_list(
        "pk", "visitor_id", "segment_id", "segment__kind"
    )
    for pk, visitor_id, segment_id, kind in rows:
        if kind == RULE:
            current[(visitor_id, segment_id)] = pk
        elif (definition := definitions.by_id.get(segment_id)) is not None:
            held[visitor_id].add(definition.key)
    return held, current


def _memberships_rewrite(
    *, current: dict[tuple[int, int], int], wanted: set[tuple[int, int]], now: datetime
) -> tuple[int, int]:
    """Delete the rule memberships no longer wanted, add the new ones; (joined, left) counts.

    Only the difference is written, so that `since` keeps the day a visitor entered.
    """
    gone = [pair for pair in current if pair not in wanted]
    left = [current[pair] for pair in gone]
    joined = [
        SegmentMembership(visitor_id=v, segment_id=s, since=now)
        for v, s in sorted(wanted)
        if (v, s) not in current
    ]
    with transaction.atomic():
        if left:
            SegmentMembership.objects.filter(pk__in=left).delete()
        if joined:
            SegmentMembership.objects.bulk_create(joined, ignore_conflicts=True)
        _memberships_changed([(m.visitor_id, m.segment_id) for m in joined], gone)
        if left or joined:
            snapshots_invalidate_all()
    return len(joined), len(left)


def segment_sizes_snapshot(*, now: datetime | None = None) -> dict[str, int]:
    """Store today's size of every active stored segment (upsert) and its estimated size.

    Live segments have no stored members, so they get neither. Returns key → size.
    """
    now = now or timezone.now()
    definitions = segment_definitions()
    stored = {d.id: d.key for d in definitions.by_key.values() if not d.live}
    counts = dict(
        SegmentMembership.objects.filter(segment_id__in=stored, visitor__merged_into__isnull=True)
        .values("segment_id")
        .annotate(size=Count("pk"))
        .values_list("segment_id", "size")
    )
    today = timezone.localdate(now)
    with transaction.atomic():
        SegmentSizeSnapshot.objects.bulk_create(
            [SegmentSizeSnapshot(segment_id=i, date=today, size=counts.get(i, 0)) for i in stored],
            update_conflicts=True, unique_fields=["segment", "date"], update_fields=["size"],
        )  # fmt: skip
        # bulk_update, not save(): a new size is no change of definition (no cache bump).
        Segment.objects.bulk_update(
            [Segment(pk=i, estimated_size=counts.get(i, 0), size_updated_at=now) for i in stored],
            ["estimated_size", "size_updated_at"],
        )
    return {key: counts.get(pk, 0) for pk, key in stored.items()}


def segments_compute_all(
    *, chunk_size: int = 2000, now: datetime | None = None, progress: TextIO | None = None
) -> dict[str, Any]:
    """Compute every visitor's rule-segment memberships chunk by chunk, then today's sizes.

    Cost: one chunk's queries per `chunk_size` visitors (see the module docstring), then one
    delete of merged profiles' rule memberships and the size snapshot.
    """
    started = time.perf_counter()
    now = now or timezone.now()
    definitions = segment_definitions()
    visitors = Visitor.objects.filter(merged_into__isnull=True).count()
    totals: Counter[str] = Counter(computed=0, skipped_consent=0, joined=0, left=0)
    bar = tqdm(
        total=math.ceil(visitors / chunk_size), file=progress,
        disable=None if progress else True, unit="chunk", desc="segments", dynamic_ncols=True,
    )  # fmt: skip
    chunks = 0
    with bar:
        for ids in visitor_id_chunks(chunk_size=chunk_size):
            totals.update(
                segment_memberships_compute(visitor_ids=ids, segments=definitions, now=now)
            )
            chunks += 1
            bar.update(1)
    sizes = segments_finish(now=now)
    return {
        **totals,
        "chunks": chunks,
        "segments": len(definitions.stored_rules),
        "sizes": sizes,
        "seconds": round(time.perf_counter() - started, 3),
    }


def segments_finish(*, now: datetime | None = None) -> dict[str, int]:
    """After every chunk: drop merged profiles' rule memberships, then snapshot the sizes."""
    SegmentMembership.objects.filter(
        segment__kind=RULE, visitor__merged_into__isnull=False
    ).delete()
    snapshots_invalidate_all()
    return segment_sizes_snapshot(now=now)


def _batches(values: Iterable[Any], size: int = BATCH) -> Iterator[list[Any]]:
    iterator = iter(values)
    while batch := list(islice(iterator, size)):
        yield batch


def visitor_ids_resolve(external_ids: Collection[str]) -> dict[str, int]:
    """External id → visitor pk for the ids that exist; a merged profile gives its survivor.

    An id that reads as a cookie id is never an external id, so it is never found here.
    """
    rows: dict[str, tuple[int, int | None]] = {}
    external_ids = [key for key in external_ids if external_id_problem(key) is None]
    for batch in _batches(external_ids):
        found = Visitor.objects.filter(external_id__in=batch).values_list(
            "external_id", "pk", "merged_into_id"
        )
        rows |= {external_id: (pk, merged) for external_id, pk, merged in found}
    survivors = visitors_survivors({merged for _, merged in rows.values() if merged})
    return {
        key: survivors[merged] if merged else pk
        for key, (pk, merged) in rows.items()
        if not merged or merged in survivors
    }


@transaction.atomic
def segment_members_import(
    *,
    key: str,
    visitor_ids: Collection[int],
    create: bool = False,
    replace: bool = False,
    now: datetime | None = None,
) -> dict[str, int]:
    """Add visitors to the static list `key` (create it if asked); `replace` drops the others."""
    now = now or timezone.now()
    segment = Segment.objects.select_for_update().filter(key=key).first()
    if segment is None:
        if not create:
            raise SegmentError(f"no segment {key!r}; --create makes it as a static list")
        segment = Segment(key=key, name=key.replace("-", " ").capitalize(), kind="static")
        try:
            segment.full_clean()
        except ValidationError as exc:
            raise SegmentError(f"cannot create {key!r}: {'; '.join(exc.messages)}") from exc
        segment.save()
    elif segment.kind != Segment.Kind.STATIC:
        raise SegmentError(
            f"segment {key!r} is a {segment.get_kind_display().lower()} segment; "
            "only static lists are imported"
        )
    return segment_members_write(segment=segment, wanted=visitor_ids, replace=replace, now=now)


def segment_members_write(
    *, segment: Segment, wanted: Collection[int], replace: bool, now: datetime
) -> dict[str, int]:
    """Add the wanted visitors a stored segment lacks (`replace`: drop the others); its size.

    Cost: the segment's member ids in memory once, one bulk insert, a delete per batch.
    """
    members = set(
        SegmentMembership.objects.filter(segment=segment).values_list("visitor_id", flat=True)
    )
    wanted = set(wanted)
    added = [
        SegmentMembership(segment=segment, visitor_id=pk, since=now)
        for pk in sorted(wanted - members)
    ]
    SegmentMembership.objects.bulk_create(added, ignore_conflicts=True, batch_size=BATCH)
    removed = 0
    if replace:
        for batch in _batches(sorted(members - wanted)):
            removed += SegmentMembership.objects.filter(
                segment=segment, visitor_id__in=batch
            ).delete()[0]
    _memberships_changed(
        [(m.visitor_id, segment.pk) for m in added],
        [(pk, segment.pk) for pk in sorted(members - wanted)] if replace else [],
    )
    size = len(members) + len(added) - removed
    if added or removed:
        snapshots_invalidate_all()
    Segment.objects.filter(pk=segment.pk).update(estimated_size=size, size_updated_at=now)
    segment.estimated_size, segment.size_updated_at = size, now
    return {"added": len(added), "removed": removed, "members": size}
