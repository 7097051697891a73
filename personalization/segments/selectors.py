"""Reading segments: definitions cached per process, a visitor's segments, and the segment graph.

`visitor_segments(visitor, attributes)` gives the `SegmentSet` the decision engine puts in
`attributes["segments"]`, where `{"$inSegment": key}` reads it:

* a stored segment (a rule that reads only stored data, a static list, a cluster) answers from
  the memberships `compute_segments` and `import_segment` wrote: one query per SegmentSet, on
  the first question, whatever the number of segments asked about;
* a live segment (its rule reads the request: device, hour, campaign…, or it references a live
  segment) is evaluated when first asked, against the attribute mapping the set was given,
  and remembered for the life of the set.

Active segment definitions (key → compiled condition, live flag, version) are loaded once per
process and reloaded when the shared version `SEGMENTS_VERSION` changes (`config.versioning`:
every save or delete of a segment bumps it) or after `DEFINITIONS_MAX_AGE` seconds, so that
processes with a private cache (locmem) catch up too.
"""

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from config.versioning import SharedVersion
from consent.purposes import PERSONALIZATION
from consent.selectors import consent_state
from personalization.features.models import VisitorFeatures
from personalization.rules import compile_condition, condition_segment_keys
from personalization.rules.attributes import attributes_build
from personalization.rules.catalogue import catalogue_check, condition_is_live
from personalization.segments.models import Segment, SegmentMembership
from personalization.visitors.models import Visitor
from personalization.visitors.snapshots import snapshots_invalidate_all

logger = logging.getLogger(__name__)

SEGMENTS_VERSION_KEY = "tailor:segments:version"
# Read at most once a second per process (every request asks).
SEGMENTS_VERSION = SharedVersion(SEGMENTS_VERSION_KEY)
DEFINITIONS_MAX_AGE = 60.0
Evaluator = Callable[[dict[str, Any]], bool]


@dataclass(frozen=True)
class SegmentDefinition:
    """An active segment as evaluation needs it."""

    id: int
    key: str
    name: str
    kind: str
    live: bool  # its rule reads the request, itself or through a segment it references
    version: int
    condition: dict[str, Any]
    evaluate: Evaluator | None  # rule segments only
    references: frozenset[str]  # the keys its condition names with $inSegment


@dataclass(frozen=True)
class SegmentDefinitions:
    """Every active segment, loaded together under one cache token."""

    token: int
    by_key: Mapping[str, SegmentDefinition]
    by_id: Mapping[int, SegmentDefinition]
    stored_rules: tuple[SegmentDefinition, ...]  # precomputed rules, each after those it reads
    live: tuple[SegmentDefinition, ...]


_local: tuple[SegmentDefinitions, float] | None = None
_local_lock = threading.Lock()


def segments_cache_bump() -> None:
    """Make every process reload segment definitions, now and again once the write commits."""
    global _local
    _local = None
    SEGMENTS_VERSION.bump_on_write()
    snapshots_invalidate_all()  # snapshots hold memberships of the segments active then


def segments_cache_clear() -> None:
    """Forget this process's definitions (tests: a rolled-back segment leaves a stale copy)."""
    global _local
    _local = None
    SEGMENTS_VERSION.forget()


def segment_definitions() -> SegmentDefinitions:
    """Active segment definitions: this process's copy while the cache token is unchanged."""
    global _local
    token = SEGMENTS_VERSION.current()
    local = _local
    if local is not None and local[0].token == token and time.monotonic() < local[1]:
        return local[0]
    with _local_lock:
        definitions = _definitions_load(token)
        _local = (definitions, time.monotonic() + DEFINITIONS_MAX_AGE)
    return definitions


def _definitions_load(token: int) -> SegmentDefinitions:
    rows = Segment.objects.filter(is_active=True).values_list(
        "id", "key", "name", "kind", "version", "condition"
    )
    raw = {}
    for pk, key, name, kind, version, condition in rows:
        is_rule = kind == Segment.Kind.RULE
        condition = condition if is_rule and isinstance(condition, dict) else {}
        references = frozenset(condition_segment_keys(condition)) if is_rule else frozenset()
        raw[key] = (pk, name, kind, version, condition, references, is_rule)
    own_live = {key: r[6] and condition_is_live(r[4]) for key, r in raw.items()}
    live: dict[str, bool] = {}

    def is_live(key: str, path: frozenset[str]) -> bool:
        if key not in live:
            references = raw[key][5] - path  # a cycle (saved around clean()) adds nothing
            live[key] = own_live[key] or any(
                is_live(other, path | {key}) for other in references if other in raw
            )
        return live[key]

    by_key = {}
    for key, (pk, name, kind, version, condition, references, is_rule) in raw.items():
        by_key[key] = SegmentDefinition(
            id=pk, key=key, name=name, kind=kind, live=is_live(key, frozenset()),
            version=version, condition=condition,
            evaluate=compile_condition(condition) if is_rule else None, references=references,
        )  # fmt: skip
    stored = [d for d in by_key.values() if d.evaluate is not None and not d.live]
    return SegmentDefinitions(
        token=token,
        by_key=by_key,
        by_id={d.id: d for d in by_key.values()},
        stored_rules=_dependency_order(stored),
        live=tuple(sorted((d for d in by_key.values() if d.live), key=lambda d: d.key)),
    )


def _dependency_order(rules: list[SegmentDefinition]) -> tuple[SegmentDefinition, ...]:
    """Rules sorted so that each comes after the rules it references (depth-first, by key)."""
    by_key = {d.key: d for d in rules}
    ordered: list[SegmentDefinition] = []
    state: dict[str, bool] = {}  # False while visiting, True when placed

    def visit(definition: SegmentDefinition) -> None:
        if definition.key in state:
            if not state[definition.key]:
                logger.warning("Segment %s is part of an $inSegment cycle", definition.key)
            return
        state[definition.key] = False
        for key in sorted(definition.references):
            if key in by_key:
                visit(by_key[key])
        state[definition.key] = True
        ordered.append(definition)

    for definition in sorted(rules, key=lambda d: d.key):
        visit(definition)
    return tuple(ordered)


class SegmentSet:
    """The segments of one visitor in one request, for `attributes["segments"]`.

    `key in segments` answers stored segments from the visitor's memberships (one query, on the
    first question) and live segments by evaluating their condition against the attribute
    mapping given to `visitor_segments` or `bind` (held by reference, not copied: pass the dict
    you are building and put this set into it as "segments"). Results are remembered until
    `bind` is called again. Iterating gives every matched key, sorted. Never raises: a failure
    is logged and answers "not a member".
    """

    def __init__(
        self,
        visitor: Visitor | None,
        attributes: Mapping[str, Any] | None = None,
        *,
        assumed: Iterable[str] = (),
    ):
        # assumed: keys answered "member" whatever is stored (a previewed, made-up visitor).
        self._assumed = frozenset(assumed)
        self._visitor_id = visitor.pk if visitor is not None and visitor.pk else None
        self._attributes = attributes
        self._definitions: SegmentDefinitions | None = None
        self._stored: dict[str, datetime] | None = None
        self._live: dict[str, bool] = {}
        self._evaluating: set[str] = set()

    def bind(self, attributes: Mapping[str, Any]) -> "SegmentSet":
        """Evaluate live segments against these attributes from now on; returns the set."""
        self._attributes = attributes
        self._live = {}
        return self

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        try:
            return self._contains(key)
        except Exception:  # the hot path of every page: a broken segment only fails to match
            logger.exception("Segment %r failed for visitor %s", key, self._visitor_id)
            return False

    def __iter__(self) -> Iterator[str]:
        try:
            matched = set(self.memberships()) | self._assumed
            matched.update(d.key for d in self._loaded().live if self._evaluate(d))
        except Exception:  # as in __contains__: listing segments must not break a page
            logger.exception("Listing the segments of visitor %s failed", self._visitor_id)
            matched = set()
        return iter(sorted(matched))

    def __repr__(self) -> str:
        return f"<SegmentSet of visitor {self._visitor_id}>"

    def memberships(self) -> dict[str, datetime]:
        """Stored segments of the visitor (active, not live) → since when, in one query."""
        if self._stored is None:
            rows = visitor_memberships(self._visitor_id) if self._visitor_id is not None else {}
            self._stored = _stored_keys(self._loaded(), rows)
        return self._stored

    def _loaded(self) -> SegmentDefinitions:
        if self._definitions is None:
            self._definitions = segment_definitions()
        return self._definitions

    def _contains(self, key: str) -> bool:
        if key in self._assumed:
            return True
        known = self._live.get(key)
        if known is not None:
            return known
        definition = self._loaded().by_key.get(key)
        if definition is None:
            return False
        if not definition.live:
            return key in self.memberships()
        return self._evaluate(definition)

    def _evaluate(self, definition: SegmentDefinition) -> bool:
        known = self._live.get(definition.key)
        if known is not None:
            return known
        if definition.key in self._evaluating or definition.evaluate is None:
            return False  # a cycle saved around clean(): no member rather than recursion
        self._evaluating.add(definition.key)
        try:
            result = definition.evaluate(self._view())
        finally:
            self._evaluating.discard(definition.key)
        self._live[definition.key] = result
        return result

    def _view(self) -> dict[str, Any]:
        attributes = self._attributes
        if type(attributes) is dict and attributes.get("segments") is self:
            return attributes
        # Compiled conditions read plain dicts; `$inSegment` inside a live rule must see us.
        return {**(attributes or {}), "segments": self}


def _stored_keys(
    definitions: SegmentDefinitions, rows: Mapping[int, datetime]
) -> dict[str, datetime]:
    """Segment id → since, as key → since for the active segments that are not live."""
    stored = {}
    for segment_id, since in rows.items():
        definition = definitions.by_id.get(segment_id)
        if definition is not None and not definition.live:
            stored[definition.key] = since
    return stored


def visitor_memberships(visitor_id: int) -> dict[int, datetime]:
    """Every stored membership of the visitor: segment id → since (one query)."""
    return dict(
        SegmentMembership.objects.filter(visitor_id=visitor_id).values_list("segment_id", "since")
    )


def visitor_segments_stored(visitor: Visitor, memberships: Mapping[int, datetime]) -> SegmentSet:
    """The visitor's `SegmentSet` from memberships read before (`visitor_memberships`)."""
    segments = SegmentSet(visitor)
    segments._definitions = segment_definitions()
    segments._stored = _stored_keys(segments._definitions, memberships)
    return segments


def visitor_segments(
    visitor: Visitor | None, context: Mapping[str, Any] | None = None
) -> SegmentSet:
    """The visitor's segments for `attributes["segments"]`; `context` is the attribute mapping."""
    return SegmentSet(visitor, context)


def visitor_segments_many(visitors: Iterable[Visitor]) -> dict[int, SegmentSet]:
    """A `SegmentSet` per visitor (by id), their memberships read in one query for all."""
    visitors = [visitor for visitor in visitors if visitor.pk is not None]
    definitions = segment_definitions()
    stored: dict[int, dict[str, datetime]] = {visitor.pk: {} for visitor in visitors}
    rows = (
        SegmentMembership.objects.filter(visitor_id__in=list(stored)).values_list(
            "visitor_id", "segment_id", "since"
        )
        if stored
        else []
    )
    for visitor_id, segment_id, since in rows:
        definition = definitions.by_id.get(segment_id)
        if definition is not None and not definition.live:
            stored[visitor_id][definition.key] = since
    sets = {}
    for visitor in visitors:
        segments = SegmentSet(visitor)
        segments._definitions, segments._stored = definitions, stored[visitor.pk]
        sets[visitor.pk] = segments
    return sets


@dataclass(frozen=True)
class SegmentMatch:
    """A segment a visitor is in, for the profile API and the admin."""

    key: str
    name: str
    since: datetime | None
    live: bool


def visitor_segments_profile(visitor: Visitor) -> list[SegmentMatch]:
    """Stored memberships plus live segments evaluated on stored attributes (no request)."""
    consent = consent_state(visitor)
    segments = SegmentSet(visitor)
    stored = segments.memberships()
    definitions = segments._loaded()
    matches = [
        SegmentMatch(key, definitions.by_key[key].name, since, live=False)
        for key, since in stored.items()
    ]
    if consent.get(PERSONALIZATION, False) and definitions.live:
        features = VisitorFeatures.objects.filter(visitor=visitor).first()
        attributes = attributes_build(
            visitor=visitor, features=features, consent=consent, segments=segments
        )
        segments.bind(attributes)
        matches += [
            SegmentMatch(d.key, d.name, None, live=True)
            for d in definitions.live
            if d.key in segments
        ]
    return sorted(matches, key=lambda match: match.key)


def segment_cycle(*, key: str, condition: Any, exclude_pk: int | None = None) -> list[str] | None:
    """The shortest `$inSegment` cycle through `key` with this condition, e.g. [vip, big, vip]."""
    graph = {
        other: condition_segment_keys(other_condition)
        for other, other_condition in Segment.objects.exclude(pk=exclude_pk)
        .filter(kind=Segment.Kind.RULE)
        .values_list("key", "condition")
    }
    graph[key] = condition_segment_keys(condition)
    parents: dict[str, str] = {}
    queue = deque([key])
    while queue:
        current = queue.popleft()
        for reference in sorted(graph.get(current, ())):
            if reference == key:
                path = [current]
                while path[-1] != key:
                    path.append(parents[path[-1]])
                return [key, *reversed(path[:-1]), key]
            if reference not in parents and reference in graph:
                parents[reference] = current
                queue.append(reference)
    return None


def segment_condition_warnings(segment: Segment) -> list[str]:
    """What an editor should know about a saved rule: unknown attributes and segment keys."""
    if segment.kind != Segment.Kind.RULE:
        return []
    _, warnings = catalogue_check(segment.condition)
    messages = [str(warning) for warning in warnings]
    references = condition_segment_keys(segment.condition)
    if references:
        active = dict(Segment.objects.filter(key__in=references).values_list("key", "is_active"))
        for key in sorted(references):
            if key not in active:
                messages.append(f'$inSegment "{key}": no such segment, so it never matches')
            elif not active[key]:
                messages.append(f'$inSegment "{key}": the segment is inactive, so it never matches')
    return messages
