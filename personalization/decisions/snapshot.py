"""A visitor's personalization snapshot: what a page needs beyond their row, in one cache read.

A personalized page needs the visitor's row and features, their consent state, their segment
memberships, cluster keys and scores (for the attribute dict), the items they interacted with
and the one they viewed last (recommendations leave them out; "because you viewed" starts from
it), and the current model run's list (or their cold-start ranking). Reading them costs two
queries (the row with the features, and a union of five selects; two more for a visitor
without a stored list); the snapshot keeps them in the shared cache under the visitor's id,
and a second entry, under the salted hash of the cookie id, names that id. So a page with a
valid snapshot asks the database nothing: it reads the visitor id, the snapshot, the consent
state and the two validity tokens in one cache round trip (`snapshot_identify`).

A snapshot is served only while the visitor's token and the generation it was built under
still hold (`personalization.visitors.snapshots` says which writes change them: events on
items, merges, consent, erasure; memberships, segment definitions, clustering, score and
recommendation runs; the visitor's row and features: saves, new sessions, feature runs).
Tokens are read before the rows a snapshot is built from, so a write that commits meanwhile
leaves a snapshot that is never served. Consent is checked on every page, from its own cache
entry: a withdrawal counts at once, and a visitor without personalization consent has no
snapshot built.

Nothing is stored while a transaction is open (its rows may still roll back). Cost of a miss:
that query, one cache write, and one more the first time a visitor's token is made.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Case,
    CharField,
    DateTimeField,
    F,
    FloatField,
    IntegerField,
    Max,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Cast
from django.http import HttpRequest

from config.cache_reads import PLACEHOLDER, chained_get
from config.sql import CompiledQuery
from consent.selectors import consent_state_remember, state_cache_key
from personalization.clustering.models import ClusterMembership
from personalization.clustering.selectors import current_clusters
from personalization.features.selectors import (
    Identified,
    visitor_from_row,
    visitor_identify,
    visitor_row,
    visitor_with_features,
)
from personalization.recommendations.models import Recommendation
from personalization.recommendations.selectors import (
    Ranks,
    cold_start_remember,
    stored_ranks_remember,
    visitor_cold_start_ranks,
)
from personalization.scores.models import VisitorScore
from personalization.segments.models import SegmentMembership
from personalization.visitors.models import Event, Visitor
from personalization.visitors.selectors import (
    Interactions,
    interactions_fold,
    interactions_remember,
)
from personalization.visitors.snapshots import (
    GENERATION_KEY,
    SNAPSHOT_TTL,
    TOKEN_TTL,
    cookie_id_hash,
    snapshot_key,
    snapshot_token_key,
    snapshot_uid_key,
    token_new,
)


@dataclass(frozen=True)
class Snapshot:
    """What personalizing a page reads about one visitor."""

    token: str
    generation: str
    row: tuple[Any, ...] | None  # the visitor's row and features (`features.selectors`)
    memberships: dict[int, datetime]  # segment id → since
    clusters: list[str]
    scores: dict[str, float]
    interactions: Interactions
    stored: Ranks  # the current model run's list
    cold_start: dict[int, int]  # item → rank, for a visitor without a list nor affinities


@dataclass
class SnapshotRead:
    """One visitor's cache entries, read in one round trip: the snapshot if still valid."""

    visitor: Visitor
    cached: Snapshot | None
    token: str | None
    generation: str | None

    def snapshot(self) -> Snapshot:
        """The valid cached snapshot, else one built from the database (and stored)."""
        if self.cached is not None:
            return self.cached
        token, generation = self.token, self.generation
        # Tokens first, rows after: a write committing in between makes this snapshot stale.
        if token is None:
            token = token_new()
            if not cache.add(snapshot_token_key(self.visitor.pk), token, TOKEN_TTL):
                token = None  # another request set one first: build, but do not store
        if generation is None:
            generation = token_new()
            if not cache.add(GENERATION_KEY, generation, timeout=None):
                generation = None
        snapshot = snapshot_build(self.visitor, token=token or "", generation=generation or "")
        if token and generation and not connection.in_atomic_block:
            entries: dict[str, Any] = {snapshot_key(self.visitor.pk): snapshot}
            if snapshot.row is not None and self.visitor.merged_into_id is None:
                entries[snapshot_uid_key(cookie_id_hash(self.visitor.uid))] = self.visitor.pk
            cache.set_many(entries, SNAPSHOT_TTL)
        self.cached = snapshot
        return snapshot


def _keys(visitor_id: Any) -> list[str]:
    """The cache keys a page reads for a visitor: snapshot, token, generation, consent."""
    return [
        snapshot_key(visitor_id), snapshot_token_key(visitor_id), GENERATION_KEY,
        state_cache_key(visitor_id),
    ]  # fmt: skip


def _valid(entries: list[Any]) -> Snapshot | None:
    """The snapshot among a visitor's entries (`_keys` order), if its tokens still hold."""
    cached, token, generation, _ = entries
    valid = (
        isinstance(cached, Snapshot)
        and token is not None
        and generation is not None
        and cached.token == token
        and cached.generation == generation
    )
    return cached if valid else None


def snapshot_read(visitor: Visitor) -> SnapshotRead:
    """The visitor's snapshot, its tokens and their consent state in one cache round trip.

    The consent state, when cached, is remembered on the visitor (`consent_state` then asks
    nothing more).
    """
    keys = _keys(visitor.pk)
    found = cache.get_many(keys)
    entries = [found.get(key) for key in keys]
    if entries[3] is not None:
        consent_state_remember(visitor, entries[3])
    return SnapshotRead(visitor, _valid(entries), entries[1], entries[2])


def _read_by_cookie(uid: uuid.UUID) -> SnapshotRead | None:
    """The snapshot of the visitor with this cookie id, when valid, with its visitor (or None).

    The visitor is made from the snapshot's row; a row of another cookie id (an id the
    database gave again after an erasure) is not theirs, and counts as no snapshot.
    """
    visitor_id, entries = chained_get(snapshot_uid_key(cookie_id_hash(uid)), _keys(PLACEHOLDER))
    cached = _valid(entries) if visitor_id is not None else None
    if cached is None or cached.row is None:
        return None
    visitor = visitor_from_row(cached.row)
    if visitor.uid != uid or visitor.pk != visitor_id or visitor.merged_into_id is not None:
        return None
    if entries[3] is not None:
        consent_state_remember(visitor, entries[3])
    return SnapshotRead(visitor, cached, entries[1], entries[2])


def snapshot_identify(request: HttpRequest) -> tuple[Identified, SnapshotRead | None]:
    """The request's visitor (`visitor_identify`) and, when valid, their snapshot.

    A cookie's visitor comes from their snapshot when it is valid: one cache round trip on
    Redis (`config.cache_reads`), two on other caches, and no query. Otherwise from the
    database, and the snapshot is read when the page needs it.
    """
    reads: list[SnapshotRead] = []

    def lookup(uid: uuid.UUID) -> Visitor | None:
        read = _read_by_cookie(uid)
        if read is None:
            return visitor_with_features(uid)
        reads.append(read)
        return read.visitor

    identified = visitor_identify(request, lookup=lookup)
    read = reads[0] if reads and reads[0].visitor is identified.visitor else None
    return identified, read


# The rows of a snapshot in one round trip: one branch per part, the same six columns each
# (part, id, rank, number, text, time); NULL where a part has nothing to say.
MEMBERSHIP, CLUSTER, SCORE, LISTED, INTERACTION = range(5)


def _columns(part: int, **given: Any) -> dict[str, Any]:
    empty = {
        "n_id": Cast(Value(None), IntegerField()), "n_rank": Cast(Value(None), IntegerField()),
        "n_number": Cast(Value(None), FloatField()), "n_text": Cast(Value(None), CharField()),
        "n_time": Cast(Value(None), DateTimeField()),
    }  # fmt: skip
    return {"n_part": Value(part, IntegerField()), **empty, **given}


_COLUMNS = ("n_part", "n_id", "n_rank", "n_number", "n_text", "n_time")


def _snapshot_rows(visitor_id: int) -> QuerySet:
    def part(queryset: QuerySet, number: int, **given: Any) -> QuerySet:
        return queryset.annotate(**_columns(number, **given)).values_list(*_COLUMNS)

    memberships = part(
        SegmentMembership.objects.filter(visitor_id=visitor_id), MEMBERSHIP,
        n_id=F("segment_id"), n_time=F("since"),
    )  # fmt: skip
    clusters = part(
        ClusterMembership.objects.filter(visitor_id=visitor_id, run__is_current=True), CLUSTER,
        n_id=F("cluster_id"),
    )  # fmt: skip
    scores = part(
        VisitorScore.objects.filter(visitor_id=visitor_id, run__is_current=True), SCORE,
        n_number=F("probability"), n_text=F("target"),
    )  # fmt: skip
    listed = part(
        Recommendation.objects.filter(visitor_id=visitor_id, run__is_current=True), LISTED,
        n_id=F("item_id"), n_rank=F("rank"), n_number=F("score"), n_text=F("algorithm"),
    )  # fmt: skip
    interactions = (
        Event.objects.filter(visitor_id=visitor_id, item__isnull=False)
        .values("item_id")
        .annotate(**_columns(INTERACTION, n_id=F("item_id")))
        .annotate(n_time=Max(Case(When(type=Event.Type.VIEW, then="occurred_at"))))
        .values_list(*_COLUMNS)
    )
    return memberships.union(clusters, scores, listed, interactions, all=True)


_SNAPSHOT_ROWS = CompiledQuery(_snapshot_rows)


def snapshot_build(visitor: Visitor, *, token: str, generation: str) -> Snapshot:
    """Read a visitor's snapshot from the database: two queries (four for a cold start)."""
    memberships: dict[int, datetime] = {}
    cluster_ids: list[int] = []
    scores: dict[str, float] = {}
    stored: Ranks = {}
    viewed: list[tuple[int, Any]] = []
    for part, pk, rank, number, text, moment in _SNAPSHOT_ROWS.rows(visitor.pk):
        if part == MEMBERSHIP:
            memberships[pk] = moment
        elif part == CLUSTER:
            cluster_ids.append(pk)
        elif part == SCORE:
            scores[text] = round(number, 4)
        elif part == LISTED:
            stored[pk] = (rank, number, text)
        else:
            viewed.append((pk, moment))
    keys = current_clusters().keys
    return Snapshot(
        token=token,
        generation=generation,
        row=visitor_row(visitor.uid),  # read after the tokens, as the rest
        memberships=memberships,
        clusters=list(keys.get(min(cluster_ids), ())) if cluster_ids else [],
        scores=scores,
        interactions=interactions_fold(viewed),
        stored=stored,
        # Whatever the affinities: features change without touching the snapshot.
        cold_start=visitor_cold_start_ranks(visitor=visitor, stored=stored, affinity={}),
    )


def snapshot_remember(visitor: Visitor, snapshot: Snapshot) -> None:
    """Have the visitor's interactions, list and cold-start ranking answer from `snapshot`."""
    interactions_remember(visitor, snapshot.interactions)
    stored_ranks_remember(visitor, snapshot.stored)
    cold_start_remember(visitor, snapshot.cold_start)
