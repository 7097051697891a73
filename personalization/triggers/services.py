"""Firing triggers and making deliveries; endpoints' secrets; test messages and resends.

`firings_fire` takes what detection found — (trigger, visitor, facts) — and keeps only what may
fire: an active trigger inside its window, a visitor with an external id (the one id an email
system knows; the cookie id never leaves Tailor), the consent of the trigger's purpose, and a
cooldown claimed in one statement (`INSERT … ON CONFLICT DO UPDATE … WHERE` expired, returning
the claimed pairs), so two workers seeing the same change fire once. Each claimed firing
becomes one delivery per active endpoint of the trigger, its body frozen as sent on every
attempt. Cost: a fixed number of queries per batch, plus the blocks API's per batch of
recipients of each trigger naming slots.
"""

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from consent.selectors import consent_states
from personalization.delivery.blocks import blocks_batch
from personalization.triggers.models import Delivery, Trigger, TriggerCooldown, WebhookEndpoint
from personalization.triggers.selectors import trigger_definitions, triggers_cache_bump
from personalization.triggers.signing import secret_encrypt, secret_hint, secret_new
from personalization.visitors.models import Visitor

TEST_EVENT = "webhook.test"
FIRED_EVENT = "trigger.fired"
LOG_DAYS = 30  # finished deliveries and their attempt logs are kept this long
CLAIM_SQL = (
    "INSERT INTO {table} (trigger_id, visitor_id, fired_at, cooldown_until) VALUES {rows} "
    "ON CONFLICT (trigger_id, visitor_id) DO UPDATE SET fired_at = excluded.fired_at, "
    "cooldown_until = excluded.cooldown_until WHERE {table}.cooldown_until <= "
    "excluded.fired_at RETURNING trigger_id, visitor_id"
)


@dataclass(frozen=True)
class Firing:
    """A trigger's condition held for a visitor: what detection hands to `firings_fire`."""

    trigger_id: int
    visitor_id: int
    facts: dict[str, Any] = field(default_factory=dict)

    def as_task(self) -> list[Any]:
        return [self.trigger_id, self.visitor_id, self.facts]

    @classmethod
    def from_task(cls, value: Sequence[Any]) -> "Firing":
        return cls(int(value[0]), int(value[1]), dict(value[2]))


def endpoint_create(
    *, name: str, url: str, include_facts: bool = True, include_blocks: bool = True,
    rate_per_second: int = 20,
) -> tuple[WebhookEndpoint, str]:  # fmt: skip
    """A new endpoint with a new secret; the secret is returned once, never stored readable."""
    endpoint = WebhookEndpoint(
        name=name, url=url, include_facts=include_facts, include_blocks=include_blocks,
        rate_per_second=rate_per_second,
    )  # fmt: skip
    secret = endpoint_secret_set(endpoint=endpoint)
    endpoint.full_clean()
    endpoint.save()
    triggers_cache_bump()
    return endpoint, secret


def endpoint_secret_set(*, endpoint: WebhookEndpoint, secret: str | None = None) -> str:
    """Give the endpoint a new secret (not saved); returns it, to be shown once."""
    secret = secret or secret_new()
    endpoint.secret_encrypted = secret_encrypt(secret)
    endpoint.secret_hint = secret_hint(secret)
    return secret


def endpoint_secret_rotate(*, endpoint: WebhookEndpoint) -> str:
    """A new secret for the endpoint from now on; returns it, to be shown once."""
    secret = endpoint_secret_set(endpoint=endpoint)
    endpoint.save(update_fields=["secret_encrypted", "secret_hint"])
    return secret


def _claimed(pairs: list[tuple[int, int, timedelta]], now: datetime) -> set[tuple[int, int]]:
    """Claim each (trigger, visitor)'s cooldown; the pairs whose cooldown was free."""
    if not pairs:
        return set()
    rows = ", ".join(["(%s, %s, %s, %s)"] * len(pairs))
    params: list[Any] = []
    for trigger_id, visitor_id, cooldown in pairs:
        params += [trigger_id, visitor_id, now, now + cooldown]
    # The table name is the model's own; every value is a parameter.
    sql = CLAIM_SQL.format(table=TriggerCooldown._meta.db_table, rows=rows)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {(int(t), int(v)) for t, v in cursor.fetchall()}


def _eligible(firings: Iterable[Firing], now: datetime) -> tuple[list[Firing], dict[int, Visitor]]:
    """The firings of active triggers for known visitors who allow the trigger's purpose."""
    definitions = trigger_definitions().by_id
    wanted = [
        f for f in firings
        if (d := definitions.get(f.trigger_id)) is not None and d.active_at(now)
    ]  # fmt: skip
    visitors = {
        v.pk: v
        for v in Visitor.objects.filter(
            pk__in={f.visitor_id for f in wanted}, external_id__isnull=False,
            merged_into__isnull=True,
        ).only("pk", "uid", "external_id")
    }  # fmt: skip
    states = consent_states(visitors) if visitors else {}
    kept, seen = [], set()
    for firing in wanted:
        purpose = definitions[firing.trigger_id].purpose
        pair = (firing.trigger_id, firing.visitor_id)
        allowed = firing.visitor_id in visitors and states[firing.visitor_id].get(purpose, False)
        if allowed and pair not in seen:  # one batch names a pair once: the first facts win
            seen.add(pair)
            kept.append(firing)
    return kept, visitors


def link_base() -> str:
    """The prefix of tracked links in payloads: `TAILOR_TRACKING_BASE_URL` + `/t/`."""
    path = reverse("click", kwargs={"token": "-"})[:-1]
    return settings.TAILOR_TRACKING_BASE_URL.rstrip("/") + path


def _blocks(trigger: Trigger, visitors: list[Visitor], now: datetime) -> dict[int, dict]:
    """Visitor id → {slot: block} as the email blocks API gives them."""
    slots = [slot.key for slot in trigger.slots.all()]
    if not slots or not visitors:
        return {}
    recipients = [v.external_id for v in visitors]
    results = blocks_batch(slots=slots, recipients=recipients, link_base=link_base(), now=now)
    return {
        v.pk: {slot: vars(block) for slot, block in result.blocks.items()}
        for v, result in zip(visitors, results, strict=True)
    }


def payload_body(
    *, event_type: str, now: datetime, trigger: Trigger | None, visitor: Visitor | None,
    facts: dict[str, Any], blocks: dict[str, Any] | None, endpoint: WebhookEndpoint,
) -> str:  # fmt: skip
    """The JSON sent: only what the endpoint is set to receive."""
    data: dict[str, Any] = {}
    if trigger is not None:
        data["trigger"] = {"key": trigger.key, "name": trigger.name, "kind": trigger.kind}
    if visitor is not None:
        data["visitor"] = {"external_id": visitor.external_id}
    if endpoint.include_facts:
        data["facts"] = facts
    if endpoint.include_blocks and blocks is not None:
        data["blocks"] = blocks
    envelope = {"type": event_type, "timestamp": now.isoformat(), "data": data}
    return json.dumps(envelope, separators=(",", ":"), sort_keys=True, default=str)


def _give_up_at(now: datetime) -> datetime:
    return now + timedelta(hours=settings.TAILOR_WEBHOOK_RETRY_HOURS)


def firings_fire(*, firings: Iterable[Firing], now: datetime | None = None) -> list[int]:
    """Fire what may fire (see the module docstring); returns the new deliveries' ids."""
    now = now or timezone.now()
    kept, visitors = _eligible(firings, now)
    if not kept:
        return []
    definitions = trigger_definitions().by_id
    triggers = {
        t.pk: t
        for t in Trigger.objects.filter(pk__in={f.trigger_id for f in kept}).prefetch_related(
            "slots", "endpoints"
        )
    }
    with transaction.atomic():
        claimed = _claimed(
            [(f.trigger_id, f.visitor_id, definitions[f.trigger_id].cooldown) for f in kept], now
        )
        fired = [f for f in kept if (f.trigger_id, f.visitor_id) in claimed]
        by_trigger: defaultdict[int, list[Firing]] = defaultdict(list)
        for firing in fired:
            by_trigger[firing.trigger_id].append(firing)
        deliveries = []
        for trigger_id, group in by_trigger.items():
            trigger = triggers[trigger_id]
            endpoints = [e for e in trigger.endpoints.all() if e.is_active]
            wants_blocks = any(e.include_blocks for e in endpoints)
            people = [visitors[f.visitor_id] for f in group]
            blocks = _blocks(trigger, people, now) if wants_blocks else {}
            for firing in group:
                visitor = visitors[firing.visitor_id]
                for endpoint in endpoints:
                    body = payload_body(
                        event_type=FIRED_EVENT, now=now, trigger=trigger, visitor=visitor,
                        facts=firing.facts, blocks=blocks.get(visitor.pk), endpoint=endpoint,
                    )  # fmt: skip
                    deliveries.append(
                        Delivery(
                            endpoint=endpoint, trigger=trigger, visitor=visitor, body=body,
                            event_type=FIRED_EVENT, created_at=now, next_attempt_at=now,
                            give_up_at=_give_up_at(now),
                        )
                    )  # fmt: skip
        Delivery.objects.bulk_create(deliveries)
    return [d.pk for d in deliveries]


def delivery_test_create(*, endpoint: WebhookEndpoint, now: datetime | None = None) -> Delivery:
    """A test message to the endpoint: no visitor, no trigger, the same signing."""
    now = now or timezone.now()
    body = payload_body(
        event_type=TEST_EVENT, now=now, trigger=None, visitor=None,
        facts={"message": "A test message from Tailor."}, blocks=None, endpoint=endpoint,
    )  # fmt: skip
    return Delivery.objects.create(
        endpoint=endpoint, body=body, event_type=TEST_EVENT, created_at=now,
        next_attempt_at=now, give_up_at=_give_up_at(now),
    )  # fmt: skip


def deliveries_resend(*, delivery_ids: Iterable[int], now: datetime | None = None) -> list[int]:
    """Send finished deliveries again, same id and body (receivers de-duplicate by the id)."""
    now = now or timezone.now()
    ids = list(
        Delivery.objects.filter(
            pk__in=list(delivery_ids),
            status__in=[Delivery.Status.SUCCEEDED, Delivery.Status.FAILED],
        ).values_list("pk", flat=True)
    )
    Delivery.objects.filter(pk__in=ids).update(
        status=Delivery.Status.PENDING, next_attempt_at=now, give_up_at=_give_up_at(now),
        finished_at=None, claimed_until=None,
    )  # fmt: skip
    return ids


def deliveries_expire(*, now: datetime | None = None) -> int:
    """Delete finished deliveries (and their attempt logs) older than LOG_DAYS."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=LOG_DAYS)
    return Delivery.objects.filter(
        created_at__lt=cutoff, status__in=[Delivery.Status.SUCCEEDED, Delivery.Status.FAILED]
    ).delete()[0]
