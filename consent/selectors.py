"""The one place every part of Tailor asks whether a visitor allows a purpose."""

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from config.versioning import SharedVersion
from consent.models import ConsentRecord, PolicyVersion, Purpose

STATE_TTL = 3600


def state_cache_key(visitor_id: int) -> str:
    return f"tailor:consent:v1:{visitor_id}"


# Purposes and policy versions change rarely and are read on every request: each process keeps
# them in memory, reloaded when an edit bumps the shared version (see `config.versioning`).
CONSENT_CONFIG_VERSION = SharedVersion("tailor:consent:config")
_config: dict[str, Any] = {"version": None}


def _consent_config() -> dict[str, Any]:
    version = CONSENT_CONFIG_VERSION.current()
    if _config["version"] != version:
        fresh = (
            PolicyVersion.objects.filter(requires_fresh_consent=True)
            .order_by("-version")
            .values_list("version", flat=True)
            .first()
        )
        latest = PolicyVersion.objects.order_by("-version").values_list("version", flat=True)
        _config.update(
            version=version,
            purposes=tuple(Purpose.objects.all()),
            fresh_since=fresh or 0,
            policy_version=latest.first(),
        )
    return _config


def consent_config_clear() -> None:
    """Forget this process's purposes and policies (tests whose rows were rolled back)."""
    _config["version"] = None


def purposes() -> list[Purpose]:
    """Every purpose, in banner order."""
    return list(_consent_config()["purposes"])


def policy_current_version() -> int | None:
    """The version number of the policy text in force (None before any is published)."""
    return _consent_config()["policy_version"]


def default_state(all_purposes: Iterable[Purpose]) -> dict[str, bool]:
    """What a visitor without any record allows: required purposes, plus the rest under opt-out."""
    opt_out = settings.TAILOR_CONSENT_MODE == "opt-out"
    return {p.key: p.is_required or opt_out for p in all_purposes}


def policy_fresh_since() -> int:
    """The policy version from which consent counts (later versions may demand fresh consent)."""
    return _consent_config()["fresh_since"]


def consent_states(visitor_ids: Iterable[int]) -> dict[int, dict[str, bool]]:
    """Purpose key → allowed for each visitor, from the latest record per purpose; cached."""
    ids = list(dict.fromkeys(visitor_ids))
    cached = cache.get_many([state_cache_key(i) for i in ids])
    states = {i: cached[state_cache_key(i)] for i in ids if state_cache_key(i) in cached}
    missing = [i for i in ids if i not in states]
    if missing:
        all_purposes = purposes()
        required = {p.key for p in all_purposes if p.is_required}
        fresh_since = policy_fresh_since()
        computed = {i: default_state(all_purposes) for i in missing}
        seen: set[tuple[int, str]] = set()
        records = (
            ConsentRecord.objects.filter(visitor_id__in=missing)
            .order_by("visitor_id", "purpose__key", "-created_at", "-pk")
            .values_list("visitor_id", "purpose__key", "granted", "policy__version")
        )
        for visitor_id, key, granted, version in records:
            if (visitor_id, key) in seen or key in required:
                continue
            seen.add((visitor_id, key))
            # A grant under a policy older than one that demands fresh consent no longer counts.
            computed[visitor_id][key] = granted and (version or 0) >= fresh_since
        if not connection.in_atomic_block:
            # Inside a transaction the states may never be committed: a rollback would leave them
            # cached. Reading the cache there is fine.
            cache.set_many({state_cache_key(i): s for i, s in computed.items()}, STATE_TTL)
        states.update(computed)
    return states


def consent_state(visitor) -> dict[str, bool]:
    """Purpose key → allowed for one visitor (None: a visitor not identified yet)."""
    if visitor is None or visitor.pk is None:
        return default_state(purposes())
    # A page asks several times; the visitor object lives for one request, so remember it there.
    state = getattr(visitor, "_tailor_consent_state", None)
    if state is None:
        state = consent_states([visitor.pk])[visitor.pk]
        visitor._tailor_consent_state = state
    return state


def consent_state_remember(visitor, state: dict[str, bool]) -> None:
    """Have `consent_state(visitor)` answer `state`, read from its cache entry by the caller."""
    visitor._tailor_consent_state = state


def allows(visitor, purpose: str) -> bool:
    """Whether `visitor` allows `purpose` now; an unknown purpose is never allowed."""
    return consent_state(visitor).get(purpose, False)


def allows_sql(purpose: str, visitor_id_column: str) -> tuple[str, dict[str, Any]]:
    """An SQL boolean: whether the visitor whose id is in `visitor_id_column` allows `purpose`.

    The same rule as `consent_states`, worked out where the rows are, for statements that
    handle thousands of visitors at once: the latest record counts (a grant only under a policy
    from the one that demands fresh consent on), a visitor without a record gets the default,
    a required purpose is always allowed and an unknown one never. Returns the condition and
    its parameters (named `consent_*`); the column name is the caller's own SQL, never input.
    """
    found = next((p for p in purposes() if p.key == purpose), None)
    if found is None or found.is_required:
        return ("TRUE" if found is not None else "FALSE"), {}
    quote = connection.ops.quote_name
    records, policies = (quote(m._meta.db_table) for m in (ConsentRecord, PolicyVersion))
    latest = (
        f"SELECT r.granted AND COALESCE(p.version, 0) >= %(consent_fresh_since)s "  # noqa: S608
        f"FROM {records} r LEFT JOIN {policies} p ON p.id = r.policy_id "
        f"WHERE r.visitor_id = {visitor_id_column} AND r.purpose_id = %(consent_purpose)s "
        "ORDER BY r.created_at DESC, r.id DESC LIMIT 1"
    )
    params = {
        "consent_fresh_since": policy_fresh_since(),
        "consent_purpose": found.pk,
        "consent_default": default_state([found])[purpose],
    }
    return f"COALESCE(({latest}), %(consent_default)s)", params
