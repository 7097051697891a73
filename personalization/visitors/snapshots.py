"""When a visitor's personalization snapshot goes stale: the keys that say so, and their writers.

A personalized page reads what it needs of a visitor beyond their row — segment memberships,
clusters, scores, the items they interacted with, the current model run's list — from one
cached snapshot (`personalization.decisions.snapshot`). A snapshot is served only while two
tokens in the shared cache still hold the values it was built under:

* the visitor's token (`snapshot_token_key`), deleted by every write that changes what one
  visitor's snapshot holds: events on items (ingest, import, page views of items, clicks), a
  profile merge, consent changes, erasure (`snapshots_invalidate`);
* the generation (`GENERATION_KEY`), replaced by every write that changes many visitors' at
  once: segment memberships and definitions, a clustering, score or recommendation run
  becoming current (`snapshots_invalidate_all`).

Writers change the token now and again after their transaction commits: a reader that built a
snapshot from the rows before the commit stored it under a token that no longer holds. The
tokens live here, at the bottom of personalization, so that every package can invalidate
without importing the decision layer that reads them.
"""

import logging
import uuid
from collections.abc import Iterable

from django.core.cache import cache
from django.db import connection, transaction

from consent.services import proof_hash

logger = logging.getLogger(__name__)

GENERATION_KEY = "tailor:snapshot:generation"
# A token outlives the snapshots stored under it: a missing token only costs a rebuild.
SNAPSHOT_TTL = 3600
TOKEN_TTL = 2 * SNAPSHOT_TTL


def snapshot_key(visitor_id: int) -> str:
    return f"tailor:snapshot:v2:{visitor_id}"


def snapshot_uid_key(uid_hash: str) -> str:
    """The key naming which visitor id a cookie id's snapshot is stored under.

    Keyed by the cookie id's salted hash (`cookie_id_hash`, as erasure requests know it), so
    that erasure finds the entry without the cookie id, and the cache holds no cookie id.
    """
    return f"tailor:snapshot:uid:{uid_hash}"


def cookie_id_hash(uid: uuid.UUID) -> str:
    return proof_hash(str(uid))


def snapshot_token_key(visitor_id: int) -> str:
    return f"tailor:snapshot:token:{visitor_id}"


def snapshot_cache_keys(visitor_ids: Iterable[int], id_hashes: Iterable[str] = ()) -> list[str]:
    """Every cache key of these visitors' snapshots (erasure deletes them).

    `id_hashes`: the salted hashes of their cookie ids (`cookie_id_hash`), whose entries say
    which visitor id a cookie's snapshot is under.
    """
    keys = [key for pk in visitor_ids for key in (snapshot_key(pk), snapshot_token_key(pk))]
    return keys + [snapshot_uid_key(digest) for digest in id_hashes]


def token_new() -> str:
    return uuid.uuid4().hex


def _quietly(action, what: str) -> None:
    try:
        action()
    except Exception:  # the cache is down: the write must go through; tokens expire anyway
        logger.exception("Could not invalidate %s", what)


def _now_and_on_commit(action, what: str) -> None:
    """Run `action` now and, inside a transaction, again once it commits: a snapshot built from
    rows read in between would otherwise outlive the write. Outside one, once is enough."""
    _quietly(action, what)
    if connection.in_atomic_block:
        transaction.on_commit(lambda: _quietly(action, what))


def snapshots_invalidate(visitor_ids: Iterable[int]) -> None:
    """Make these visitors' snapshots stale, now and again once the transaction commits."""
    keys = sorted({snapshot_token_key(pk) for pk in visitor_ids if pk is not None})
    if keys:
        _now_and_on_commit(lambda: cache.delete_many(keys), "visitor snapshots")


def snapshots_invalidate_all(**kwargs) -> None:
    """Make every visitor's snapshot stale, now and again once the transaction commits.

    Takes anything, so that it can be a signal receiver too.
    """

    def replace() -> None:
        cache.set(GENERATION_KEY, token_new(), timeout=None)

    _now_and_on_commit(replace, "all visitor snapshots")
