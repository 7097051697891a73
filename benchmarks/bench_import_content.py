"""Time `import_content` on 10,000 synthetic rows beside a plain `bulk_create` of the same rows.

Run from the repository root: `.venv/bin/python benchmarks/bench_import_content.py`. `make bench`
gives it a throwaway PostgreSQL through DATABASE_URL; without one it uses SQLite. Either way it
works in a test database of its own, created here and destroyed at the end.

The baseline inserts the rows as items with no validation, sanitizing, tags or revisions; the
imports do all of that, so the ratio is the price of a safe, idempotent import. Queries per
import grow with the number of batches (rows / 2,000), never with rows inside a batch.
"""

import csv
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from io import StringIO
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from support import test_database  # noqa: E402

from content.models import ContentItem, ContentKind, Tag  # noqa: E402
from content.transfer import COLUMNS  # noqa: E402

ROWS = 10_000
ROUNDS = 3
KINDS = ["article", "product", "offer"]
TAGS = [
    f"{root}/{leaf}"
    for root, leaves in {
        "sports": ["football", "running", "cycling"],
        "outdoors": ["hiking", "camping"],
        "tech": ["phones", "laptops", "audio"],
        "home": ["kitchen", "garden"],
    }.items()
    for leaf in leaves
] + ["sale", "new", "bestseller"]


def synthetic_rows(version: int) -> list[dict[str, str]]:
    """ROWS rows; another `version` changes every row's title, body and tags."""
    rng = random.Random(version)
    rows = []
    for n in range(ROWS):
        paragraphs = "".join(
            f"<p>Paragraph {p} of item {n}, version {version}: "
            f"<strong>useful</strong>, <a href='https://example.com/{n}'>details</a>.</p>"
            for p in range(3)
        )
        rows.append(
            {
                "external_id": f"bench-{n:05d}",
                "title": f"Item {n} version {version}",
                "kind": KINDS[n % len(KINDS)],
                "tags": "|".join(rng.sample(TAGS, rng.randint(1, 3))),
                "body": paragraphs,
                "url": f"https://shop.example.com/items/{n}",
                "metadata": json.dumps({"price": n % 500 + 0.99, "brand": f"brand-{n % 40}"}),
            }
        )
    return rows


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    """The rows as an import file."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


@contextmanager
def counting_queries() -> Iterator[list[int]]:
    """Count the queries run, without the SQL logging of CaptureQueriesContext skewing times."""
    count = [0]

    def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any):
        count[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield count


def timed(func: Callable[[], Any]) -> tuple[float, int]:
    """Seconds and queries of one call."""
    with counting_queries() as count:
        started = time.perf_counter()
        func()
        seconds = time.perf_counter() - started
    return seconds, count[0]


def baseline(rows: list[dict[str, str]]) -> None:
    """The same rows as items, straight into the table: the floor an import is compared with."""
    kinds = dict(ContentKind.objects.values_list("key", "pk"))
    ContentItem.objects.bulk_create(
        [
            ContentItem(
                external_id=row["external_id"],
                title=row["title"],
                slug=row["external_id"],
                kind_id=kinds[row["kind"]],
                body=row["body"],
                url=row["url"],
                metadata=json.loads(row["metadata"]),
                status=ContentItem.Status.PUBLISHED,
            )
            for row in rows
        ],
        batch_size=2000,
    )


def empty_tables() -> None:
    """No items, tags, links or revisions: each round starts from the same empty tables."""
    ContentItem.objects.all().delete()
    Tag.objects.filter(parent__isnull=False).delete()  # children first: parents are protected
    Tag.objects.all().delete()


def run_import(path: Path) -> str:
    """Run the command as an operator would; its summary line."""
    out = StringIO()
    call_command("import_content", str(path), stdout=out, stderr=StringIO())
    return out.getvalue().strip()


def main() -> None:
    """Time the baseline and the three imports, then print the table."""
    first, second = synthetic_rows(1), synthetic_rows(2)
    with tempfile.TemporaryDirectory() as folder:
        created_csv = write_csv(Path(folder) / "items.csv", first)
        updated_csv = write_csv(Path(folder) / "items-updated.csv", second)

        # Rounds interleave the baseline and the import that creates every row, and medians
        # are compared: single runs swung by half on this shared machine.
        base_runs: list[tuple[float, int]] = []
        created_runs: list[tuple[float, int]] = []
        summaries: list[str] = []
        for round_ in range(ROUNDS):
            base_runs.append(timed(lambda: baseline(first)))
            empty_tables()
            created_runs.append(timed(lambda: summaries.append(run_import(created_csv))))
            if round_ < ROUNDS - 1:
                empty_tables()
        base_seconds = statistics.median(seconds for seconds, _ in base_runs)
        results = [
            ("bulk_create baseline (no checks, no tags)", base_seconds, base_runs[-1][1], ""),
            (
                "import: every row created",
                statistics.median(seconds for seconds, _ in created_runs),
                created_runs[-1][1],
                summaries[-1],
            ),
        ]
        for label, path in [
            ("import again: every row unchanged", created_csv),
            ("import: every row updated", updated_csv),
        ]:
            summaries = []
            seconds, queries = timed(lambda path=path, out=summaries: out.append(run_import(path)))
            results.append((label, seconds, queries, summaries[0]))

    print(
        f"{ROWS:,} rows on {connection.vendor}; baseline and creation: median of {ROUNDS} "
        "interleaved rounds"
    )
    width = max(len(label) for label, *_ in results)
    print(f"{'':{width}}  {'seconds':>8}  {'rows/s':>8}  {'x baseline':>10}  {'queries':>7}")
    for label, seconds, queries, _ in results:
        print(
            f"{label:{width}}  {seconds:8.2f}  {ROWS / seconds:8,.0f}  "
            f"{seconds / base_seconds:10.1f}  {queries:7d}"
        )
    for label, *_, summary in results[1:]:
        print(f"{label}: {summary}")


if __name__ == "__main__":
    with test_database():
        main()
