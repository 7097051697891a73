"""`compute_recommendations [--async] [--chunk-size N] [--force]`: train and store top-N lists."""

from typing import Any

from personalization.management.chunked import ChunkedComputeCommand
from personalization.recommendations.services import recommendations_compute_all
from personalization.recommendations.tasks import compute_recommendations


class Command(ChunkedComputeCommand):
    help = (
        "Train the recommenders (tuned on a validation split), store every visitor's top "
        "items and every item's similar items, here with a progress bar; --async queues the "
        "compute_recommendations task for workers instead. The new run is served unless it "
        "scores worse than the current one; --force serves it anyway. Visitors without "
        "personalization consent are left out."
    )
    task = compute_recommendations
    compute_all = recommendations_compute_all

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--force", action="store_true",
            help="serve the new run even if it scores worse than the current one",
        )  # fmt: skip

    def job_options(self, options: dict[str, Any]) -> dict[str, Any]:
        return {"force": options["force"]}

    def summarize(self, summary: dict[str, Any]) -> list[str]:
        if "group_id" in summary:  # queued on workers: the chord reports on the run
            return [f"model run {summary['run']} scoring {summary['visitors']} visitors in "
                    f"{summary['chunks']} chunks"]  # fmt: skip
        state = "current" if summary["current"] else "not current (scores worse; --force)"
        score = "n/a" if summary["score"] is None else f"{summary['score']:.4f}"
        return [
            f"model run {summary['run']}: {summary['recommendations']} recommendations for "
            f"{summary['visitors']} visitors, {summary['similar']} similar items, "
            f"{summary['chunks']} chunk(s) in {summary['seconds']:.1f} s",
            f"  hybrid nDCG@10 on the test split: {score}; {state}",
        ]
