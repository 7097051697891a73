"""`compute_segments [--async] [--chunk-size N]`: precompute rule-segment memberships and sizes."""

from typing import Any

from personalization.management.chunked import ChunkedComputeCommand
from personalization.segments.services import segments_compute_all
from personalization.segments.tasks import compute_segments


class Command(ChunkedComputeCommand):
    help = (
        "Compute the members of every active rule segment that reads no request attribute, "
        "here with a progress bar, then store today's segment sizes; --async queues the "
        "compute_segments task for a worker instead. Visitors without personalization consent "
        "are removed from every rule segment."
    )
    task = compute_segments
    compute_all = segments_compute_all

    def summarize(self, summary: dict[str, Any]) -> list[str]:
        return [
            f"{summary['segments']} segments computed for {summary['computed']} visitors "
            f"({summary['joined']} joined, {summary['left']} left, "
            f"{summary['skipped_consent']} without personalization consent), "
            f"{summary['chunks']} chunks in {summary['seconds']:.1f} s",
            *(f"  {key}: {size}" for key, size in sorted(summary["sizes"].items())),
        ]
