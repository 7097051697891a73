"""A web process of its own that buffers page views and exposures and flushes them, for tests.

Started with multiprocessing's spawn method, it sets Django up against the test database it is
given. Like a web worker whose buffers' timers fire together, it flushes page views in one
thread while another flushes exposures.
"""

import os
import random
import threading
from typing import Any


def _flush_in_thread(buffer: Any) -> threading.Thread:
    from django.db import connections

    def flush() -> None:
        try:
            buffer.flush()
        finally:
            connections.close_all()

    thread = threading.Thread(target=flush)
    thread.start()
    return thread


def flush_rounds(
    *,
    database_url: str,
    visitor_ids: list[int],
    exposures: list[tuple[int, int]],
    seed: int,
    rounds: int,
    per_round: int,
    barrier: Any,
) -> dict[str, Any]:
    """Buffer page views and exposures of random visitors, flush them round after round.

    Returns what was handed to the buffers: the number of page views and the (visitor,
    experiment) pairs of the exposures.
    """
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    os.environ["TAILOR_WRITE_BUFFER_SIZE"] = "100000"
    os.environ["TAILOR_WRITE_BUFFER_SECONDS"] = "3600"
    import django

    django.setup()
    from django.db import connections
    from django.utils import timezone

    from experiments.services import EXPOSURES
    from personalization.visitors.services import PAGE_VIEWS, PageView

    rng = random.Random(seed)
    views, pairs = 0, set()
    for number in range(rounds):
        experiment_id, variation_id = exposures[number % len(exposures)]
        for visitor_id in rng.sample(visitor_ids, per_round):
            PAGE_VIEWS.add(
                PageView(visitor_id=visitor_id, item_id=None, path="/", context={},
                         occurred_at=timezone.now())
            )  # fmt: skip
            views += 1
        for visitor_id in rng.sample(visitor_ids, per_round):
            EXPOSURES.add((visitor_id, experiment_id, variation_id, timezone.now()))
            pairs.add((visitor_id, experiment_id))
        barrier.wait(60)
        threads = [_flush_in_thread(PAGE_VIEWS), _flush_in_thread(EXPOSURES)]
        for thread in threads:
            thread.join()
    for buffer in (PAGE_VIEWS, EXPOSURES):
        buffer.close()
    connections.close_all()
    return {"views": views, "pairs": sorted(pairs)}
