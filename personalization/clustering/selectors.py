"""Reading clusters on the decision path: the `clusters` attribute of a visitor.

`attributes["clusters"]` lists the keys of the visitor's cluster in the current run: always
`cluster-<number>`, plus the slug of the editor's name when the cluster has one (a cluster
named "Weekend runners" gives `["cluster-3", "weekend-runners"]`). Conditions such as
`{"clusters": "weekend-runners"}` keep working across runs as long as the name is carried
over (see `personalization.clustering.services`); `cluster-<number>` changes from run to run.

Cost: the current run's cluster keys are loaded once per process and reloaded when the shared
version `CLUSTERS_VERSION` changes (a run becoming current, a rename; `config.versioning`
checks it at most once a second), so a visitor's clusters cost one indexed query (run,
visitor), and none at all when no run is current or the visitor has no personalization consent.
"""

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from config.versioning import SharedVersion
from consent.purposes import PERSONALIZATION
from personalization.clustering.models import Cluster, ClusterMembership, ClusterRun
from personalization.visitors.snapshots import snapshots_invalidate_all

# Read at most once a second per process (every decision asks).
CLUSTERS_VERSION = SharedVersion("tailor:clusters:version")


@dataclass(frozen=True)
class CurrentClusters:
    """The current run's id and each of its clusters' keys (None: no run is current)."""

    version: int
    run_id: int | None
    keys: Mapping[int, tuple[str, ...]]  # cluster id → keys


_lock = threading.Lock()
_current: dict[str, CurrentClusters | None] = {"clusters": None}


def clusters_cache_bump() -> None:
    """Make every process reload the current run's cluster keys, now and after commit."""
    _current["clusters"] = None
    CLUSTERS_VERSION.bump_on_write()
    snapshots_invalidate_all()  # snapshots hold each visitor's cluster keys


def clusters_cache_clear() -> None:
    """Forget this process's copy (tests: a rolled-back run leaves a stale one)."""
    _current["clusters"] = None
    CLUSTERS_VERSION.forget()


def current_clusters() -> CurrentClusters:
    """The current run and its cluster keys: this process's copy while the version holds."""
    version = CLUSTERS_VERSION.current()
    current = _current["clusters"]
    if current is not None and current.version == version:
        return current
    with _lock:
        run_id = ClusterRun.objects.filter(is_current=True).values_list("pk", flat=True).first()
        keys: dict[int, tuple[str, ...]] = {}
        if run_id is not None:
            for cluster in Cluster.objects.filter(run_id=run_id).only("pk", "number", "name"):
                keys[cluster.pk] = tuple(
                    dict.fromkeys(k for k in (cluster.key, cluster.name_key) if k)
                )
        current = CurrentClusters(version=version, run_id=run_id, keys=keys)
        _current["clusters"] = current
    return current


def visitor_clusters(
    visitor_id: int | None, consent: Mapping[str, bool] | None = None
) -> list[str]:
    """The keys of the visitor's cluster in the current run; [] without one or without consent."""
    if visitor_id is None or (consent is not None and not consent.get(PERSONALIZATION, False)):
        return []
    current = current_clusters()
    if current.run_id is None:
        return []
    cluster_id = (
        ClusterMembership.objects.filter(run_id=current.run_id, visitor_id=visitor_id)
        .values_list("cluster_id", flat=True)
        .first()
    )
    return list(current.keys.get(cluster_id, ())) if cluster_id is not None else []


def visitor_clusters_many(visitor_ids: Iterable[int]) -> dict[int, list[str]]:
    """Cluster keys per visitor id (only those in a cluster), in one query for all."""
    current = current_clusters()
    ids = list(visitor_ids)
    if current.run_id is None or not ids:
        return {}
    rows = ClusterMembership.objects.filter(run_id=current.run_id, visitor_id__in=ids).values_list(
        "visitor_id", "cluster_id"
    )
    return {visitor_id: list(current.keys.get(cluster_id, ())) for visitor_id, cluster_id in rows}
