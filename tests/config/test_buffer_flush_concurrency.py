"""Two web processes flush page views and exposures of the same visitors at the same time."""

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import pytest
from django.db import connection

from experiments.models import Exposure
from personalization.visitors.models import Event, Visitor
from tests.config.concurrent_flush import flush_rounds
from tests.conftest import _database_url
from tests.factories.experiments import ExperimentFactory


def deadlocks() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_two_processes_flushing_the_same_visitors_store_every_row_without_a_deadlock():
    visitors = [v.pk for v in Visitor.objects.bulk_create(Visitor() for _ in range(300))]
    experiments = [ExperimentFactory(status="running") for _ in range(4)]
    exposures = [(e.pk, e.variations.get(is_control=True).pk) for e in experiments]
    before = deadlocks()
    spawn = multiprocessing.get_context("spawn")

    with spawn.Manager() as manager, ProcessPoolExecutor(2, mp_context=spawn) as pool:
        barrier = manager.Barrier(2)
        jobs = {"database_url": _database_url(), "visitor_ids": visitors, "exposures": exposures}
        jobs |= {"rounds": 20, "per_round": 200, "barrier": barrier}
        futures = [pool.submit(flush_rounds, seed=seed, **jobs) for seed in (1, 2)]
        results = [future.result(timeout=120) for future in futures]

    pairs = {tuple(pair) for result in results for pair in result["pairs"]}
    stored = set(Exposure.objects.values_list("visitor_id", "experiment_id"))
    assert Event.objects.count() == sum(result["views"] for result in results)
    assert stored == pairs
    assert deadlocks() == before
