"""Default periodic tasks, created once in django-celery-beat's tables for operators to edit.

Each app's periodic work is listed here so that one command, `setup_schedules`, creates it.
A schedule that already exists (by name) is left exactly as the operator last saved it.
"""

from dataclasses import dataclass

from django.db import transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask


@dataclass(frozen=True)
class DefaultSchedule:
    name: str
    task: str
    description: str
    crontab: dict[str, str] | None = None  # minute, hour, day_of_week, day_of_month, month_of_year
    every_seconds: int | None = None


DEFAULT_SCHEDULES: tuple[DefaultSchedule, ...] = (
    DefaultSchedule(
        name="Send webhook deliveries that are due",
        task="tailor.webhook_deliveries_due",
        description="Every 10 seconds: queues webhook deliveries whose retry is due or whose "
        "worker was lost, and deletes finished ones older than 30 days.",
        every_seconds=10,
    ),
    DefaultSchedule(
        name="Fire triggers for events not followed in time",
        task="tailor.triggers_watches_due",
        description="Every minute: abandoned carts and other events not followed by the "
        "expected one within the trigger's time fire their trigger.",
        every_seconds=60,
    ),
    DefaultSchedule(
        name="Restart runs whose worker was lost",
        task="tailor.reap_stale_runs",
        description="Every minute: runs (features, segments, clusters, recommendations, scores) "
        "without a heartbeat for TAILOR_RUN_STALE_SECONDS are marked failed and started again.",
        every_seconds=60,
    ),
    DefaultSchedule(
        name="Clear expired sessions",
        task="tailor.clear_expired_sessions",
        description="Deletes expired login sessions every night.",
        crontab={"minute": "17", "hour": "3"},
    ),
    DefaultSchedule(
        name="Compute profile features nightly",
        task="tailor.compute_features",
        description="Recomputes every visitor's features (recency, RFM, lifecycle, affinities).",
        crontab={"minute": "40", "hour": "2"},
    ),
    DefaultSchedule(
        name="Refresh profile features during the day",
        task="tailor.compute_features",
        description="Picks up the day's events every 4 hours; disable it on very large sites.",
        crontab={"minute": "40", "hour": "8,12,16,20"},
    ),
    DefaultSchedule(
        name="Delete expired events",
        task="tailor.delete_expired_events",
        description="Deletes events older than EVENT_RETENTION_DAYS every night; on PostgreSQL "
        "whole months are dropped as partitions.",
        crontab={"minute": "10", "hour": "4"},
    ),
    DefaultSchedule(
        name="Create event partitions ahead",
        task="tailor.maintain_event_partitions",
        description="On PostgreSQL: creates the monthly partitions of the events table for "
        "this month and the next three, and moves events that arrived for a month without "
        "one out of the DEFAULT partition into a partition of their own month.",
        crontab={"minute": "5", "hour": "1"},
    ),
    DefaultSchedule(
        name="Apply consent retention",
        task="tailor.apply_consent_retention",
        description="Deletes data kept for each purpose past that purpose's retention days.",
        crontab={"minute": "25", "hour": "4"},
    ),
    DefaultSchedule(
        name="Compute predictive scores nightly",
        task="tailor.compute_scores",
        description="Retrains the churn and purchase scores on fresh events and scores every "
        "consenting visitor before segments are computed; the new run is served only if its "
        "held-out ROC AUC is at least the current one's.",
        crontab={"minute": "0", "hour": "3"},
    ),
    DefaultSchedule(
        name="Compute segment memberships nightly",
        task="tailor.compute_segments",
        description="Recomputes the members of every precomputed rule segment once features "
        "are fresh, and records each segment's size for the day.",
        crontab={"minute": "20", "hour": "3"},
    ),
    DefaultSchedule(
        name="Refresh segment memberships during the day",
        task="tailor.compute_segments",
        description="Follows the daytime feature refresh; disable it on very large sites.",
        crontab={"minute": "20", "hour": "9,13,17,21"},
    ),
    DefaultSchedule(
        name="Update bandit allocations",
        task="tailor.update_bandits",
        description="Moves each running bandit experiment's traffic towards its best "
        "variations (Thompson sampling, with a minimum share per variation).",
        crontab={"minute": "5"},
    ),
    DefaultSchedule(
        name="Compute recommendations nightly",
        task="tailor.compute_recommendations",
        description="Retrains the recommenders on fresh events and stores every visitor's "
        "list; the new run is served only if it scores at least as well as the current one.",
        crontab={"minute": "50", "hour": "3"},
    ),
    DefaultSchedule(
        name="Compute visitor clusters weekly",
        task="tailor.compute_clusters",
        description="Clusters visitors on fresh features every Monday night; the new run "
        "becomes current and cluster segments follow it.",
        crontab={"minute": "50", "hour": "3", "day_of_week": "1"},
    ),
    DefaultSchedule(
        name="Update insights",
        task="tailor.compute_insights",
        description="Every 15 minutes: rewrites the insights rollups of the days (and hours) "
        "touched by impressions, events and holdout exposures that arrived since the last run.",
        every_seconds=900,
    ),
    DefaultSchedule(
        name="Recompute recent insights nightly",
        task="tailor.recompute_insights",
        description="Rewrites the last 3 days of the insights rollups whatever the watermark "
        "says, for rows written out of order.",
        crontab={"minute": "35", "hour": "4"},
    ),
)


@transaction.atomic
def schedules_ensure(
    schedules: tuple[DefaultSchedule, ...] = DEFAULT_SCHEDULES,
) -> list[PeriodicTask]:
    """Create the periodic tasks that do not exist yet; return the ones created."""
    existing = set(
        PeriodicTask.objects.filter(name__in=[s.name for s in schedules]).values_list(
            "name", flat=True
        )
    )
    created = []
    for schedule in schedules:
        if schedule.name in existing:
            continue
        timing: dict[str, object]
        if schedule.crontab is not None:
            crontab, _ = CrontabSchedule.objects.get_or_create(**schedule.crontab, timezone="UTC")
            timing = {"crontab": crontab}
        elif schedule.every_seconds is not None:
            interval, _ = IntervalSchedule.objects.get_or_create(
                every=schedule.every_seconds, period=IntervalSchedule.SECONDS
            )
            timing = {"interval": interval}
        else:
            raise ValueError(f"schedule {schedule.name!r} needs a crontab or every_seconds")
        created.append(
            PeriodicTask.objects.create(
                name=schedule.name, task=schedule.task, description=schedule.description, **timing
            )
        )
    return created
