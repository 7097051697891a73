"""Thin Celery tasks of insights; the work lives in `insights.services`."""

from celery import shared_task

from config.tasking import RETRIES
from insights import services
from insights.views import dashboard_warm


@shared_task(name="tailor.compute_insights", **RETRIES)
def compute_insights() -> dict[str, int]:
    """Bring the rollups up to date with the rows that arrived since the last run."""
    result = services.insights_compute()
    dashboard_warm()
    return {"days": result.days, "hours": result.hours, "cells": result.cells}


@shared_task(name="tailor.recompute_insights", **RETRIES)
def recompute_insights(days: int = 3) -> dict[str, int]:
    """Rewrite the last days of the rollups whatever the watermark says (rows written late)."""
    result = services.insights_recompute(days=days)
    dashboard_warm()
    return {"days": result.days, "hours": result.hours, "cells": result.cells}
