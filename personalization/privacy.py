"""Personal data held by personalization: profiles, merges, events and computed features."""

from consent import registry
from consent.purposes import ANALYTICS, PERSONALIZATION
from personalization.triggers import privacy as triggers_privacy
from personalization.visitors.retention import events_delete_before
from personalization.visitors.snapshots import snapshot_cache_keys, snapshot_token_key

registry.register(
    "personalization.Visitor",
    path="",
    erase=registry.DELETE,
    # Profiles merged into this one (tombstones) belong to the same subject; the user account
    # is erased through its own declaration.
    covers=("merged_into", "user"),
    order=1000,  # last: the other declarations find their rows through these visitors
    description="The profile: cookie id, external id, traits, visits; merged profiles too.",
)
registry.register(
    "personalization.VisitorMerge",
    path="target",
    erase=registry.DELETE,
    description="Anonymous profiles merged into this one on login.",
)
registry.register(
    "personalization.Event",
    path="visitor",
    erase=registry.DELETE,
    extra={"item_external_id": "item__external_id"},
    purposes=(ANALYTICS,),
    retention_field="occurred_at",
    expirer=events_delete_before,  # whole months on PostgreSQL, then the rest in batches
    description="Everything the visitor did: views, clicks, purchases, searches, ratings.",
)
registry.register(
    "personalization.VisitorFeatures",
    path="visitor",
    erase=registry.DELETE,
    purposes=(PERSONALIZATION,),
    retention_field="computed_at",
    description="Features computed from the events: recency, RFM, lifecycle, affinities.",
)
registry.register(
    "personalization.Impression",
    path="visitor",
    erase=registry.DELETE,
    extra={"item_external_id": "item__external_id"},
    purposes=(PERSONALIZATION,),
    retention_field="shown_at",
    description="Items shown to the visitor in slots with a frequency cap.",
)
registry.register(
    "personalization.SegmentMembership",
    path="visitor",
    erase=registry.DELETE,
    extra={"segment_key": "segment__key"},
    # Sizes per day (SegmentSizeSnapshot) are counts that keep no link to anyone.
    description="The segments, lists and clusters the visitor belongs to.",
)
registry.register(
    "personalization.Recommendation",
    path="visitor",
    erase=registry.DELETE,
    extra={"item_external_id": "item__external_id", "model_run": "run_id"},
    purposes=(PERSONALIZATION,),
    retention_field="run__started_at",
    description="Recommendations served: the items a model run ranked for the visitor.",
)
registry.register(
    "personalization.ClusterMembership",
    path="visitor",
    erase=registry.DELETE,
    extra={"cluster_number": "cluster__number", "cluster_name": "cluster__name"},
    purposes=(PERSONALIZATION,),
    retention_field="assigned_at",
    # Runs and clusters hold counts and means over many visitors, no link to anyone.
    description="The cluster the visitor fell into in the current clustering run.",
)
registry.register(
    "personalization.VisitorScore",
    path="visitor",
    erase=registry.DELETE,
    extra={"score_run": "run_id"},
    purposes=(PERSONALIZATION,),
    retention_field="computed_at",
    # Runs hold metrics over many visitors and fitted models, no link to anyone.
    description="Predicted probabilities (churn, purchase) a score run gave the visitor.",
)
# A visitor's personalization snapshot holds their data: erasure deletes it, and any change of
# their consent makes it stale (it is rebuilt under the new state).
registry.register_cache_keys(
    lambda subject: snapshot_cache_keys(subject.visitor_ids, subject.hashes)
)
registry.register_consent_cache_keys(lambda ids: [snapshot_token_key(pk) for pk in ids])

__all__ = ["triggers_privacy"]  # triggers declare their deliveries, watches and cooldowns
