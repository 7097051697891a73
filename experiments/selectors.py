"""Reads of experiments: results per variation and metric, over time, with their statistics.

Results are computed from one row per exposed visitor (variation, first exposure, first
conversion in the metric's window, value in the window, activity before exposure), read in one
query per metric: memory grows with the number of exposed visitors (about 100 bytes each, so
10 MB for 100,000), and time with that number plus their events in the windows (indexed by
visitor and time).

Metrics:
- conversion: share of exposed visitors with an event of the type within the window after
  their first exposure;
- click-through rate: the same for clicks (event type `click`, whatever the metric names);
- revenue per visitor: the sum of the values of the type's events in the window, per visitor.

When visitors were active before exposure (events of the metric's type in the 30 days before),
lift, interval and p-value are CUPED-adjusted with that activity as covariate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from django.db.models import Count, DecimalField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from scipy.stats import norm

from content.models import SlotRule
from experiments import stats
from experiments.models import Experiment, Exposure, Metric, Variation
from experiments.series import SeriesPoint, rate_series, revenue_series
from personalization.visitors.models import Event

PRE_PERIOD = timedelta(days=30)
WIN_THRESHOLD = 0.95  # chance to win that makes a variation the suggested winner


@dataclass(frozen=True)
class VariationResult:
    key: str
    name: str
    is_control: bool
    weight: float
    visitors: int
    conversions: int  # visitors who converted (revenue: who spent anything)
    mean: float  # rate, or revenue per visitor
    adjusted_mean: float | None = None  # with CUPED: the mean the lift and tests compare
    lift: float | None = None
    lift_low: float | None = None
    lift_high: float | None = None
    p_value: float | None = None  # Holm-adjusted across the treatments
    chance_to_win: float | None = None  # chance to beat the control
    expected_loss: float | None = None
    sequential_low: float | None = None  # always-valid interval of the difference to control
    sequential_high: float | None = None

    @property
    def significant(self) -> bool:
        return self.p_value is not None and self.p_value < stats.ALPHA


@dataclass(frozen=True)
class MetricResult:
    metric: Metric
    variations: list[VariationResult]
    cuped: bool = False
    variance_reduction: float = 0.0
    series: dict[str, list[SeriesPoint]] = field(default_factory=dict)

    @property
    def is_revenue(self) -> bool:
        return self.metric.kind == Metric.Kind.REVENUE


@dataclass(frozen=True)
class Results:
    experiment: Experiment
    metrics: list[MetricResult]
    srm: stats.SampleRatio | None
    visitors: int
    sample_size: int | None  # per variation, from the sample-size settings

    @property
    def primary(self) -> MetricResult | None:
        return self.metrics[0] if self.metrics else None

    @property
    def leader(self) -> VariationResult | None:
        """The treatment most likely to beat the control on the primary metric, if it is clear."""
        if self.primary is None:
            return None
        treatments = [v for v in self.primary.variations if not v.is_control]
        best = max(treatments, key=lambda v: v.chance_to_win or 0, default=None)
        if best is not None and best.significant and (best.chance_to_win or 0) >= WIN_THRESHOLD:
            return best
        return None


def experiment_sample_size(experiment: Experiment, variations: int | None = None) -> int | None:
    """Visitors needed per variation for the experiment's baseline and minimum effect."""
    if not experiment.baseline_rate or not experiment.minimum_effect:
        return None
    count = variations or max(experiment.variations.count(), 2)
    try:
        return stats.sample_size(
            experiment.baseline_rate, experiment.minimum_effect, variations=count
        )
    except ValueError:
        return None


def _event_type(metric: Metric) -> str:
    return "click" if metric.kind == Metric.Kind.CTR else metric.event_type


def _slot_clicks(experiment: Experiment) -> Q:
    """Clicks that belong to the experiment's slot: its tracked links, or items it can show."""
    slot = experiment.slot
    shown = set(slot.default_items.values_list("pk", flat=True))
    shown |= set(
        SlotRule.items.through.objects.filter(slotrule__slot=slot).values_list(
            "contentitem_id", flat=True
        )
    )
    shown |= set(
        Variation.items.through.objects.filter(variation__experiment=experiment).values_list(
            "contentitem_id", flat=True
        )
    )
    return Q(properties__slot=slot.key) | Q(item_id__in=shown)


def exposure_rows(experiment: Experiment, metric: Metric) -> list[tuple]:
    """(variation id, exposed at, converted at, value, events before) per exposed visitor.

    Click-through rate on a slot counts clicks on that slot only (its tracked links, or items
    it can show); a template experiment's counts any click.
    """
    window = timedelta(hours=metric.window_hours)
    events = Event.objects.filter(visitor=OuterRef("visitor"), type=_event_type(metric))
    if metric.kind == Metric.Kind.CTR and experiment.slot_id is not None:
        events = events.filter(_slot_clicks(experiment))
    within = events.filter(
        occurred_at__gte=OuterRef("exposed_at"), occurred_at__lt=OuterRef("exposed_at") + window
    )
    before = events.filter(
        occurred_at__lt=OuterRef("exposed_at"), occurred_at__gte=OuterRef("exposed_at") - PRE_PERIOD
    )
    money = DecimalField(max_digits=20, decimal_places=4)
    if metric.kind == Metric.Kind.REVENUE:
        value = Subquery(
            within.values("visitor").annotate(total=Sum("value")).values("total")[:1],
            output_field=money,
        )
        prior = Subquery(
            before.values("visitor").annotate(total=Sum("value")).values("total")[:1],
            output_field=money,
        )
    else:
        value = Value(0, output_field=money)
        prior = Subquery(before.values("visitor").annotate(n=Count("pk")).values("n")[:1])
    return list(
        Exposure.objects.filter(experiment=experiment)
        .annotate(
            converted_at=Subquery(within.order_by("occurred_at").values("occurred_at")[:1]),
            value=Coalesce(value, Value(0, output_field=money)),
            prior=Coalesce(prior, 0, output_field=money),
        )
        .values_list("variation_id", "exposed_at", "converted_at", "value", "prior")
    )


def _metric_result(
    experiment: Experiment, metric: Metric, variations: list[Variation], now: datetime
) -> MetricResult:
    if not variations:
        return MetricResult(metric, [])
    rows = exposure_rows(experiment, metric)
    revenue = metric.kind == Metric.Kind.REVENUE
    by_variation = {v.pk: i for i, v in enumerate(variations)}
    group = np.array([by_variation[r[0]] for r in rows], dtype=int)
    outcome = np.array(
        [float(r[3]) if revenue else float(r[2] is not None) for r in rows], dtype=float
    )
    prior = np.array([float(r[4]) for r in rows], dtype=float)
    adjusted, cuped_used, reduction = _cuped_adjusted(outcome, prior)
    control_index = next((i for i, v in enumerate(variations) if v.is_control), 0)
    summary = [_group_summary(group == i, outcome, adjusted) for i in range(len(variations))]
    comparisons = _comparisons(
        summary, control_index, adjusted_test=cuped_used or revenue, revenue=revenue
    )
    results = [
        _variation_result(variation, s, comparisons.get(i), i == control_index, cuped_used)
        for i, (variation, s) in enumerate(zip(variations, summary, strict=True))
    ]
    end = min(now, experiment.end_at) if experiment.end_at else now
    start = experiment.start_at or min((r[1] for r in rows), default=end)
    series = (
        revenue_series(experiment, metric, variations, start, end)
        if revenue
        else rate_series(rows, variations, start, end)
    )
    return MetricResult(metric, results, cuped_used, reduction, series)


def _cuped_adjusted(outcome: np.ndarray, prior: np.ndarray) -> tuple[np.ndarray, bool, float]:
    """The outcomes to compare, whether CUPED adjusted them and the variance it took away."""
    if len(outcome) > 2 and np.var(prior) > 0:
        result = stats.cuped(outcome, prior)
        if result.variance_reduction > 0:
            return result.adjusted, True, result.variance_reduction
    return outcome, False, 0.0


def _group_summary(mask: np.ndarray, outcome: np.ndarray, adjusted: np.ndarray) -> dict:
    """Visitors, conversions and means of one variation's rows."""
    return {
        "n": int(mask.sum()),
        "conversions": int((outcome[mask] > 0).sum()),
        "mean": float(outcome[mask].mean()) if mask.any() else 0.0,
        "adj_mean": float(adjusted[mask].mean()) if mask.any() else 0.0,
        "adj_var": float(adjusted[mask].var(ddof=1)) if mask.sum() > 1 else 0.0,
    }


def _comparisons(
    summary: list[dict], control_index: int, *, adjusted_test: bool, revenue: bool
) -> dict[int, dict]:
    """Each treatment against the control, by index, with Holm-adjusted p-values."""
    control = summary[control_index]
    comparisons: dict[int, dict] = {}
    for i, s in enumerate(summary):
        if i == control_index or s["n"] < 2 or control["n"] < 2:
            continue
        comparisons[i] = _comparison(control, s, adjusted_test=adjusted_test, revenue=revenue)
    adjusted_p = stats.holm([c["test"].p_value for c in comparisons.values()])
    for c, p in zip(comparisons.values(), adjusted_p, strict=True):
        c["p"] = p
    return comparisons


def _comparison(control: dict, s: dict, *, adjusted_test: bool, revenue: bool) -> dict:
    """The test, always-valid interval, chance to win and expected loss of one treatment."""
    if adjusted_test:
        test = stats.welch_ttest(
            control["adj_mean"], control["adj_var"], control["n"],
            s["adj_mean"], s["adj_var"], s["n"],
        )  # fmt: skip
    else:
        test = stats.two_proportion_ztest(
            control["conversions"], control["n"], s["conversions"], s["n"]
        )
    sequential = stats.confidence_sequence(
        control["adj_mean"], control["adj_var"], control["n"],
        s["adj_mean"], s["adj_var"], s["n"],
    )  # fmt: skip
    if revenue:
        se = np.sqrt(control["adj_var"] / control["n"] + s["adj_var"] / s["n"])
        diff = s["adj_mean"] - control["adj_mean"]
        chance = float(norm.cdf(diff / se)) if se > 0 else float(diff > 0)
        loss = float(se * norm.pdf(diff / se) - diff * (1 - chance)) if se else 0.0
    else:
        bayes = stats.beta_binomial(control["conversions"], control["n"], s["conversions"], s["n"])
        chance, loss = bayes.chance_to_beat_control, bayes.expected_loss
    return {"test": test, "seq": sequential, "chance": chance, "loss": loss}


def _variation_result(
    variation: Variation, s: dict, c: dict | None, is_control: bool, cuped_used: bool
) -> VariationResult:
    extra = {}
    if c is not None:
        t = c["test"]
        extra = {
            "lift": t.lift, "lift_low": t.lift_low, "lift_high": t.lift_high,
            "p_value": c["p"], "chance_to_win": c["chance"], "expected_loss": c["loss"],
            "sequential_low": c["seq"].ci_low, "sequential_high": c["seq"].ci_high,
        }  # fmt: skip
    return VariationResult(
        key=variation.key, name=variation.name or variation.key,
        is_control=is_control, weight=variation.weight, visitors=s["n"],
        conversions=s["conversions"], mean=s["mean"],
        adjusted_mean=s["adj_mean"] if cuped_used else None, **extra,
    )  # fmt: skip


def experiment_results(experiment: Experiment, *, now: datetime | None = None) -> Results:
    """Every metric's results per variation, the SRM check and the primary metric over time."""
    now = now or timezone.now()
    variations = list(experiment.variations.order_by("position"))
    metrics = list(experiment.metrics.order_by("-is_primary", "pk"))
    metric_results = [_metric_result(experiment, m, variations, now) for m in metrics]
    counts = dict(
        Exposure.objects.filter(experiment=experiment)
        .values("variation_id")
        .annotate(n=Count("pk"))
        .values_list("variation_id", "n")
    )
    observed = [counts.get(v.pk, 0) for v in variations]
    # A bandit moves its weights on purpose: a ratio check against today's weights means nothing.
    srm = (
        stats.srm_check(observed, [v.weight for v in variations])
        if variations and not experiment.is_bandit and sum(observed) > 0
        else None
    )
    return Results(
        experiment=experiment, metrics=metric_results, srm=srm, visitors=sum(observed),
        sample_size=experiment_sample_size(experiment, len(variations)),
    )  # fmt: skip


def bandit_counts(experiment: Experiment, metric: Metric) -> list[tuple[Variation, int, int]]:
    """(variation, exposed visitors, converted visitors) on `metric`, for a bandit update."""
    variations = list(experiment.variations.order_by("position"))
    rows = exposure_rows(experiment, metric)
    counts = {v.pk: [0, 0] for v in variations}
    for variation_id, _, converted_at, value, _ in rows:
        counts[variation_id][0] += 1
        success = value > 0 if metric.kind == Metric.Kind.REVENUE else converted_at is not None
        counts[variation_id][1] += int(success)
    return [(v, *counts[v.pk]) for v in variations]
