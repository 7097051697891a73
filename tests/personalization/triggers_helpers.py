"""What the trigger tests share: a visitor who allows everything, events sent as an API key."""

import json
from datetime import datetime
from decimal import Decimal

from django.test import TestCase
from django.utils import timezone

from personalization.triggers.selectors import triggers_cache_bump
from personalization.visitors.events import events_ingest
from tests.factories import VisitorFactory, grant

SOURCE = "api-key:1"


def consenting_visitor(external_id: str, *purposes: str):
    visitor = VisitorFactory(external_id=external_id)
    grant(visitor, *(purposes or ("analytics", "personalization", "marketing")))
    return visitor


def send_event(visitor, type: str, *, at: datetime | None = None, **fields) -> None:
    """Store one event through the ingest path, as the events API does."""
    event = {"visitor_id": visitor.external_id, "type": type, "occurred_at": at or timezone.now()}
    if "value" in fields:
        fields["value"] = Decimal(str(fields["value"]))
    with TestCase.captureOnCommitCallbacks(execute=True):
        result = events_ingest(events=[{**event, **fields}], visitor=None, source=SOURCE)
    assert result.accepted == 1, result.refused


def reload_triggers() -> None:
    """Triggers made by factories reach the per-process definitions."""
    triggers_cache_bump()


def payloads(receiver) -> list[dict]:
    return [json.loads(r.body) for r in receiver.received]
