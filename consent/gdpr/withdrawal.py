"""Withdrawal: data kept only for purposes a visitor no longer allows is deleted (Art. 17(1)(b)).

Registered models name the purposes their rows serve (`consent.registry`: events serve
analytics; features, impressions, exposures, recommendations and cluster memberships serve
personalization). When a visitor withdraws consent, every model whose purposes the visitor now
all refuses loses that visitor's rows, merged profiles included; models without purposes, and
those anonymized rather than deleted, wait for erasure or retention. The purge runs after the
withdrawal commits, in a task, in batches.

Cost: per model one indexed select of at most `batch_size` pks and one delete per batch, each in
its own short transaction; memory holds one batch of pks.
"""

from collections.abc import Iterable

from django.core.cache import cache
from django.db import transaction

from consent.registry import (
    DELETE,
    PersonalData,
    Subject,
    consent_cache_keys,
    declarations,
    subject_resolver,
)
from consent.selectors import consent_states

PURGE_BATCH_SIZE = 5_000


def purged_by(withdrawn: Iterable[str]) -> list[PersonalData]:
    """The registered models that a withdrawal of these purposes may empty for a visitor."""
    keys = set(withdrawn)
    return [d for d in declarations() if d.erase == DELETE and keys & set(d.purposes)]


def withdrawn_data_purge(*, visitor_id: int, batch_size: int = PURGE_BATCH_SIZE) -> dict[str, int]:
    """Delete the visitor's rows of models whose every purpose they refuse now; rows per model."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    state = consent_states([visitor_id])[visitor_id]
    ids = (visitor_id, *subject_resolver().merged_ids([visitor_id]))
    subject = Subject(visitor_ids=ids)
    deleted: dict[str, int] = {}
    for declaration in declarations():
        purposes = declaration.purposes
        if declaration.erase != DELETE or not purposes or any(state.get(p) for p in purposes):
            continue
        label = declaration.model._meta.label
        while True:
            with transaction.atomic():
                pks = list(
                    declaration.queryset(subject)
                    .order_by()
                    .values_list("pk", flat=True)[:batch_size]
                )
                if not pks:
                    break
                _, per_model = declaration.model._base_manager.filter(pk__in=pks).delete()
            deleted[label] = deleted.get(label, 0) + per_model.get(label, 0)
    if any(deleted.values()):  # what was built from the rows deleted (snapshots) goes too
        cache.delete_many(consent_cache_keys(ids))
    return deleted
