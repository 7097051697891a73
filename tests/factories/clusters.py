"""Populations of visitors with a known structure, stored with features and consent."""

from dataclasses import dataclass

from django.utils import timezone

from consent.services import consent_grant_bulk
from personalization.clustering.features import NUMERIC
from personalization.clustering.synthetic import GROUPS, synthetic_frame
from personalization.features.models import VisitorFeatures
from personalization.visitors.models import Visitor


@dataclass
class Population:
    """Stored visitors and the synthetic group (index into GROUPS) each was drawn from."""

    visitors: list[Visitor]
    groups: dict[int, str]  # visitor id → group name

    def of(self, group: str) -> list[int]:
        return [pk for pk, name in self.groups.items() if name == group]


def population_create(
    size: int, *, seed: int = 0, consent: bool = True, prefix: str = "pop"
) -> Population:
    """`size` visitors drawn from the synthetic groups, with features and (or not) consent."""
    frame, membership = synthetic_frame(size, seed=seed)
    visitors = Visitor.objects.bulk_create(
        Visitor(external_id=f"{prefix}-{seed}-{n}", traits=dict(frame.traits[n]))
        for n in range(size)
    )
    now = timezone.now()
    VisitorFeatures.objects.bulk_create(
        VisitorFeatures(
            visitor=visitor,
            computed_at=now,
            lifecycle=frame.lifecycle[n],
            tag_affinities=dict(frame.affinities[n]),
            **{name: _value(name, frame.numeric[n, c]) for c, name in enumerate(NUMERIC)},
        )
        for n, visitor in enumerate(visitors)
    )
    if consent:
        consent_grant_bulk(
            visitor_ids=[v.pk for v in visitors], purposes=["analytics", "personalization"]
        )
    return Population(
        visitors=visitors,
        groups={v.pk: GROUPS[g].name for v, g in zip(visitors, membership.tolist(), strict=True)},
    )


def _value(name: str, value: float) -> float | int:
    if name in ("sessions_30d", "event_count"):
        return round(value)
    if name == "monetary_90d":
        return round(value, 2)
    return float(value)
