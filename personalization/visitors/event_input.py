"""Checking one event of `POST /api/v1/events` without building a DRF serializer run per event.

DRF's field-by-field validation (run_validation, validators, error collection) costs more per
event than storing it. Almost every event a client sends is well formed, so `event_plain`
recognises the plain, valid shapes with a few type tests and precompiled patterns and returns
exactly what `EventSerializer` would; anything else (a wrong type, a bad value, a number given
as a float, text with spaces around it) returns None and goes through the serializer, which
stays the one source of error messages. The accepted set is a subset of what the serializer
accepts; tests check the two agree on every shape they share.
"""

import json
import re
from datetime import datetime
from decimal import Decimal
from typing import Any

from personalization.visitors.events import occurred_at_parse

__all__ = ["event_plain"]

MAX_PROPERTIES_BYTES = 10 * 1024
# Lengths follow EventSerializer: event_id 100, visitor_id 200, type 50, item_id 200.
_TEXT_LIMITS = (("event_id", 100), ("visitor_id", 200), ("item_id", 200))
_SLUG = re.compile(r"[-a-zA-Z0-9_]{1,50}")
# NUL and lone surrogates: the serializer refuses them with their own messages.
_REFUSED_CHARACTERS = re.compile("[\x00\ud800-\udfff]")
# At most 10 digits before the point and 4 after: within max_digits=14, decimal_places=4.
_PLAIN_DECIMAL = re.compile(r"-?\d{1,10}(\.\d{1,4})?")
_QUANTUM = Decimal("0.0001")
_INT_LIMIT = 10**10


def _plain_text(value: Any, limit: int) -> bool:
    return (
        type(value) is str
        and 0 < len(value) <= limit
        and value == value.strip()
        and _REFUSED_CHARACTERS.search(value) is None
    )


def _plain_value(value: Any) -> Decimal | bool | None:
    """The decimal a plain value stands for (None for null); False when it is not plain."""
    if value is None:
        return None
    if type(value) is str and _PLAIN_DECIMAL.fullmatch(value):
        return Decimal(value).quantize(_QUANTUM)
    if type(value) is int and -_INT_LIMIT < value < _INT_LIMIT:
        return Decimal(value).quantize(_QUANTUM)
    return False


def event_plain(data: dict[str, Any], *, now: datetime) -> dict[str, Any] | None:
    """The validated event when `data` is a plain valid one, else None (ask the serializer)."""
    event: dict[str, Any] = {}
    for name, limit in _TEXT_LIMITS:
        if name in data:
            value = data[name]
            if not (_plain_text(value, limit) or (name == "item_id" and value is None)):
                return None
            event[name] = value
    kind = data.get("type")
    if type(kind) is not str or not _SLUG.fullmatch(kind):
        return None
    event["type"] = kind
    if "value" in data:
        value = _plain_value(data["value"])
        if value is False:
            return None
        event["value"] = value
    properties = data.get("properties", {})
    if type(properties) is not dict:
        return None
    if properties:
        size = len(json.dumps(properties, separators=(",", ":")).encode())
        if size > MAX_PROPERTIES_BYTES:
            return None
    event["properties"] = properties
    if "occurred_at" in data:
        try:
            event["occurred_at"] = occurred_at_parse(data["occurred_at"], now=now)
        except ValueError:
            return None
    else:
        event["occurred_at"] = now
    return event
