"""A visitor's personalization snapshot: what a page needs beyond their row, in one cache read.

A personalized page needs, besides the visitor's row and features (read with the visitor, one
query) and their consent state: their segment memberships, cluster keys and scores (for the
attribute dict), the items they interacted with and the one they viewed last (recommendations
leave them out; "because you viewed" starts from it), and the current model run's list (or
their cold-start ranking). Reading them costs one query (a union of five selects; two more for
a visitor without a stored list); the snapshot keeps them
in the shared cache under the visitor's id, so that a page reads them, the consent state and
the two validity tokens in one `get_many`.

A snapshot is served only while the visitor's token and the generation it was built under
still hold (`personalization.visitors.snapshots` says which writes change them: events on
items, merges, consent, erasure; memberships, segment definitions, clustering, score and
recommendation runs). Tokens are read before the rows a snapshot is built from, so a write
that commits meanwhile leaves a snapshot that is never served. Features and the visitor's row
(sessions, traits, identity) are not in it: they come from the database with every page.
Consent is checked on every page, from its own cache entry: a withdrawal counts at once, and
a visitor without personalization consent has no snapshot built.

Nothing is stored while a transaction is open (its rows may still roll back). Cost of a miss:
that query, one cache write, and one more the first time a visitor's token is made.
"""

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

from config.sql import CompiledQuery
from consent.selectors import consent_state_remember, state_cache_key
from personalization.clustering.models import ClusterMembership
from personalization.clustering.selectors import current_clusters
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
    snapshot_key,
    snapshot_token_key,
    token_new,
)


@dataclass(frozen=True)
class Snapshot:
    """What personalizing a page reads about one visitor, beyond their row and features."""

    token: str
    generation: str
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
            cache.set(snapshot_key(self.visitor.pk), snapshot, SNAPSHOT_TTL)
        self.cached = snapshot
        return snapshot


def snapshot_read(visitor: Visitor) -> SnapshotRead:
    """The visitor's snapshot, its tokens and their consent state in one cache round trip.

    The consent state, when cached, is remembered on the visitor (`consent_state` then asks
    nothing more).
    """
    keys = {
        "snapshot": snapshot_key(visitor.pk),
        "token": snapshot_token_key(visitor.pk),
        "generation": GENERATION_KEY,
        "consent": state_cache_key(visitor.pk),
    }
    found = cache.get_many(list(keys.values()))
    got: dict[str, Any] = {name: found.get(key) for name, key in keys.items()}
    if got["consent"] is not None:
        consent_state_remember(visitor, got["consent"])
    cached = got["snapshot"]
    valid = (
        isinstance(cached, Snapshot)
        and got["token"] is not None
        and got["generation"] is not None
        and cached.token == got["token"]
        and cached.generation == got["generation"]
    )
    return SnapshotRead(visitor, cached if valid else None, got["token"], got["generation"])


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
    """Read a visitor's snapshot from the database: one query (three for a cold start)."""
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
