"""Clustering services: runs (`runs`) and clusters turned into segments (`segments`)."""

from personalization.clustering.model import DEFAULT_K_RANGE
from personalization.clustering.runs import (
    MINIBATCH_ABOVE,
    SAMPLE_SIZE,
    cluster_frame_load,
    cluster_memberships_assign,
    cluster_model,
    cluster_run_create,
    cluster_run_fail,
    cluster_run_fail_by_id,
    cluster_run_finish,
    cluster_run_finish_if_complete,
    cluster_run_fit,
    clusters_compute_all,
)
from personalization.clustering.segments import (
    CARRY_OVER_SHARE,
    ClusterError,
    cluster_rename,
    cluster_segment_create,
    cluster_segments_sync,
)

__all__ = [
    "CARRY_OVER_SHARE", "DEFAULT_K_RANGE", "MINIBATCH_ABOVE", "SAMPLE_SIZE", "ClusterError",
    "cluster_frame_load", "cluster_memberships_assign", "cluster_model", "cluster_rename",
    "cluster_run_create", "cluster_run_fail", "cluster_run_fail_by_id", "cluster_run_finish",
    "cluster_run_finish_if_complete", "cluster_run_fit", "cluster_segment_create",
    "cluster_segments_sync", "clusters_compute_all",
]  # fmt: skip
