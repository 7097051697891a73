"""Resolving the data subject behind a visitor id: the visitor, its merged profiles, its user."""

from django.apps import apps
from django.db import models

from consent.registry import VISITOR, Subject, subject_resolver
from consent.services import proof_hash


def subject_resolve(identifier: str) -> Subject | None:
    """The subject named by an external id or cookie id (of any of its merged profiles)."""
    visitor = subject_resolver().resolve(identifier) if identifier else None
    return subject_of(visitor) if visitor is not None else None


def subject_of(visitor: models.Model) -> Subject:
    """A visitor with every profile merged into it, at any depth, and their user accounts."""
    merged_ids = subject_resolver().merged_ids
    ids = [visitor.pk]
    frontier = [visitor.pk]
    while frontier:
        frontier = [pk for pk in merged_ids(frontier) if pk not in ids]
        ids += frontier
    rows = (
        apps.get_model(VISITOR)
        .objects.filter(pk__in=ids)
        .values_list("pk", "uid", "external_id", "user_id")
    )
    by_pk = {pk: (str(uid), external_id, user_id) for pk, uid, external_id, user_id in rows}
    identifiers: list[str] = []
    for pk in ids:
        uid, external_id, _ = by_pk[pk]
        identifiers += [external_id, uid] if external_id else [uid]
    return Subject(
        visitor_ids=tuple(ids),
        user_ids=tuple(dict.fromkeys(u for _, _, u in by_pk.values() if u is not None)),
        visitor_hashes={pk: proof_hash(by_pk[pk][1] or by_pk[pk][0]) for pk in ids},
        hashes=tuple(proof_hash(i) for i in identifiers),
        identifiers=tuple(identifiers),
    )
