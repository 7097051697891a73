"""Writes of consent: an append-only log whose latest record per purpose is the current state."""

import hashlib
import hmac
from collections.abc import Iterable, Mapping

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest

from config.errors import ApplicationError
from consent import registry
from consent.gdpr.withdrawal import purged_by
from consent.models import ConsentRecord, PolicyVersion, Purpose
from consent.selectors import consent_states, state_cache_key


class ConsentError(ApplicationError):
    pass


def proof_hash(value: str) -> str:
    """A salted hash that proves a value without storing it (pseudonymous proof of consent)."""
    if not value:
        return ""
    key = settings.TAILOR_CONSENT_PROOF_SALT.encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def _client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "")


@transaction.atomic
def consent_record(
    *,
    visitor,
    choices: Mapping[str, bool],
    source: str,
    request: HttpRequest | None = None,
) -> list[ConsentRecord]:
    """Append one record per purpose in `choices` (purpose key → granted).

    A withdrawal then deletes, in a task after commit, the visitor's data kept only for the
    purposes they refuse now (`consent.gdpr.withdrawal`).
    """
    known = {p.key: p for p in Purpose.objects.filter(key__in=list(choices))}
    unknown = sorted(set(choices) - set(known))
    if unknown:
        raise ConsentError(
            f"unknown purpose {', '.join(unknown)}",
            {"purposes": [f"unknown purpose {key!r}" for key in unknown]},
        )
    if source not in ConsentRecord.Source.values:
        raise ConsentError(f"unknown consent source {source!r}", {"source": [source]})
    policy = PolicyVersion.objects.order_by("-version").first()
    ip_hash = proof_hash(_client_ip(request)) if request else ""
    ua_hash = proof_hash(request.META.get("HTTP_USER_AGENT", "")) if request else ""
    records = ConsentRecord.objects.bulk_create(
        ConsentRecord(
            visitor=visitor, purpose=known[key], granted=bool(granted), policy=policy,
            policy_hash=policy.text_hash if policy else "", source=source,
            ip_hash=ip_hash, user_agent_hash=ua_hash,
        )
        for key, granted in choices.items()
        if not known[key].is_required
    )  # fmt: skip
    visitor.__dict__.pop("_tailor_consent_state", None)  # the state this object remembered
    stale = [state_cache_key(visitor.pk), *registry.consent_cache_keys([visitor.pk])]
    transaction.on_commit(lambda: cache.delete_many(stale))
    withdrawn = [key for key, granted in choices.items() if not granted]
    if withdrawn and purged_by(withdrawn):
        # Imported here: the tasks module imports the GDPR services, which import this one.
        from consent.tasks import purge_withdrawn_data

        visitor_id = visitor.pk
        transaction.on_commit(lambda: purge_withdrawn_data.delay(visitor_id=visitor_id))
    return records


GRANT_BATCH_SIZE = 5000


def purposes_for_grant(keys: Iterable[str]) -> list[Purpose]:
    """The purposes named by `keys`; ConsentError names any unknown one."""
    keys = list(dict.fromkeys(keys))
    known = {purpose.key: purpose for purpose in Purpose.objects.filter(key__in=keys)}
    unknown = [key for key in keys if key not in known]
    if unknown:
        choices = ", ".join(sorted(Purpose.objects.values_list("key", flat=True)))
        raise ConsentError(
            f"unknown purpose {', '.join(unknown)}; the purposes are {choices}",
            {"purposes": [f"unknown purpose {key!r}" for key in unknown]},
        )
    return [known[key] for key in keys]


def consent_grant_bulk(
    *, visitor_ids: Iterable[int], purposes: list[str], source: str = ConsentRecord.Source.IMPORT
) -> int:
    """Record consent to `purposes` for many visitors at once; returns the records written.

    Visitors whose current state already allows a purpose get no new record for it.
    """
    if source not in ConsentRecord.Source.values:
        raise ConsentError(f"unknown consent source {source!r}", {"source": [source]})
    ids = list(dict.fromkeys(visitor_ids))
    granted = [purpose for purpose in purposes_for_grant(purposes) if not purpose.is_required]
    if not ids or not granted:
        return 0
    policy = PolicyVersion.objects.order_by("-version").first()
    states = consent_states(ids)
    records = [
        ConsentRecord(
            visitor_id=visitor_id, purpose=purpose, granted=True, policy=policy,
            policy_hash=policy.text_hash if policy else "", source=source,
        )
        for visitor_id in ids
        for purpose in granted
        if not states[visitor_id].get(purpose.key, False)
    ]  # fmt: skip
    ConsentRecord.objects.bulk_create(records, batch_size=GRANT_BATCH_SIZE)
    changed = sorted({record.visitor_id for record in records})
    stale = [state_cache_key(pk) for pk in changed] + registry.consent_cache_keys(changed)
    if stale:
        # Now, for reads later in this transaction; after commit, for states cached meanwhile.
        cache.delete_many(stale)
        transaction.on_commit(lambda: cache.delete_many(stale))
    return len(records)
