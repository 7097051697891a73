"""Microseconds per `decide()` for a slot with 20 rules over 200 active segments.

Beside it, in the same run, the same decisions made by interpreting the same conditions with
GrowthBook's Python SDK (`growthbook.core.evalCondition`, `$inSegment` written as an
`$elemMatch` over the list of segment keys): the ratio is what compiling conditions and caching
slot definitions buy. A third figure includes building the visitor's attributes (features and
segment memberships read from the database), which a page pays once per request.
"""

import random

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from growthbook.core import evalCondition
from support import best_of, test_database

from consent.services import consent_record
from content.models import ContentItem, ContentKind, Slot, SlotRule
from personalization.decisions.attributes import visitor_attributes
from personalization.decisions.engine import decide, slot_definition
from personalization.features.models import VisitorFeatures
from personalization.segments.models import Segment, SegmentMembership
from personalization.visitors.models import Visitor

SEGMENTS = 200
RULES = 20
rng = random.Random(7)


def seed() -> Visitor:
    kind, _ = ContentKind.objects.get_or_create(key="banner", defaults={"name": "Banner"})
    items = [
        ContentItem.objects.create(title=f"Banner {n}", slug=f"banner-{n}", kind=kind,
                                   status="published")
        for n in range(RULES + 1)
    ]  # fmt: skip
    Segment.objects.bulk_create(
        Segment(key=f"seg-{n}", name=f"Segment {n}", kind="rule",
                condition={"sessions_30d": {"$gte": n % 10}, "lifecycle": {"$ne": "dormant"}})
        for n in range(SEGMENTS)
    )  # fmt: skip
    visitor = Visitor.objects.create(external_id="bench-visitor", traits={"country": "NL"})
    consent_record(visitor=visitor, choices={"personalization": True}, source="admin")
    VisitorFeatures.objects.create(
        visitor=visitor, computed_at=timezone.now(), sessions_30d=4, lifecycle="active",
        tag_affinities={"sports": 0.2, "tech": 0.7}, event_count=40,
    )  # fmt: skip
    member_of = Segment.objects.filter(key__in=[f"seg-{n}" for n in range(0, SEGMENTS, 7)])
    SegmentMembership.objects.bulk_create(
        SegmentMembership(segment=s, visitor=visitor) for s in member_of
    )
    slot = Slot.objects.create(key="hero", name="Hero", max_items=1)
    slot.default_items.set([items[-1]])
    for n in range(RULES):
        # 19 rules that fail (on a segment, the device, a campaign or an affinity), then one that
        # matches: the decision tries every rule, as the worst case of a page does.
        last = n == RULES - 1
        condition = {
            "$and": [
                {"$inSegment": "seg-0" if last else f"seg-{rng.randrange(1, SEGMENTS)}1"},
                {"device": {"$in": ["desktop", "tablet"] if last else ["tv"]}},
                {"$or": [{"affinity.tech": {"$gt": 0.5}}, {"utm_source": "newsletter"}]},
                {"traits.country": {"$in": ["NL", "BE", "DE"]}},
            ]
        }
        rule = SlotRule.objects.create(slot=slot, position=n, name=f"rule {n}", condition=condition)
        rule.items.set([items[n]])
    return visitor


def as_growthbook(condition):
    """The same condition with `$inSegment` as GrowthBook can read it."""
    if isinstance(condition, dict):
        out = {}
        for key, value in condition.items():
            if key == "$inSegment":
                out.setdefault("$and", []).append({"segments": {"$elemMatch": {"$eq": value}}})
            else:
                out[key] = as_growthbook(value)
        return out
    if isinstance(condition, list):
        return [as_growthbook(c) for c in condition]
    return condition


def main() -> None:
    with test_database():
        visitor = seed()
        context = {"device": "desktop", "utm_source": "", "hour": 10}
        attributes = visitor_attributes(visitor, context)
        expected = decide("hero", visitor, attributes=attributes)
        assert expected.rule_name == f"rule {RULES - 1}", expected

        definition = slot_definition("hero")
        rules = [(r, as_growthbook(r.condition)) for r in SlotRule.objects.filter(slot__key="hero")]
        plain = {**attributes, "segments": sorted(attributes["segments"])}
        now = timezone.now()

        def interpreted():
            for rule, condition in rules:
                if evalCondition(plain, condition):
                    items = [definition.items[i] for i in definition.rules[rule.position].item_ids]
                    return [i for i in items if definition.allowed(i, now)]
            return []

        assert [i.pk for i in interpreted()] == [i.pk for i in expected.items]
        tailor = best_of(lambda: decide("hero", visitor, attributes=attributes), number=2000)
        baseline = best_of(interpreted, number=2000)
        full = best_of(lambda: decide("hero", visitor, context), number=200)
        with CaptureQueriesContext(connection) as queries:
            decide("hero", visitor, context)

    rows = [
        ("GrowthBook evalCondition, same rules (interpreted)", baseline, "1.00x"),
        ("tailor decide(), attributes built", tailor, f"{baseline / tailor:.2f}x"),
        ("tailor decide(), attributes from the database", full, f"({len(queries)} queries)"),
    ]
    print(f"slot with {RULES} rules over {SEGMENTS} active segments; best of 7")
    print(f"{'decision':<52}{'µs':>10}  speed-up")
    for name, seconds, note in rows:
        print(f"{name:<52}{seconds * 1e6:>10.1f}  {note}")


if __name__ == "__main__":
    main()
