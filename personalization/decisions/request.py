"""Personalization for one request: `request.tailor`, everything computed once and never raising.

`VisitorMiddleware` puts a `RequestState` on every page request; template tags, the context
processor, the preview toolbar and the views read it. The visitor's attributes, the request
context, its consent state, the variations staff force and the holdout arm are each computed at
most once, when first needed. What the page shows is noted here as it renders — decisions for
the toolbar, impressions for frequency caps, exposures for experiments — and written once, in
bulk, when the response is done (`flush`). A staff preview (`preview_start`) shows the page as
another visitor sees it and records nothing at all.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime
from functools import cached_property
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from consent.purposes import PERSONALIZATION
from consent.request import request_allows, request_consent_state
from personalization.decisions import registry
from personalization.decisions.attributes import visitor_attributes
from personalization.decisions.engine import Decision, decide
from personalization.decisions.snapshot import SnapshotRead, snapshot_read, snapshot_remember
from personalization.visitors.context import request_context
from personalization.visitors.models import Visitor
from personalization.visitors.services import impressions_record

logger = logging.getLogger(__name__)

Row = tuple[int, int, int]


def forced_variations(request: HttpRequest) -> dict[str, int]:
    """`?<test key>=<variation number>` parameters, for staff only (QA of a variation).

    Only plain ASCII digits count, as in GrowthBook's SDKs; whether the number names a
    variation is the override's to check. Reading `request.user` may cost a session lookup, so
    a request without a query string never asks.
    """
    if not request.GET:
        return {}
    user = getattr(request, "user", None)
    if user is None or not (user.is_authenticated and user.is_staff):
        return {}
    forced = {}
    for key in request.GET:
        raw = request.GET.getlist(key)[0]
        if raw.isascii() and raw.isdigit() and len(raw) < 10:
            forced[key] = int(raw)
    return forced


class RequestState:
    """What personalization knows about one request and what its page has shown."""

    def __init__(self, request: HttpRequest, *, context: dict[str, Any] | None = None) -> None:
        self.request = request
        self.preview: Any = None  # what a staff preview shows the page as; nothing is recorded
        self.set_cookie = False  # the response sets the visitor cookie (a new profile)
        self.forget_cookie = False  # the response deletes it (a logout, another user's profile)
        self.item: Any = None  # the content item the page is about (its page view names it)
        self.decisions: list[Decision] = []
        self.impressions: list[tuple[int, int, str]] = []
        self.pending: defaultdict[str, set[Row]] = defaultdict(set)
        self.read: SnapshotRead | None = None  # the visitor's snapshot, when identified by it
        if context is not None:
            self.__dict__["context"] = context

    @property
    def records(self) -> bool:
        """Whether what this page shows is recorded (never during a preview)."""
        return self.preview is None

    def preview_start(
        self,
        preview: Any,
        *,
        visitor: Visitor | None,
        context: dict[str, Any],
        attributes: dict[str, Any] | None = None,
    ) -> None:
        """Show this request as `visitor` sees it with `context`, and record nothing.

        `attributes`: a made-up visitor's, used as they are (no holdout: a made-up visitor is
        personalized); without them the visitor's own are built from their stored data.
        """
        self.preview = preview
        self.request.visitor = visitor
        self.__dict__["context"] = context
        if attributes is not None:
            self.__dict__["attributes"] = attributes
            self.__dict__["holdout"] = None

    @property
    def visitor(self) -> Visitor | None:
        """The request's visitor: `request.visitor`, set by the middleware, login and consent."""
        return getattr(self.request, "visitor", None)

    @cached_property
    def context(self) -> dict[str, Any]:
        """Device, browser, campaign, country, local time: no database access."""
        return request_context(self.request)

    @cached_property
    def attributes(self) -> dict[str, Any] | None:
        """The attribute dict of the visitor (None: no visitor, or no personalization consent).

        Their snapshot and consent state come in one cache read (`decisions.snapshot`); the
        snapshot also answers the page's recommendations and "because you viewed".
        """
        visitor = self.visitor
        if visitor is None:
            return None
        read = self.read if self.read is not None and self.read.visitor is visitor else None
        if read is None and visitor.pk is not None:
            read = snapshot_read(visitor)
        if not request_allows(self.request, PERSONALIZATION):
            return None
        consent = request_consent_state(self.request)
        snapshot = read.snapshot() if read is not None else None
        if snapshot is not None:
            snapshot_remember(visitor, snapshot)
        return visitor_attributes(visitor, dict(self.context), consent=consent, snapshot=snapshot)

    @cached_property
    def forced(self) -> dict[str, int]:
        return forced_variations(self.request)

    @cached_property
    def holdout(self) -> registry.Arm | None:
        """The visitor's arm in the personalization holdout, assigned once per request."""
        attributes = self.attributes
        if attributes is None:
            return None
        return registry.holdout_assign(
            visitor=self.visitor, attributes=attributes, now=timezone.now()
        )

    @property
    def exposures(self) -> set[Row]:
        """Every exposure noted so far, whichever override made it."""
        return set().union(*self.pending.values())

    def note(self, source: str, rows: tuple[Row, ...]) -> None:
        """Remember exposures of what this response shows, to be recorded when it is done."""
        if rows:
            self.pending[source].update(rows)

    def decide(self, slot_key: str, now: datetime | None = None) -> Decision:
        """The decision for a slot on this page (see `decide`); never raises."""
        try:
            attributes = self.attributes
            holdout = self.holdout if attributes is not None else None
        except Exception:  # the page edge: personalization must not break the page
            logger.exception("Could not build attributes for slot %r", slot_key)
            attributes = holdout = None
        visitor = self.visitor if attributes is not None else None
        decision = decide(
            slot_key, visitor, attributes=attributes, forced=self.forced, holdout=holdout, now=now
        )
        self.decisions.append(decision)
        if visitor is not None:  # what a consenting visitor was shown, for caps and insights
            counts = not decision.is_default and decision.capped
            self.impressions.extend(
                (visitor.pk, item.pk, decision.slot, decision.rule_id, decision.reason, counts)
                for item in decision.items
            )
        return decision

    def in_segment(self, key: str) -> bool:
        """Whether the visitor is in segment `key` (False without consent)."""
        attributes = self.attributes
        return attributes is not None and key in attributes["segments"]

    def in_holdout(self) -> bool:
        """Whether the visitor is in the holdout's control group: no personalized parts then.

        For personalized parts of a page that are not slots (recommendation rails, segment
        blocks). Notes the holdout exposure either way.
        """
        arm = self.holdout
        if arm is None:
            return False
        self.note(arm.source, arm.exposures)
        return arm.in_control

    def variation(self, key: str) -> str | None:
        """The variation of test `key` a template shows (the control when not enrolled).

        None for a test that does not exist. The exposure is noted: the tag renders it.
        """
        arm = registry.template_variation(
            key=key, visitor=self.visitor, attributes=self.attributes, forced=self.forced,
            holdout=self.holdout, now=timezone.now(),
        )  # fmt: skip
        if arm is None:
            return registry.control_key(key)
        self.note(arm.source, arm.exposures)
        return arm.variation

    def flush(self) -> None:
        """Write what the response showed: impressions and exposures, in bulk, once."""
        if not self.records:
            self.impressions, self.pending = [], defaultdict(set)
            return
        if self.impressions:
            impressions_record(rows=self.impressions)
            self.impressions = []
        if self.pending:
            registry.exposures_record(self.pending)
            self.pending = defaultdict(set)


def request_state(request: HttpRequest) -> RequestState:
    """`request.tailor`, made on first use for a request the middleware did not see."""
    state = getattr(request, "tailor", None)
    if state is None:
        state = RequestState(request)
        request.tailor = state
    return state
