"""Importing content files: check each record and upsert by external id in batches, all or nothing.

The file is read once. Rows are written a batch at a time inside one transaction while every
row so far is valid; after an invalid row the rest are only checked (so that every error is
reported), and the transaction rolls back, unless `skip_invalid` leaves the invalid rows out.
Memory holds one batch of rows, the external ids seen (to find duplicates) and the errors,
never the whole file. Each batch of `BATCH_SIZE` rows takes a fixed number of queries whatever
its size: the existing items (one `IN`), their tags, `tags_resolve` (one query plus two or three
per level of new tags), the taken slugs, one insert of items (COPY) and one bulk update, one
delete and one COPY of tag links (plain pairs, no model rows), the last revision numbers (one
aggregate) and one insert of revisions.
"""

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from tqdm import tqdm

from config.bulk import rows_insert, rows_upsert, tuples_insert
from config.errors import ImportRowError
from content.cache import content_version_bump
from content.html import summarize
from content.models import ContentItem, ContentKind, ContentRevision, Tag
from content.services import ContentError, content_snapshot, slug_base, unique_slug
from content.transfer.rows import (
    ALLOWED_COLUMNS,
    DEFAULT_KIND,
    REQUIRED_COLUMNS,
    ContentImportError,
    ImportRow,
    format_for,
    records,
    row_parse,
)
from content.transfer.tags import TagPath, tags_resolve

BATCH_SIZE = 2000
# Tag links are two integers each: many per item still fit one statement.
REVISION_NOTE = "imported"
TagLink = ContentItem.tags.through
# The columns an import compares and writes, by model field (`kind` is compared by id).
_COMPARED = ("title", "kind_id", "body", "url", "metadata", "status")
# An item to write with its tags (id to path), as the batch will store them.
_Tagged = tuple[ContentItem, dict[int, str]]


@dataclass
class ImportResult:
    """What an import did, and the rows it left out with why."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    invalid: int = 0
    errors: list[ImportRowError] = field(default_factory=list)

    @property
    def summary(self) -> str:
        """The line the command prints last."""
        return (
            f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.invalid} invalid"
        )


def content_import(
    *,
    path: Path,
    fmt: str | None = None,
    skip_invalid: bool = False,
    progress: TextIO | None = None,
    batch_size: int = BATCH_SIZE,
) -> ImportResult:
    """Create or update items from a CSV or JSONL file; all or nothing unless `skip_invalid`."""
    fmt = format_for(path, fmt)
    kinds = {kind.key: kind for kind in ContentKind.objects.all()}
    result = ImportResult()
    bar = tqdm(
        file=progress, disable=None if progress else True, unit=" rows", desc="importing",
        dynamic_ncols=True,
    )  # fmt: skip
    with bar, transaction.atomic():
        batch: list[ImportRow] = []
        for row in _checked_rows(path, fmt, kinds, result):
            # Once a row is invalid, an import that must be whole writes no more: the rows
            # after it are only checked, so that every error is reported, then all rolls back.
            if result.errors and not skip_invalid:
                continue
            batch.append(row)
            if len(batch) >= batch_size:
                _batch_write(batch, kinds, result)
                bar.update(len(batch))
                batch = []
        if result.errors and not skip_invalid:
            raise ContentImportError(
                result.errors, f"{result.invalid} invalid rows; nothing was imported"
            )
        if batch:
            _batch_write(batch, kinds, result)
            bar.update(len(batch))
        # Bulk writes send no model signals: tell cached slot definitions ourselves.
        transaction.on_commit(content_version_bump)
    return result


def _open(path: Path) -> TextIO:
    try:
        # utf-8-sig: spreadsheets put a byte order mark in front of "CSV UTF-8" files.
        return path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise ContentError(f"cannot read {path}: {exc.strerror}") from exc


def _records(
    path: Path, fmt: str, kinds: Mapping[str, ContentKind]
) -> Iterator[tuple[int, dict[str, Any] | None, ImportRow | list[ImportRowError]]]:
    line = 0
    with _open(path) as handle:
        try:
            for line, record in records(
                handle, fmt, allowed=ALLOWED_COLUMNS, required=REQUIRED_COLUMNS
            ):
                if isinstance(record, ImportRowError):
                    yield line, None, [record]
                else:
                    yield line, record, row_parse(line, record, kinds)
        except ImportRowError as exc:  # the file as a whole: empty, a bad header, broken CSV
            raise ContentImportError([exc]) from exc
        except UnicodeDecodeError as exc:
            raise ContentImportError(
                [ImportRowError(line + 1, "file", "not UTF-8 text at or after this line")],
                "the file is not UTF-8 text; save it as UTF-8 (“CSV UTF-8” in spreadsheets)",
            ) from exc


def _checked_rows(
    path: Path, fmt: str, kinds: Mapping[str, ContentKind], result: ImportResult
) -> Iterator[ImportRow]:
    """The file's valid rows, read once; the invalid ones go to `result` with every reason."""
    first_seen: dict[str, int] = {}
    for line, record, parsed in _records(path, fmt, kinds):
        row_errors = parsed if isinstance(parsed, list) else []
        external_id = _external_id(record)
        if external_id and external_id in first_seen:
            reason = f"{external_id!r} also appears on line {first_seen[external_id]}"
            row_errors.append(ImportRowError(line, "external_id", reason))
        elif external_id:
            first_seen[external_id] = line
        if row_errors:
            result.errors.extend(row_errors)
            result.invalid += 1
        elif isinstance(parsed, ImportRow):
            yield parsed


def _external_id(record: Mapping[str, Any] | None) -> str:
    value = (record or {}).get("external_id")
    return str(value).strip() if isinstance(value, str | int) else ""


def _batch_write(
    rows: list[ImportRow], kinds: Mapping[str, ContentKind], result: ImportResult
) -> None:
    """Upsert one batch of rows with their tags and revisions in a fixed number of queries."""
    existing = _items_locked(rows)
    current = _tags_stored(existing.values())
    tags_by_path = tags_resolve({path for row in rows if row.tags for path in row.tags})
    created, changed, retagged, fields = _rows_compare(
        rows, kinds, existing, current, tags_by_path, result
    )
    _items_write(created, changed, fields)
    _tag_links_write(created, changed, retagged)
    _revisions_create(created, changed)
    result.created += len(created)
    result.updated += len(changed)


def _items_locked(rows: list[ImportRow]) -> dict[str, ContentItem]:
    """The stored items the rows name, by external id."""
    # Locked, so that an editor's save between this read and the update is not overwritten.
    return {
        item.external_id: item
        for item in ContentItem.objects.select_for_update()
        .filter(external_id__in=[row.external_id for row in rows])
        .order_by()
    }


def _tags_stored(items: Iterable[ContentItem]) -> dict[int, dict[int, str]]:
    """Each item's tags now, id to path, by item id."""
    current: dict[int, dict[int, str]] = {item.pk: {} for item in items}
    if current:
        links = TagLink.objects.filter(contentitem_id__in=current).values_list(
            "contentitem_id", "tag_id", "tag__path"
        )
        for item_id, tag_id, path in links:
            current[item_id][tag_id] = path
    return current


def _rows_compare(
    rows: list[ImportRow],
    kinds: Mapping[str, ContentKind],
    existing: Mapping[str, ContentItem],
    current: Mapping[int, dict[int, str]],
    tags_by_path: Mapping[TagPath, Tag],
    result: ImportResult,
) -> tuple[list[_Tagged], list[_Tagged], list[int], set[str]]:
    """The new items, the changed ones, the ids of the retagged ones and the fields to update.

    Rows that change nothing are counted in `result.unchanged` and left out.
    """
    kinds_by_id = {kind.pk: kind for kind in kinds.values()}
    created: list[_Tagged] = []
    changed: list[_Tagged] = []
    retagged: list[int] = []
    fields: set[str] = set()
    for row in rows:
        tags = None
        if row.tags is not None:
            tags = {tags_by_path[p].pk: tags_by_path[p].path for p in row.tags}
        item = existing.get(row.external_id)
        if item is None:
            created.append((_item_new(row, kinds), tags or {}))
            continue
        if item.kind_id in kinds_by_id:
            item.kind = kinds_by_id[item.kind_id]  # cached for the snapshot: no query per row
        item_fields = _item_apply(item, row, kinds)
        if tags is not None and tags.keys() != current[item.pk].keys():
            retagged.append(item.pk)
        elif not item_fields:
            result.unchanged += 1
            continue
        fields |= item_fields
        changed.append((item, tags if tags is not None else current[item.pk]))
    return created, changed, retagged, fields


def _items_write(created: list[_Tagged], changed: list[_Tagged], fields: set[str]) -> None:
    now = timezone.now()
    if created:
        items = [item for item, _ in created]
        _slugs_assign(items)
        for item in items:
            item.created_at = item.updated_at = now  # COPY takes values as they are: no auto_now
        rows_insert(ContentItem, items, key="external_id")
    if changed:
        for item, _ in changed:
            item.updated_at = now  # bulk_update skips auto_now
        ContentItem.objects.bulk_update(
            [item for item, _ in changed], sorted(fields | {"updated_at"}), batch_size=BATCH_SIZE
        )


def _tag_links_write(created: list[_Tagged], changed: list[_Tagged], retagged: list[int]) -> None:
    if retagged:
        TagLink.objects.filter(contentitem_id__in=retagged).delete()
    retagged_ids = set(retagged)
    links = [
        (item.pk, tag_id)  # plain tuples copied in: no model row per link
        for item, tags in created + [(i, t) for i, t in changed if i.pk in retagged_ids]
        for tag_id in tags
    ]
    if links:
        tuples_insert(TagLink, ("contentitem_id", "tag_id"), links)


def _item_new(row: ImportRow, kinds: Mapping[str, ContentKind]) -> ContentItem:
    kind = kinds.get(row.kind_key or DEFAULT_KIND)
    if kind is None:
        raise ContentError(f"there is no {DEFAULT_KIND!r} kind for rows without a kind")
    item = ContentItem(
        external_id=row.external_id, title=row.title, kind=kind, body=row.body or "",
        url=row.url or "", metadata={} if row.metadata is None else row.metadata,
        status=row.status or ContentItem.Status.PUBLISHED,
    )  # fmt: skip
    item.prepare()  # bulk_create bypasses save(), which would sanitize and summarize
    return item


def _item_apply(item: ContentItem, row: ImportRow, kinds: Mapping[str, ContentKind]) -> set[str]:
    """Set the row's columns on a stored item; the names of the fields that really changed."""
    before = {name: getattr(item, name) for name in _COMPARED}
    summary = item.summary
    item.title = row.title
    if row.kind_key is not None:
        item.kind = kinds[row.kind_key]
    if row.body is not None:
        item.body = row.body
    if row.url is not None:
        item.url = row.url
    if row.metadata is not None:
        item.metadata = row.metadata
    if row.status is not None:
        item.status = row.status
    item.prepare()  # sanitizes the body, so that it compares with the stored (sanitized) one
    changed = {
        "kind" if name == "kind_id" else name
        for name, old in before.items()
        if _stored_form(getattr(item, name)) != _stored_form(old)
    }
    # A summary derived from the old body follows the new body; one an editor wrote stays.
    if "body" in changed and summary == summarize(before["body"]):
        item.summary = summarize(item.body)
    if changed and item.summary != summary:
        changed.add("summary")
    return changed


def _stored_form(value: Any) -> Any:
    # JSON compares as text, so that 1 and true (equal in Python) count as a change.
    return json.dumps(value, sort_keys=True) if isinstance(value, dict | list) else value


def _slug_base(item: ContentItem) -> str:
    return slug_base(item.title, item.external_id or "")


def _slugs_assign(items: list[ContentItem]) -> None:
    """Give new items unique slugs in one query, or two when some of their slugs are taken."""
    bases = Counter(_slug_base(item) for item in items)
    # An exact-match IN uses the unique index whatever the table's size, where thousands of
    # prefix patterns make PostgreSQL scan the table. Suffixed slugs (`base-2`) can only collide
    # where `unique_slug` will go looking for one: the base is taken, or repeats in the batch.
    taken = set(
        ContentItem.objects.filter(slug__in=bases).order_by().values_list("slug", flat=True)
    )
    suffixed = taken | {base for base, count in bases.items() if count > 1}
    if suffixed:
        prefixes = Q(*[Q(slug__startswith=f"{base}-") for base in suffixed], _connector=Q.OR)
        taken |= set(ContentItem.objects.filter(prefixes).order_by().values_list("slug", flat=True))
    for item in items:
        item.slug = unique_slug(item.title, taken=taken, fallback=item.external_id or "item")


def _revisions_create(created: list[_Tagged], changed: list[_Tagged]) -> None:
    last: dict[int, int] = {}
    if changed:
        last = dict(
            ContentRevision.objects.filter(item_id__in=[item.pk for item, _ in changed])
            .values("item")
            .annotate(last=Max("number"))
            .values_list("item", "last")
        )
    rows_upsert(
        ContentRevision,
        [
            ContentRevision(
                item_id=item.pk,  # the id alone: no related object cached on 10,000 rows
                number=last.get(item.pk, 0) + 1,
                data=content_snapshot(item, list(tags.values())),
                note=REVISION_NOTE,
            )
            for item, tags in created + changed
        ],
    )
