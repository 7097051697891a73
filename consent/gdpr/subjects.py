"""Resolving the data subject behind a visitor id: the visitor, its merged profiles, its user."""

from consent.registry import Subject
from consent.services import proof_hash
from personalization.visitors.models import Visitor
from personalization.visitors.selectors import visitor_resolve


def subject_resolve(identifier: str) -> Subject | None:
    """The subject named by an external id or cookie id (of any of its merged profiles)."""
    visitor = visitor_resolve(identifier) if identifier else None
    return subject_of(visitor) if visitor is not None else None


def subject_of(visitor: Visitor) -> Subject:
    """A visitor with every profile merged into it, at any depth, and their user accounts."""
    ids = [visitor.pk]
    frontier = [visitor.pk]
    while frontier:
        frontier = list(
            Visitor.objects.filter(merged_into_id__in=frontier)
            .exclude(pk__in=ids)
            .values_list("pk", flat=True)
        )
        ids += frontier
    rows = Visitor.objects.filter(pk__in=ids).values_list("pk", "uid", "external_id", "user_id")
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
