from django.utils import timezone

from personalization.scores.models import ScoreRun, VisitorScore
from personalization.visitors.models import Visitor


def scores_current(probabilities: dict[Visitor, dict[str, float]]) -> ScoreRun:
    """A finished, current score run that gave these visitors these probabilities."""
    ScoreRun.objects.filter(is_current=True).update(is_current=False)
    run = ScoreRun.objects.create(
        status=ScoreRun.Status.FINISHED, is_current=True, targets=["churn", "purchase"],
        finished_at=timezone.now(), score=0.8,
    )  # fmt: skip
    VisitorScore.objects.bulk_create(
        VisitorScore(run=run, visitor=visitor, target=target, probability=probability)
        for visitor, targets in probabilities.items()
        for target, probability in targets.items()
    )
    return run
