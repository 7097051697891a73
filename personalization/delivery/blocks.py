"""Personalized blocks for email: decisions for many recipients at once, rendered once each.

Cost of `blocks_batch` for R recipients and S slots: a fixed number of queries whatever R —
the visitors (one select, and one more per level of merged profiles when a recipient names a
merged one), consent (`consent_states`: a cache read, and a select of the records it misses),
features and segment memberships (one select each, for the recipients who allow
personalization), when a slot has a frequency cap their impressions (one grouped select), and
when a slot serves recommendations, their interactions and stored lists (one select each, plus
two for the cold-start ranking of recipients with neither a list nor affinities). Slot, segment
and consent definitions, the recommendation candidates and a newest-tagged rule's items
(`decisions.candidates`) are cached per process, so every decision is made in memory. Each
distinct (slot, items) pair is rendered once, from each item's rendering at its place (rendered
once per call), with a gap for each link; a recipient's copy only fills in their signed links.
Memory: the recipients' visitors, features, memberships, interactions, lists and impression
counts, and one rendering per pair.
"""

import logging
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from django.template.loader import select_template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from consent.purposes import MARKETING, PERSONALIZATION
from consent.selectors import consent_states
from content.models import ContentItem, SlotRule
from personalization.decisions import registry
from personalization.decisions.caps import caps_prefetch
from personalization.decisions.engine import Decision, SlotDefinition, decide, slot_definition
from personalization.delivery.links import click_token, item_target
from personalization.features.models import VisitorFeatures
from personalization.recommendations.selectors import visitors_recommendations_prefetch
from personalization.rules.attributes import attributes_build
from personalization.rules.sources import attribute_sources_many
from personalization.segments.selectors import visitor_segments_many
from personalization.visitors.models import Visitor
from personalization.visitors.selectors import (
    visitor_resolve,
    visitors_interactions_prefetch,
    visitors_resolve_many,
)

logger = logging.getLogger(__name__)

UNKNOWN_VISITOR = "unknown_visitor"
NO_MARKETING = "no_marketing_consent"
EXPLANATIONS = {
    UNKNOWN_VISITOR: "unknown visitor: default content",
    NO_MARKETING: "no marketing consent: default content",
}
NOTES = {
    UNKNOWN_VISITOR: "unknown recipient: default content",
    NO_MARKETING: "no marketing consent: default content",
    "no_consent": "no personalization consent: default content",
}
# A link's place in a rendering: NUL is never escaped, stripped, nor stored in a text column.
_LINK = "\x00tailor-link-{}\x00"
_LINK_SPLIT = re.compile("\x00tailor-link-(\\d+)\x00")


def explanation(decision: Decision) -> str:
    """One sentence for people: why these items (the delivery reasons included)."""
    return EXPLANATIONS.get(decision.reason) or decision.explain()


@dataclass(frozen=True)
class RenderedBlock:
    """A slot's items rendered once for email, with a gap for each item's link."""

    items: tuple[ContentItem, ...]
    html: tuple[str, ...]  # text, item index, text, item index, …, text
    text: tuple[str, ...]

    @staticmethod
    def _fill(parts: tuple[str, ...], links: Sequence[str]) -> str:
        out = [parts[0]]
        for position in range(1, len(parts), 2):
            out.append(links[int(parts[position])])
            out.append(parts[position + 1])
        return "".join(out)

    def fill(self, links: Sequence[str]) -> tuple[str, str]:
        """(html, text) with each item's link; `links` follows `items`."""
        return self._fill(self.html, links), self._fill(self.text, links)


def email_template_names(item: ContentItem, extension: str) -> list[str]:
    return [f"tailor/email/{item.kind.key}.{extension}", f"tailor/email/default.{extension}"]


ItemParts = tuple[str, str] | None  # an item's email HTML and text; None: it failed to render


def _item_render(item: ContentItem, slot: str, index: int) -> ItemParts:
    context = {"item": item, "slot": slot, "link": _LINK.format(index) if item_target(item) else ""}
    try:
        html = select_template(email_template_names(item, "html")).render(context)
        text = select_template(email_template_names(item, "txt")).render(context)
    except Exception:  # the delivery edge: one broken block must not fail a whole batch
        logger.exception("Could not render item %s in slot %r for email", item.pk, slot)
        return None
    return html.strip(), text.strip()


def block_render(
    *,
    slot: str,
    items: Sequence[ContentItem],
    memo: dict[tuple[str, int, int], ItemParts] | None = None,
) -> RenderedBlock:
    """Render a slot's items as email HTML and plain text; one broken item is left out.

    `memo` keeps each item's rendering at its place in a slot, for blocks that share items
    (recommendations give most recipients their own combination of the same items).
    """
    memo = {} if memo is None else memo
    html_parts, text_parts = [], []
    for index, item in enumerate(items):
        key = (slot, item.pk, index)
        if key not in memo:
            memo[key] = _item_render(item, slot, index)
        parts = memo[key]
        if parts is not None:
            html_parts.append(parts[0])
            text_parts.append(parts[1])
    html = format_html(
        '<div class="tailor-email-slot" data-slot="{}">{}</div>',
        slot, mark_safe("\n".join(html_parts)),  # noqa: S308 - rendered by autoescaping templates
    )  # fmt: skip
    return RenderedBlock(
        items=tuple(items),
        html=tuple(_LINK_SPLIT.split(html)),
        text=tuple(_LINK_SPLIT.split("\n\n".join(text_parts))),
    )


@dataclass(frozen=True)
class RecipientDecisions:
    """One recipient's decisions for the slots asked, in order."""

    recipient: str
    visitor: Visitor | None
    decisions: tuple[Decision, ...]
    personalized: bool  # chosen for them; False: everyone's default content (see `note`)
    note: str = ""


def _refusal(visitor: Visitor | None, state: Mapping[str, bool]) -> str:
    """Why a recipient gets everyone's default content ("" when they get their own)."""
    if visitor is None:
        return UNKNOWN_VISITOR
    if not state.get(MARKETING):
        return NO_MARKETING
    if not state.get(PERSONALIZATION):
        return "no_consent"
    return ""


def _attributes_many(
    eligible: list[Visitor], states: Mapping[int, Mapping[str, bool]]
) -> dict[int, dict[str, Any]]:
    """Attribute dicts of many visitors: features, segments and each attribute source (clusters,
    scores) in one query each."""
    if not eligible:
        return {}
    ids = [v.pk for v in eligible]
    features = {f.visitor_id: f for f in VisitorFeatures.objects.filter(visitor_id__in=ids)}
    segments = visitor_segments_many(eligible)
    sourced = attribute_sources_many(ids)
    built = {}
    for visitor in eligible:
        built[visitor.pk] = attributes_build(
            visitor=visitor, features=features.get(visitor.pk), consent=states[visitor.pk],
            segments=segments[visitor.pk], sourced=sourced[visitor.pk],
        )  # fmt: skip
        segments[visitor.pk].bind(built[visitor.pk])
    return built


def _definitions(slot_keys: Sequence[str]) -> list[SlotDefinition]:
    """The slots' definitions (unknown slots left out; deciding reports them per slot)."""
    found = []
    for key in slot_keys:
        try:
            slot = slot_definition(key)
        except Exception:  # the delivery edge: deciding reports the failure per slot
            logger.exception("Could not load slot %r", key)
            continue
        if slot is not None:
            found.append(slot)
    return found


def recipients_decide(
    *, slots: Sequence[str], recipients: Sequence[str], now: datetime | None = None
) -> list[RecipientDecisions]:
    """Decisions for each recipient (in order) with a query count independent of their number.

    Personalized only for known recipients who allow marketing and personalization; the others
    get each slot's default and a note saying why.
    """
    now = now or timezone.now()
    visitors = visitors_resolve_many(recipients)
    known = {visitor.pk: visitor for visitor in visitors.values()}
    states = consent_states(known) if known else {}
    eligible = [v for v in known.values() if not _refusal(v, states[v.pk])]
    attributes = _attributes_many(eligible, states)
    registry.overrides_prefetch(eligible)  # e.g. every visitor's exposures in one query
    definitions = _definitions(slots)
    caps_prefetch(eligible, [slot.cap_days for slot in definitions if slot.cap], now)
    recommending = SlotRule.Strategy.RECOMMENDATIONS
    if any(rule.strategy == recommending for slot in definitions for rule in slot.rules):
        visitors_interactions_prefetch(eligible)
        visitors_recommendations_prefetch(
            eligible, {pk: built.get("affinity") or {} for pk, built in attributes.items()}
        )
    defaults: dict[str, tuple[Decision, ...]] = {}
    chosen: dict[int, tuple[Decision, ...]] = {}
    results = []
    for recipient in recipients:
        visitor = visitors.get(recipient)
        reason = _refusal(visitor, states[visitor.pk] if visitor is not None else {})
        if reason:
            if reason not in defaults:
                defaults[reason] = tuple(
                    replace(decide(slot, None, now=now), reason=reason) for slot in slots
                )
            entry = RecipientDecisions(recipient, visitor, defaults[reason], False, NOTES[reason])
            results.append(entry)
            continue
        if visitor.pk not in chosen:
            chosen[visitor.pk] = tuple(
                decide(slot, visitor, attributes=attributes[visitor.pk], now=now) for slot in slots
            )
        results.append(RecipientDecisions(recipient, visitor, chosen[visitor.pk], True))
    return results


@dataclass(frozen=True)
class Block:
    """A slot's content for one recipient."""

    html: str
    text: str
    items: list[str | None]  # external ids
    reason: str


@dataclass(frozen=True)
class RecipientBlocks:
    recipient: str
    personalized: bool
    note: str
    blocks: dict[str, Block]


def blocks_batch(
    *, slots: Sequence[str], recipients: Sequence[str], link_base: str, now: datetime | None = None
) -> list[RecipientBlocks]:
    """Each recipient's blocks, links through `link_base` + a signed click token."""
    rendered: dict[tuple[str, tuple[int, ...]], RenderedBlock] = {}
    parts: dict[tuple[str, int, int], ItemParts] = {}
    exposed: defaultdict[str, set[tuple[int, int, int]]] = defaultdict(set)
    results = []
    for entry in recipients_decide(slots=slots, recipients=recipients, now=now):
        blocks = {}
        for decision in entry.decisions:
            key = (decision.slot, tuple(item.pk for item in decision.items))
            block = rendered.get(key)
            if block is None:
                block = rendered[key] = block_render(
                    slot=decision.slot, items=decision.items, memo=parts
                )
            links = [
                link_base + click_token(item=item, visitor=entry.visitor, slot=decision.slot)
                if item_target(item) else ""
                for item in block.items
            ]  # fmt: skip
            html, text = block.fill(links)
            blocks[decision.slot] = Block(
                html=html, text=text, items=[i.external_id for i in decision.items],
                reason=decision.reason,
            )  # fmt: skip
        results.append(RecipientBlocks(entry.recipient, entry.personalized, entry.note, blocks))
        for decision in entry.decisions:
            exposed[decision.source].update(decision.exposures)
    # The blocks are rendered for sending: that is the exposure, written once.
    registry.exposures_record(exposed)
    return results


def visitor_decide(
    *, slot: str, identifier: str, now: datetime | None = None
) -> tuple[Visitor | None, Decision]:
    """The visitor named by `identifier` and the slot's decision; unknown: the default."""
    visitor = visitor_resolve(identifier)
    if visitor is None:
        return None, replace(decide(slot, None, now=now), reason=UNKNOWN_VISITOR)
    return visitor, decide(slot, visitor, now=now)
