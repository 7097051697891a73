"""The make-believe visitor of a preview: someone in a segment, or anyone with given request facts.

A segment has members, not a face, so its preview shows the site to a visitor made up for it:
a member of the segment (and of every segment its condition names with `$inSegment`), whose
attributes are picked to satisfy its condition where picking can (`rules.example`), who allows
every purpose, and who has no history. They are never saved: their id is 0, which no stored
row has, so every read of their history (impressions, recommendations) finds nothing, and
nothing is written for them because a preview records nothing (`RequestState.preview_start`).
"""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from consent.selectors import purposes
from personalization.rules import evaluate_condition
from personalization.rules.attributes import attributes_build
from personalization.rules.example import condition_example, example_apply
from personalization.segments.models import Segment
from personalization.segments.selectors import SegmentSet
from personalization.visitors.models import Visitor

MADE_UP_ID = 0  # no stored visitor has it: reads of their history find nothing
_NAMESPACE = uuid.UUID("0b7e8a47-5a4f-4c55-9a67-3f0f2b0d1c11")


@dataclass(frozen=True)
class MadeUpVisitor:
    """A visitor invented for a preview, their attributes, and whether they satisfy the segment."""

    visitor: Visitor
    attributes: dict[str, Any]
    matches: bool  # the attributes satisfy the segment's condition (always, without a segment)
    picked: dict[str, Any]  # the values picked to satisfy it, by attribute path


def _visitor(name: str, traits: Mapping[str, Any]) -> Visitor:
    visitor = Visitor(
        pk=MADE_UP_ID, uid=uuid.uuid5(_NAMESPACE, name), traits=dict(traits), sessions=1
    )
    visitor._state.adding = False  # looks stored, so that related lookups run (and find nothing)
    return visitor


def made_up_visitor(
    *, segment: Segment | None, context: Mapping[str, Any], facts: Mapping[str, Any]
) -> MadeUpVisitor:
    """A visitor in `segment` (or in none) seen with the request `context`; never saved.

    `facts` are the request facts the editor chose (they are in `context` too): the segment's
    condition does not override them, so a preview can show what a condition excludes.
    """
    condition = segment.condition if segment is not None and segment.kind == "rule" else {}
    example = condition_example(condition)
    assumed = {*example.segments, *([segment.key] if segment is not None else [])}
    picked = {path: value for path, value in example.values.items() if path not in facts}
    segments = SegmentSet(None, assumed=assumed)
    visitor = _visitor(segment.key if segment is not None else "anyone", {})
    attributes = attributes_build(
        visitor=visitor,
        features=None,
        consent={purpose.key: True for purpose in purposes()},
        segments=segments,
        context=context,
    )
    attributes["visitor_id"] = "preview"
    example_apply(attributes, picked)
    visitor.traits = dict(attributes["traits"])
    segments.bind(attributes)
    matches = evaluate_condition(condition, attributes) if condition else True
    return MadeUpVisitor(visitor=visitor, attributes=attributes, matches=matches, picked=picked)
