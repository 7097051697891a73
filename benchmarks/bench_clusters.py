"""Clustering: fit and assign time and peak memory as the population grows, against bare KMeans.

Synthetic feature rows (`personalization.clustering.synthetic`, four known groups) without the
database at 10k, 100k and 1M visitors. Tailor fits on a sample of at most 50,000 rows (k-means
up to 20,000, mini-batch k-means above), tries every k of 2-8 (fit time: encoding the sample,
seven fits and their scores), then assigns every row in chunks of 10,000 (assign time: encoding
the raw rows and predicting), never holding the whole matrix. The baseline, in the same run, is
scikit-learn's KMeans (one start) fitted and predicting on the whole matrix, already encoded,
at the k Tailor chose: one fit against seven, no encoding, everything in memory at once.
Times come from an untraced pass; peak memory from a second pass under tracemalloc (numpy's
buffers included; generating rows excluded for the baseline, included chunk by chunk for
Tailor). ARI compares each result with the true groups.
Then the same pipeline end to end on PostgreSQL (`clusters_compute_all`) for 5,000 visitors,
and what the `clusters` attribute costs a decision beside reading the visitor's features.
"""

import time
import tracemalloc

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from support import best_of, test_database

from personalization.clustering.features import FeatureFrame
from personalization.clustering.model import clusters_fit
from personalization.clustering.synthetic import synthetic_frame

SIZES = (10_000, 100_000, 1_000_000)
SAMPLE = 50_000
MINIBATCH_ABOVE = 20_000
CHUNK = 10_000
K_RANGE = (2, 8)
DB_VISITORS = 5_000


def chunks(size: int, seed: int):
    """The population `size`, generated chunk by chunk (the same rows on every call)."""
    for start in range(0, size, CHUNK):
        yield synthetic_frame(min(CHUNK, size - start), seed=seed + start, start_id=start)


def tailor(size: int, seed: int, *, traced: bool = False) -> dict:
    if traced:
        tracemalloc.start()
    rng = np.random.default_rng(seed)
    share = min(1.0, SAMPLE / size)
    sample = []
    for frame, _ in chunks(size, seed):  # a random sample, read as the database would give it
        picked = np.flatnonzero(rng.random(len(frame)) < share)
        sample.append(frame.take(picked))
    sample_frame = FeatureFrame.concat(sample)
    algorithm = "minibatch" if len(sample_frame) > MINIBATCH_ABOVE else "kmeans"
    started = time.perf_counter()
    model, _ = clusters_fit(sample_frame, algorithm=algorithm, k_range=K_RANGE, seed=seed)
    fitted = time.perf_counter()
    encode_seconds, assign_seconds, labels, truth = 0.0, 0.0, [], []
    for frame, groups in chunks(size, seed):
        begun = time.perf_counter()
        matrix = model.encoder.transform(frame)
        encoded = time.perf_counter()
        labels.append(model.predict_matrix(matrix))
        encode_seconds += encoded - begun
        assign_seconds += time.perf_counter() - encoded
        truth.append(groups)
    peak = 0
    if traced:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return {
        "algorithm": algorithm,
        "k": model.k,
        "fit": fitted - started,
        "encode": encode_seconds,
        "assign": assign_seconds,
        "peak": peak,
        "ari": adjusted_rand_score(np.concatenate(truth), np.concatenate(labels)),
        "model": model,
    }


def baseline(size: int, seed: int, model, k: int) -> dict:
    parts, truth = [], []
    for frame, groups in chunks(size, seed):
        parts.append(model.encoder.transform(frame))
        truth.append(groups)
    matrix = np.vstack(parts)
    del parts
    started = time.perf_counter()
    estimator = KMeans(n_clusters=k, n_init=1, random_state=seed).fit(matrix)
    fitted = time.perf_counter()
    labels = estimator.predict(matrix)
    assigned = time.perf_counter()
    tracemalloc.start()  # a second, traced fit: tracing slows what it watches
    KMeans(n_clusters=k, n_init=1, random_state=seed).fit(matrix).predict(matrix)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "fit": fitted - started,
        "encode": 0.0,
        "assign": assigned - fitted,
        "peak": peak + matrix.nbytes,  # the matrix existed before tracing started
        "ari": adjusted_rand_score(np.concatenate(truth), labels),
    }


def end_to_end() -> None:
    from django.utils import timezone

    from personalization.clustering.selectors import visitor_clusters
    from personalization.clustering.services import clusters_compute_all
    from personalization.features.models import VisitorFeatures
    from personalization.visitors.models import Visitor
    from tests.factories.clusters import population_create

    with test_database():
        population_create(DB_VISITORS, seed=7)
        started = time.perf_counter()
        summary = clusters_compute_all(chunk_size=1000)
        seconds = time.perf_counter() - started
        tracemalloc.start()
        clusters_compute_all(chunk_size=1000)  # again, traced, for the peak
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        ids = list(Visitor.objects.values_list("pk", flat=True)[:200])
        consent = {"personalization": True}
        cost = best_of(lambda: [visitor_clusters(pk, consent) for pk in ids], repeat=5) / len(ids)
        features = best_of(
            lambda: [VisitorFeatures.objects.filter(visitor_id=pk).first() for pk in ids], repeat=5
        ) / len(ids)
        print(
            f"\nend to end on the database ({timezone.now():%Y-%m-%d}): {DB_VISITORS:,} visitors, "
            f"k={summary['k']} chosen from {K_RANGE[0]}-{K_RANGE[1]}, {summary['chunks']} chunks: "
            f"{seconds:.1f} s ({DB_VISITORS / seconds:,.0f} visitors/s), "
            f"peak {peak / 2**20:.1f} MiB"
        )
        print(
            f"the clusters attribute on the decision path: {cost * 1e6:.0f} µs a visitor (one "
            f"indexed query) beside reading the visitor's features row {features * 1e6:.0f} µs "
            f"({cost / features:.2f}x)"
        )


def main() -> None:
    print(
        f"{'visitors':>10}  {'who':<28} {'k':>2}  {'fit s':>7}  {'encode s':>8}  "
        f"{'predict s':>9}  {'rows/s encode+predict':>21}  {'peak MiB':>8}  {'ARI':>5}"
    )
    for n, size in enumerate(SIZES):
        ours = tailor(size, seed=n)
        # Peak memory in a second, traced pass: tracing slows Python code several times over.
        ours["peak"] = tailor(size, seed=n, traced=True)["peak"]
        theirs = baseline(size, n, ours["model"], ours["k"])
        for who, result, k in (
            (f"Tailor ({ours['algorithm']}, k {K_RANGE[0]}-{K_RANGE[1]})", ours, ours["k"]),
            ("bare KMeans, whole matrix", theirs, ours["k"]),
        ):
            print(
                f"{size:>10,}  {who:<28} {k:>2}  {result['fit']:>7.2f}  "
                f"{result['encode']:>8.2f}  {result['assign']:>9.2f}  "
                f"{size / (result['encode'] + result['assign']):>21,.0f}  "
                f"{result['peak'] / 2**20:>8.1f}  {result['ari']:>5.3f}"
            )
        print(
            f"{'':>10}  ratio Tailor / baseline: fit {ours['fit'] / theirs['fit']:.1f}x, "
            f"predict {ours['assign'] / theirs['assign']:.1f}x (plus encoding raw rows, which "
            "the baseline is given), "
            f"peak memory {ours['peak'] / theirs['peak']:.2f}x"
        )
    end_to_end()


if __name__ == "__main__":
    main()
