"""`compute_features [--async] [--chunk-size N]`: every visitor's profile features."""

from typing import Any

from personalization.features.services import features_compute_all
from personalization.features.tasks import compute_features
from personalization.management.chunked import ChunkedComputeCommand


class Command(ChunkedComputeCommand):
    help = (
        "Compute every visitor's profile features (recency, sessions, RFM, lifecycle, tag "
        "affinities) here, with a progress bar; --async queues the compute_features task for "
        "a worker instead. Visitors without personalization consent are skipped."
    )
    task = compute_features
    compute_all = features_compute_all

    def summarize(self, summary: dict[str, Any]) -> list[str]:
        return [
            f"{summary['computed']} visitors computed, {summary['skipped_consent']} skipped "
            f"for consent (no personalization), {summary['chunks']} chunks in "
            f"{summary['seconds']:.1f} s"
        ]
