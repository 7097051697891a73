"""Exporting content in the import's columns, so that an export imports back unchanged.

Cost: one query for the tag tree, then one for the items and one for their tags per `CHUNK_SIZE`
items; memory holds the tag tree and one chunk, whatever the number of items.
"""

import csv
import json
from collections.abc import Iterator, Mapping
from typing import Any, TextIO

from django.db.models import Prefetch, Q, QuerySet
from tqdm import tqdm

from content.models import ContentItem, Tag
from content.transfer.rows import ALLOWED_COLUMNS, FORMATS
from content.transfer.tags import TagPath, tag_paths_by_id, tags_format

CHUNK_SIZE = 2000
_NO_EXTERNAL_ID = Q(external_id__isnull=True) | Q(external_id="")


def items_for_export() -> QuerySet[ContentItem]:
    """Items an export writes: those with an external id (the key an import matches on), by id."""
    return (
        ContentItem.objects.exclude(_NO_EXTERNAL_ID)
        .select_related("kind")
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.only("id")))
        .order_by("id")
    )


def items_without_external_id() -> int:
    """How many items an export leaves out because an import could not match them again."""
    return ContentItem.objects.filter(_NO_EXTERNAL_ID).count()


def export_values(item: ContentItem, tag_paths: Mapping[int, TagPath]) -> dict[str, Any]:
    """One item as import columns: tags as `|`-joined paths of names, metadata as an object."""
    return {
        "external_id": item.external_id,
        "title": item.title,
        "kind": item.kind.key,
        "tags": tags_format(tag_paths[tag.pk] for tag in item.tags.all()),
        "body": item.body,
        "url": item.url,
        "metadata": item.metadata,
        "status": item.status,
    }


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


class _Echo:
    """A file whose write returns the text, so that csv.writer formats one row at a time."""

    def write(self, text: str) -> str:
        return text


def content_export(
    *, fmt: str, items: QuerySet[ContentItem] | None = None, progress: TextIO | None = None
) -> Iterator[str]:
    """The export file as text chunks (a CSV header, then one line per item), streamed."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    items = items_for_export() if items is None else items
    tag_paths = tag_paths_by_id()
    stream = items.iterator(chunk_size=CHUNK_SIZE)
    if progress is not None:
        stream = tqdm(
            stream, total=items.count(), file=progress, disable=None, unit=" items",
            desc="exporting", dynamic_ncols=True,
        )  # fmt: skip
    if fmt == "csv":
        writer = csv.writer(_Echo())
        yield writer.writerow(ALLOWED_COLUMNS)
        for item in stream:
            values = export_values(item, tag_paths)
            values["metadata"] = _compact(values["metadata"])
            yield writer.writerow(values.values())
    else:
        for item in stream:
            # Columns in import order, metadata keys sorted: stable lines that diff well.
            pairs = (
                f"{json.dumps(k)}:{_compact(v)}" for k, v in export_values(item, tag_paths).items()
            )
            yield "{" + ",".join(pairs) + "}\n"
