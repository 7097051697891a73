"""Clusters turned into segments, names, and what happens to both when a new run is current.

Carry-over rule: when a new run becomes current, each cluster of the previous current run that
an editor named or turned into a segment passes its name and segment to the new cluster that
shares most visitors with it, if they are the same group: visitors in both make up at least
`CARRY_OVER_SHARE` of the visitors in either (Jaccard), so a cluster swallowed by a bigger one
is not renamed after it. Each new cluster takes over at most one old one, biggest overlap first.
A cluster segment always holds exactly the visitors of the current cluster linked to it: a
segment whose cluster found no successor is emptied and says so in its description, until an
editor turns a cluster of the current run into it again.

Cost: the overlap is one GROUP BY over the two runs' memberships; refreshing a segment reads its
members and the cluster's (memory O(segment size) ids) and writes only the difference.
"""

from datetime import datetime

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from config.errors import ApplicationError
from personalization.clustering.models import Cluster, ClusterMembership, ClusterRun
from personalization.clustering.selectors import clusters_cache_bump
from personalization.segments.models import Segment
from personalization.segments.services import segment_members_write

CARRY_OVER_SHARE = 0.5


class ClusterError(ApplicationError):
    """A clustering run that cannot be done as asked."""


def carry_over(*, previous: ClusterRun, clusters: list[Cluster]) -> None:
    """Hand names and segments of the previous run's clusters to their successors in `clusters`."""
    old = {
        c.pk: c for c in Cluster.objects.filter(run=previous).exclude(name="", segment__isnull=True)
    }
    if not old:
        return
    overlap = (
        ClusterMembership.objects.filter(
            run_id=clusters[0].run_id if clusters else None,
            visitor__cluster_memberships__run=previous,
            visitor__cluster_memberships__cluster_id__in=list(old),
        )
        .values_list("visitor__cluster_memberships__cluster_id", "cluster_id")
        .annotate(n=Count("pk"))
    )
    by_pk = {c.pk: c for c in clusters}
    pairs = sorted(overlap, key=lambda row: -row[2])  # the biggest overlaps choose first
    taken_old: set[int] = set()
    taken_new: set[int] = set()
    for old_pk, new_pk, shared in pairs:
        source = old[old_pk]
        if old_pk in taken_old or new_pk in taken_new:
            continue
        # Jaccard overlap: the same group of people, not a cluster that swallowed it.
        if shared < CARRY_OVER_SHARE * (source.size + by_pk[new_pk].size - shared):
            continue
        taken_old.add(old_pk)
        taken_new.add(new_pk)
        target = by_pk[new_pk]
        target.name, target.segment_id, target.inherited_from_id = (
            source.name, source.segment_id, source.pk,
        )  # fmt: skip
    Cluster.objects.bulk_update(clusters, ["name", "segment", "inherited_from"])
    new_run = clusters[0].run_id if clusters else None
    for pk, source in old.items():
        if pk in taken_old or source.segment_id is None:
            continue
        Segment.objects.filter(pk=source.segment_id).update(
            description=f"{source} of run {previous.pk} has no successor in run {new_run}: no "
            "members until a cluster of the current run is turned into this segment."
        )


def cluster_segments_sync(*, run: ClusterRun, now: datetime | None = None) -> dict[str, int]:
    """Make every cluster segment hold exactly its current cluster's visitors; key → size."""
    now = now or timezone.now()
    linked = {c.segment_id: c.pk for c in Cluster.objects.filter(run=run, segment__isnull=False)}
    sizes = {}
    for segment in Segment.objects.filter(kind=Segment.Kind.CLUSTER):
        cluster_id = linked.get(segment.pk)
        wanted = set(
            ClusterMembership.objects.filter(cluster_id=cluster_id).values_list(
                "visitor_id", flat=True
            )
            if cluster_id is not None
            else []
        )
        written = segment_members_write(segment=segment, wanted=wanted, replace=True, now=now)
        sizes[segment.key] = written["members"]
    return sizes


@transaction.atomic
def cluster_rename(*, cluster: Cluster, name: str) -> Cluster:
    """Name a cluster; its slug joins `cluster-<n>` in the `clusters` attribute."""
    cluster.name = name.strip()
    cluster.save(update_fields=["name"])
    if cluster.segment_id is not None and cluster.name:
        Segment.objects.filter(pk=cluster.segment_id).update(name=cluster.name)
    clusters_cache_bump()
    return cluster


@transaction.atomic
def cluster_segment_create(*, cluster: Cluster, now: datetime | None = None) -> Segment:
    """Turn a cluster into a cluster segment (its name's slug, else `cluster-<run>-<n>`)."""
    now = now or timezone.now()
    if not ClusterRun.objects.filter(pk=cluster.run_id, is_current=True).exists():
        raise ClusterError(
            f"{cluster} belongs to run {cluster.run_id}, which is not current: only clusters "
            "of the current run can become segments",
            {"run": ["not the current run"]},
        )
    if cluster.segment_id is not None:
        segment = cluster.segment
    else:
        key = cluster.name_key or f"cluster-{cluster.run_id}-{cluster.number}"
        segment = Segment.objects.filter(key=key).first()
        if segment is not None and segment.kind != Segment.Kind.CLUSTER:
            raise ClusterError(
                f"a {segment.get_kind_display().lower()} segment already has the key {key!r}: "
                "rename the cluster first",
                {"name": [f"the segment key {key!r} is taken"]},
            )
        if segment is None:
            segment = Segment(
                key=key,
                name=cluster.name or f"Cluster {cluster.number} of run {cluster.run_id}",
                kind=Segment.Kind.CLUSTER,
            )
        segment.description = cluster.description
        segment.save()
        # A segment follows one cluster of the current run at a time (older runs keep history).
        Cluster.objects.filter(run_id=cluster.run_id, segment=segment).exclude(
            pk=cluster.pk
        ).update(segment=None)
        cluster.segment = segment
        cluster.save(update_fields=["segment"])
    wanted = set(
        ClusterMembership.objects.filter(cluster=cluster).values_list("visitor_id", flat=True)
    )
    segment_members_write(segment=segment, wanted=wanted, replace=True, now=now)
    return segment
