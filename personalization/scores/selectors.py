"""Reading scores: the `scores` attribute of one visitor or many, from the current run only.

`attributes["scores"]` maps a target key to the probability the current score run gave the
visitor (`{"churn": 0.72, "purchase": 0.08}`); a visitor the run did not score (no history,
no personalization consent) has `{}`, so `{"scores.churn": {"$gte": 0.7}}` is false for them.
Cost: one indexed query (visitor, run) per visitor, one for a list of visitors.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from consent.purposes import PERSONALIZATION
from personalization.scores.models import ScoreRun, VisitorScore


def visitor_scores(visitor_id: int | None, consent: Mapping[str, bool] | None = None) -> dict:
    """Target → probability in the current run; {} without a score or without consent."""
    if visitor_id is None or (consent is not None and not consent.get(PERSONALIZATION, False)):
        return {}
    return visitor_scores_many([visitor_id]).get(visitor_id, {})


def visitor_scores_many(visitor_ids: Iterable[int]) -> dict[int, dict[str, float]]:
    """Scores per visitor id (only the scored ones), in one query for all."""
    ids = list(visitor_ids)
    if not ids:
        return {}
    rows = VisitorScore.objects.filter(visitor_id__in=ids, run__is_current=True).values_list(
        "visitor_id", "target", "probability"
    )
    scores: dict[int, dict[str, float]] = {}
    for visitor_id, target, probability in rows:
        scores.setdefault(visitor_id, {})[target] = round(probability, 4)
    return scores


def score_run_current() -> ScoreRun | None:
    return ScoreRun.objects.filter(is_current=True).first()


def visitor_score_rows(visitor_id: int) -> list[dict[str, Any]]:
    """The visitor's current scores with their run and time, for profiles and admin."""
    rows = VisitorScore.objects.filter(visitor_id=visitor_id, run__is_current=True)
    return [
        {"target": s.target, "probability": round(s.probability, 4), "run": s.run_id,
         "computed_at": s.computed_at}
        for s in rows.order_by("target")
    ]  # fmt: skip
