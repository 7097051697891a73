"""What triggers hook into below them, registered from `PersonalizationConfig.ready()`.

Each listener runs inside the lower package's transaction and only queues work for when it
commits: the ingest listener costs a set intersection per batch (and one message when a
trigger reads one of the batch's event types), so events are stored as fast as without
triggers.
"""

from collections.abc import Sequence
from functools import partial

from django.db import transaction
from django.utils import timezone

from personalization.triggers import tasks
from personalization.triggers.detection import score_crossings_detect, segment_changes_detect
from personalization.triggers.selectors import trigger_definitions
from personalization.visitors.models import Event

EVENT_BATCH = 1000


def events_stored(*, events: Sequence[Event], source: str) -> None:
    """Queue the events some trigger reads, by (source, event id), for a worker to match."""
    types = trigger_definitions().event_types
    if not types:
        return
    ids = [event.event_id for event in events if event.type in types]
    options = tasks.queue_options()
    for start in range(0, len(ids), EVENT_BATCH):
        kwargs = {"source": source, "event_ids": ids[start : start + EVENT_BATCH]}
        transaction.on_commit(
            partial(tasks.triggers_events_match.apply_async, kwargs=kwargs, **options)
        )


def memberships_changed(*, joined: list[tuple[int, int]], left: list[tuple[int, int]]) -> None:
    """Queue segment triggers for the memberships a segment run just added and deleted."""
    firings = segment_changes_detect(joined=joined, left=left, at=timezone.now())
    if firings:
        transaction.on_commit(partial(tasks.firings_queue, firings))


def scores_switched(*, previous_run_id: int, run_id: int) -> None:
    """Queue score triggers for visitors whose score crossed a threshold with the new run."""
    firings = score_crossings_detect(previous_run_id=previous_run_id, run_id=run_id)
    if firings:
        transaction.on_commit(partial(tasks.firings_queue, firings))
