"""`evaluate_recommendations [--split random|temporal] [--k 10] [--seed S] [--force]`."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from personalization.management.chunked import positive_int, raw_stream
from personalization.recommendations.algorithms.evaluation import SPLITS, EvaluationError
from personalization.recommendations.services import MIN_TEST_VISITORS, recommendations_evaluate


class Command(BaseCommand):
    help = (
        "Evaluate every recommender offline side by side: hold out part of each visitor's "
        "items, tune on a validation split carved from the rest, and print precision, recall, "
        "nDCG, MAP, hit rate, coverage and novelty at K on the test split. The figures are "
        "stored on an evaluation model run (see the admin)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--split", choices=SPLITS, default="random",
            help="hold out random items (default) or each visitor's latest",
        )  # fmt: skip
        parser.add_argument("--k", type=positive_int, default=10, help="list length (default 10)")
        parser.add_argument("--seed", type=int, default=42, help="the same seed, the same split")
        parser.add_argument(
            "--force", action="store_true",
            help=f"evaluate even with fewer than {MIN_TEST_VISITORS} visitors to test on",
        )  # fmt: skip

    def handle(self, *args: Any, split: str, k: int, seed: int, force: bool, **options: Any):
        try:
            run, report = recommendations_evaluate(
                split=split, k=k, seed=seed, force=force, progress=raw_stream(self.stderr)
            )
        except EvaluationError as error:
            raise CommandError(f"{error} (--force evaluates anyway)") from error
        self.stdout.write(
            f"{report.visitors} visitors, {report.items} items, {report.interactions} "
            f"visitor-item interactions; {report.test_visitors} visitors tested, "
            f"{split} split, seed {seed}"
        )
        for line in report.table():
            self.stdout.write(line)
        weights = ", ".join(f"{n} {w:g}" for n, w in sorted(report.weights.items()) if w)
        self.stdout.write(f"hybrid weights (tuned on validation): {weights or 'none'}")
        self.stdout.write(self.style.SUCCESS(f"stored on evaluation model run {run.pk}"))
