"""Signed tracking tokens, and the clicks they record.

A click token names (item, visitor, slot) and is timestamped by its signature
(`django.core.signing`, salt `tailor.click`); `/t/<token>` accepts it for 90 days. The token
never carries a URL: a click goes only to the item's own call to action or page.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.core import signing
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from consent.purposes import ANALYTICS
from consent.selectors import allows
from content.models import ContentItem
from personalization.decisions.engine import Decision
from personalization.visitors.models import Event, Visitor
from personalization.visitors.selectors import visitor_survivor
from personalization.visitors.snapshots import snapshots_invalidate

CLICK_SALT = "tailor.click"
DECISION_SALT = "tailor.decision"
CLICK_MAX_AGE = timedelta(days=90)


def item_target(item: ContentItem) -> str:
    """Where a click on the item goes: its call to action, else its own page ('' for nowhere)."""
    url = item.cta_url or item.url
    return url if urlsplit(url).scheme.lower() in ("http", "https") else ""


@dataclass(frozen=True)
class Click:
    """What a click token names: an item shown to a visitor (None: unknown) in a slot."""

    item_id: int
    visitor_id: int | None
    slot: str


def click_token(*, item: ContentItem, visitor: Visitor | None, slot: str) -> str:
    """A signed, timestamped token for a link to `item` shown to `visitor` in `slot`."""
    payload = [item.pk, visitor.pk if visitor is not None else None, slot]
    return signing.dumps(payload, salt=CLICK_SALT, compress=True)


def click_token_read(token: str) -> Click | None:
    """The click a token names; None when its signature is bad or it is older than 90 days."""
    try:
        payload = signing.loads(token, salt=CLICK_SALT, max_age=CLICK_MAX_AGE)
    except signing.BadSignature:  # SignatureExpired included
        return None
    if not (isinstance(payload, list) and len(payload) == 3 and isinstance(payload[0], int)):
        return None
    return Click(item_id=payload[0], visitor_id=payload[1], slot=str(payload[2]))


def decision_token(decision: Decision, visitor: Visitor | None) -> str:
    """A signed, timestamped record of a decision (slot, visitor, items, rule) to send back."""
    payload = {
        "s": decision.slot,
        "v": visitor.pk if visitor is not None else None,
        "i": [item.pk for item in decision.items],
        "r": decision.rule_id,
    }
    return signing.dumps(payload, salt=DECISION_SALT, compress=True)


def decision_token_read(token: str) -> dict[str, Any] | None:
    """The decision a token records (keys s, v, i, r); None when its signature is bad."""
    try:
        return signing.loads(token, salt=DECISION_SALT, max_age=CLICK_MAX_AGE)
    except signing.BadSignature:
        return None


def _survivor(visitor_id: int) -> Visitor | None:
    """The visitor, or the profile it was merged into; None once erased."""
    visitor = Visitor.objects.filter(pk=visitor_id).first()
    return visitor_survivor(visitor) if visitor is not None else None


def click_record(*, click: Click, token: str, now: datetime | None = None) -> bool:
    """Store the click once per link, only for a visitor who allows analytics; True if stored."""
    visitor = _survivor(click.visitor_id) if click.visitor_id is not None else None
    if visitor is None or not allows(visitor, ANALYTICS):
        return False
    now = now or timezone.now()
    _, created = Event.objects.get_or_create(
        # One click per link: mail clients and people open the same link more than once.
        source=Event.SERVER, event_id="click-" + hashlib.sha256(token.encode()).hexdigest(),
        defaults={
            "visitor": visitor, "type": Event.Type.CLICK, "item_id": click.item_id,
            "properties": {"slot": click.slot}, "context": {"source": "tracked_link"},
            "occurred_at": now, "received_at": now,
        },
    )  # fmt: skip
    if created:
        Visitor.objects.filter(pk=visitor.pk).update(last_seen=Greatest(F("last_seen"), Value(now)))
        snapshots_invalidate([visitor.pk])
    return created


def click_follow(*, token: str, record: bool = True) -> str | None:
    """The item's own URL for a valid token (None: bad, expired, or nowhere to go).

    Records the click when `record` is true. The URL comes from the item, never from the token.
    """
    click = click_token_read(token)
    if click is None:
        return None
    item = ContentItem.objects.filter(pk=click.item_id).only("url", "cta_url").first()
    target = item_target(item) if item is not None else ""
    if not target:
        return None
    if record:
        click_record(click=click, token=token)
    return target
