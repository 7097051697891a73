"""`compute_clusters [--async] [--chunk-size N] [--algorithm A] [--k N | --k-range 2-8]`."""

import argparse
from typing import Any

from personalization.clustering.model import ClusteringError, k_range_parse
from personalization.clustering.services import SAMPLE_SIZE, clusters_compute_all
from personalization.clustering.tasks import compute_clusters
from personalization.management.chunked import ChunkedComputeCommand, positive_int


def k_range_type(text: str) -> tuple[int, int]:
    try:
        return k_range_parse(text)
    except ClusteringError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


class Command(ChunkedComputeCommand):
    help = (
        "Cluster visitors on their features and traits: fit on a random sample, choose k by "
        "silhouette and Davies-Bouldin over the k range, assign every visitor chunk by chunk "
        "with a progress bar, and make the run current (the `clusters` attribute and cluster "
        "segments follow it). --async queues the compute_clusters task for workers instead. "
        "Visitors without personalization consent are left out."
    )
    task = compute_clusters
    compute_all = clusters_compute_all

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--algorithm", choices=["auto", "kmeans", "minibatch", "gmm"], default="auto",
            help="auto (default): k-means, or mini-batch k-means above 20,000 sampled visitors",
        )  # fmt: skip
        choice = parser.add_mutually_exclusive_group()
        choice.add_argument("--k", type=positive_int, help="exactly this many clusters")
        choice.add_argument(
            "--k-range", type=k_range_type, default=(2, 8),
            help="try every k from LOW to HIGH and keep the best (default 2-8)",
        )  # fmt: skip
        parser.add_argument(
            "--sample-size", type=positive_int, default=SAMPLE_SIZE,
            help=f"visitors the model is fitted on (default {SAMPLE_SIZE}): memory grows with it",
        )  # fmt: skip
        parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")

    def job_options(self, options: dict[str, Any]) -> dict[str, Any]:
        return {
            "algorithm": options["algorithm"], "k": options["k"],
            "k_range": list(options["k_range"]), "sample_size": options["sample_size"],
            "seed": options["seed"],
        }  # fmt: skip

    def summarize(self, summary: dict[str, Any]) -> list[str]:
        return [
            f"run {summary['run']}: {summary['k']} clusters ({summary['algorithm']}) for "
            f"{summary['visitors']} visitors ({summary['left_out']} left out: no "
            f"personalization consent or no features yet), {summary['chunks']} chunks in "
            f"{summary['seconds']:.1f} s",
            *(
                f"  cluster {number}: {size} visitors — {summary['descriptions'][number]}"
                for number, size in sorted(summary["sizes"].items())
            ),
        ]
