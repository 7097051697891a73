"""`compute_scores [--async] [--chunk-size N] [--force] [--seed S]`: churn and purchase scores."""

from typing import Any

from personalization.management.chunked import ChunkedComputeCommand
from personalization.scores.services import scores_compute_all
from personalization.scores.tasks import compute_scores


class Command(ChunkedComputeCommand):
    help = (
        "Train the predictive scores (churn, purchase) point in time, measure them on a later "
        "window beside a logistic regression and the lifecycle rule, and store every "
        "consenting visitor's probabilities, here with a progress bar; --async queues the "
        "compute_scores task for workers instead. The new run is served unless it scores "
        "worse than the current one; --force serves it anyway."
    )
    task = compute_scores
    compute_all = scores_compute_all

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--force", action="store_true",
            help="serve the new run even if it scores worse than the current one",
        )  # fmt: skip
        parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")

    def job_options(self, options: dict[str, Any]) -> dict[str, Any]:
        return {"force": options["force"], "seed": options["seed"]}

    def summarize(self, summary: dict[str, Any]) -> list[str]:
        if "group_id" in summary:
            return [f"score run {summary['run']} scoring {summary['visitors']} visitors in "
                    f"{summary['chunks']} chunks"]  # fmt: skip
        state = "current" if summary["current"] else "not current (scores worse; --force)"
        lines = [
            f"score run {summary['run']}: {summary['scores']} scores for {summary['visitors']} "
            f"visitors, trained on {summary['training_rows']}, {summary['chunks']} chunk(s) in "
            f"{summary['seconds']:.1f} s; {state}",
        ]
        for target, by_name in summary["metrics"].items():
            aucs = ", ".join(f"{name} {m['roc_auc']}" for name, m in by_name.items())
            lines.append(f"  {target}: ROC AUC on the held-out window: {aucs}")
        return lines
