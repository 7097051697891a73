"""Personalization's uplift: holdout against personalized visitors, from the rollups' sums.

The personalization holdout (an experiment with `is_holdout`) shows default content everywhere
to its control; everyone else is personalized. Visitors are compared on conversion rate and
revenue per visitor within the attribution window after their first exposure, with the tests of
`experiments.stats`. Where visitors had activity in the 30 days before exposure, both metrics
are CUPED-adjusted with it (θ from every visitor together, as `experiments.stats.cuped` does),
computed from sums of squares and products: the rollups hold no row per visitor.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Sum

from experiments import stats
from experiments.models import Experiment
from insights.models import HoldoutRollup
from insights.selectors import Range, threshold

SUMS = ["visitors", "conversions", "revenue", "revenue_sq", "pre", "pre_sq", "pre_revenue",
        "pre_converted"]  # fmt: skip


@dataclass(frozen=True)
class Arm:
    visitors: int
    conversions: int
    rate: float
    revenue_per_visitor: float


@dataclass(frozen=True)
class MetricUplift:
    name: str  # "conversion rate", "revenue per visitor"
    holdout: float
    personalized: float
    lift: float | None  # personalized / holdout - 1 (of the adjusted means with CUPED)
    low: float | None  # 95 % interval of the difference, over the holdout's mean
    high: float | None
    p_value: float
    cuped: bool
    variance_reduction: float


@dataclass(frozen=True)
class Uplift:
    experiment: Experiment | None
    holdout: Arm | None
    personalized: Arm | None
    conversion: MetricUplift | None
    revenue: MetricUplift | None
    verdict: str
    significant: bool = False


def _moments(n, s, q):
    mean = s / n
    var = (q - s * s / n) / (n - 1) if n > 1 else 0.0
    return mean, max(var, 0.0)


def _cov(n, sx, sy, sxy):
    return (sxy - sx * sy / n) / (n - 1) if n > 1 else 0.0


def _metric(name: str, arms: dict[str, dict], y: str, y_sq: str, xy: str) -> MetricUplift:
    """Welch's test on CUPED-adjusted means when the pre-period helps, else on plain means."""
    h, p = arms[HoldoutRollup.HOLDOUT], arms[HoldoutRollup.PERSONALIZED]
    total = {k: h[k] + p[k] for k in SUMS}
    n = total["visitors"]
    _, var_x = _moments(n, total["pre"], total["pre_sq"])
    theta = _cov(n, total["pre"], total[y], total[xy]) / var_x if var_x > 0 else 0.0
    mean_x = total["pre"] / n
    adjusted = []
    for arm in (h, p):
        m, v = _moments(arm["visitors"], arm[y], arm[y_sq])
        mx, vx = _moments(arm["visitors"], arm["pre"], arm["pre_sq"])
        c = _cov(arm["visitors"], arm["pre"], arm[y], arm[xy])
        adjusted.append(
            (m, v, m - theta * (mx - mean_x), max(v + theta**2 * vx - 2 * theta * c, 0))
        )
    plain_var = sum(a[1] for a in adjusted)
    adj_var = sum(a[3] for a in adjusted)
    cuped = theta != 0 and adj_var < plain_var
    if name == "conversion rate" and not cuped:
        test = stats.two_proportion_ztest(h["conversions"], h["visitors"], p["conversions"],
                                          p["visitors"])  # fmt: skip
    else:
        index = (2, 3) if cuped else (0, 1)
        (hm, hv), (pm, pv) = ((a[index[0]], a[index[1]]) for a in adjusted)
        test = stats.welch_ttest(hm, hv, h["visitors"], pm, pv, p["visitors"])
    reduction = 1 - adj_var / plain_var if cuped and plain_var else 0.0
    base = adjusted[0][2] if cuped else adjusted[0][0]
    # The test's interval of the difference, relative to the holdout's mean: it agrees with the
    # p-value (the delta method's interval of a ratio is far wider when the holdout is small).
    low, high = (test.ci_low / base, test.ci_high / base) if base > 0 else (None, None)
    return MetricUplift(name, adjusted[0][0], adjusted[1][0], test.lift, low, high,
                        test.p_value, cuped, reduction)  # fmt: skip


def _percent(value: float) -> str:
    return f"{value * 100:+.1f} %"


def verdict(conversion: MetricUplift) -> tuple[str, bool]:
    """The headline in plain words, and whether the interval excludes no difference."""
    if conversion.lift is None:
        return "The holdout has no conversions yet: no uplift can be measured.", False
    interval = f"95 % interval {_percent(conversion.low)} to {_percent(conversion.high)}"
    if conversion.low > 0:
        return f"Personalization adds {_percent(conversion.lift)} conversions ({interval}).", True
    if conversion.high < 0:
        return (f"Personalization costs {_percent(conversion.lift)} conversions ({interval}): "
                "review the rules.", True)  # fmt: skip
    return (f"No clear difference yet: {_percent(conversion.lift)} conversions ({interval}). "
            "Keep the holdout running.", False)  # fmt: skip


def holdout_latest() -> Experiment | None:
    return Experiment.objects.filter(is_holdout=True).order_by("-start_at", "-pk").first()


def uplift(period: Range) -> Uplift:
    """The uplift of visitors first exposed within the range (two queries)."""
    experiment = holdout_latest()
    if experiment is None:
        return Uplift(
            None,
            None,
            None,
            None,
            None,
            "No personalization holdout: create one in Experiments to measure uplift.",
        )
    sums = {row["arm"]: row for row in HoldoutRollup.objects.filter(
        experiment_id=experiment.pk, day__gte=period.start, day__lte=period.end,
    ).values("arm").annotate(**{k: Sum(k) for k in SUMS}).values("arm", *SUMS)}  # fmt: skip
    arms = {
        name: {k: float(sums.get(name, {}).get(k) or 0) for k in SUMS}
        for name in (HoldoutRollup.HOLDOUT, HoldoutRollup.PERSONALIZED)
    }
    views = {}
    for name, arm in arms.items():
        n = int(arm["visitors"])
        views[name] = (
            Arm(
                n,
                int(arm["conversions"]),
                arm["conversions"] / n if n else 0.0,
                arm["revenue"] / n if n else 0.0,
            )
            if n >= threshold()
            else None
        )
    if any(v is None or v.visitors < 2 for v in views.values()):
        return Uplift(
            experiment,
            views[HoldoutRollup.HOLDOUT],
            views[HoldoutRollup.PERSONALIZED],
            None,
            None,
            f"Too few visitors in the holdout or the personalized group "
            f"in this period (at least {max(threshold(), 2)} each) to measure uplift.",
        )
    conversion = _metric("conversion rate", arms, "conversions", "conversions", "pre_converted")
    revenue = _metric("revenue per visitor", arms, "revenue", "revenue_sq", "pre_revenue")
    text, significant = verdict(conversion)
    return Uplift(experiment, views[HoldoutRollup.HOLDOUT], views[HoldoutRollup.PERSONALIZED],
                  conversion, revenue, text, significant)  # fmt: skip
