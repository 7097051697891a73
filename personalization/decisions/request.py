"""Personalization for the current request: attributes built once, decisions that never raise."""

import logging
from typing import Any

from django.http import HttpRequest

from consent.request import request_allows, request_consent_state
from experiments import hooks as experiment_hooks
from personalization.decisions.attributes import visitor_attributes
from personalization.decisions.engine import Decision, decide

logger = logging.getLogger(__name__)


def request_attributes(request: HttpRequest) -> dict[str, Any] | None:
    """The attribute dict of the request's visitor, built once per request (None: no visitor)."""
    if not hasattr(request, "_tailor_attributes"):
        visitor = getattr(request, "visitor", None)
        context = getattr(request, "tailor_context", None) or {}
        request._tailor_attributes = (
            visitor_attributes(visitor, dict(context), consent=request_consent_state(request))
            if visitor is not None and request_allows(request, "personalization")
            else None
        )
    return request._tailor_attributes


def request_decide(request: HttpRequest, slot_key: str) -> Decision:
    """The decision for a slot on this page; never raises (see `decide`)."""
    try:
        attributes = request_attributes(request)
    except Exception:  # the page edge: personalization must not break the page
        logger.exception("Could not build attributes for slot %r", slot_key)
        attributes = None
    visitor = getattr(request, "visitor", None) if attributes else None
    decision = decide(slot_key, visitor, attributes=attributes)
    decision = experiment_hooks.experiment_force(request, decision)  # staff QA only
    # What the developer toolbar lists (DEBUG): every slot of the page and why it chose.
    request.__dict__.setdefault("tailor_decisions", []).append(decision)
    if visitor is not None and not decision.is_default and decision.capped:
        # Recorded once the response is done, then written in bulk (see VisitorMiddleware).
        pending = request.__dict__.setdefault("tailor_impressions", [])
        pending.extend((visitor.pk, item.pk, decision.slot) for item in decision.items)
    return decision


def request_in_segment(request: HttpRequest, key: str) -> bool:
    """Whether the request's visitor is in segment `key` (False without consent or on error)."""
    try:
        attributes = request_attributes(request)
        return attributes is not None and key in attributes["segments"]
    except Exception:  # the page edge
        logger.exception("Could not evaluate segment %r", key)
        return False
