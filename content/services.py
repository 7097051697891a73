"""Writes of content: items with their revisions, tags with their paths, status changes, rules."""

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Max, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.text import slugify

from config.errors import ApplicationError
from content.cache import content_version_bump
from content.models import ContentItem, ContentKind, ContentRevision, SlotRule, Tag
from content.registry import condition_summary

# Fields a revision keeps and a restore writes back.
REVISION_FIELDS = (
    "external_id", "title", "slug", "body", "summary", "url", "image_url", "cta_label", "cta_url",
    "locale", "priority", "metadata", "status",
)  # fmt: skip


RULE_NAME_LENGTH = 80


class ContentError(ApplicationError):
    pass


def rule_name_from(condition: Any) -> str:
    """A rule's name made from its condition: "Device is mobile and visited 3+ times"."""
    text = condition_summary(condition)
    text = text[:1].upper() + text[1:]
    if len(text) <= RULE_NAME_LENGTH:
        return text
    return text[: RULE_NAME_LENGTH - 1].rstrip() + "…"


@transaction.atomic
def slot_rule_save(*, rule: SlotRule) -> SlotRule:
    """Save a rule: named from its condition when unnamed, placed after the others when new."""
    if not rule.name.strip():
        rule.name = rule_name_from(rule.condition)
    if rule.pk is None and not rule.position:
        last = SlotRule.objects.filter(slot=rule.slot_id).aggregate(Max("position"))
        rule.position = (last["position__max"] or 0) + 1
    rule.save()
    return rule


def content_snapshot(item: ContentItem, tag_paths: list[str]) -> dict[str, Any]:
    data: dict[str, Any] = {field: getattr(item, field) for field in REVISION_FIELDS}
    data["kind"] = item.kind.key
    data["tags"] = sorted(tag_paths)
    data["publish_at"] = item.publish_at.isoformat() if item.publish_at else None
    data["expire_at"] = item.expire_at.isoformat() if item.expire_at else None
    return data


def content_revision_create(
    *, item: ContentItem, author: AbstractBaseUser | None = None, note: str = ""
) -> ContentRevision:
    """Record the item as it is now as its next revision."""
    last = item.revisions.aggregate(last=Max("number"))["last"] or 0
    tag_paths = list(item.tags.values_list("path", flat=True))
    return ContentRevision.objects.create(
        item=item, number=last + 1, data=content_snapshot(item, tag_paths), author=author, note=note
    )


def slug_base(title: str, fallback: str = "item") -> str:
    """The slug an item's title asks for, before any `-2` suffix."""
    return (slugify(title) or slugify(fallback) or "item")[:200]


def unique_slug(title: str, *, taken: set[str], fallback: str = "item") -> str:
    """A slug for `title` that is not in `taken` (which it is added to)."""
    base = slug_base(title, fallback)
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    taken.add(slug)
    return slug


@transaction.atomic
def content_item_save(
    *,
    item: ContentItem,
    tags: Iterable[Tag] | None = None,
    author: AbstractBaseUser | None = None,
    note: str = "",
) -> ContentItem:
    """Save an item (sanitized), set its tags when given, and keep a revision of the result."""
    if not item.slug:
        taken = set(
            ContentItem.objects.filter(slug__startswith=slugify(item.title)[:200]).values_list(
                "slug", flat=True
            )
        )
        item.slug = unique_slug(item.title, taken=taken)
    if item.author_id is None and author is not None and author.is_authenticated:
        item.author = author
    item.full_clean(exclude=["slug"])
    item.save()
    if tags is not None:
        item.tags.set(tags)
    content_revision_create(item=item, author=author, note=note)
    return item


@transaction.atomic
def content_items_set_status(
    *, items: QuerySet[ContentItem], status: str, author: AbstractBaseUser | None = None
) -> int:
    """Publish, archive or unpublish many items at once, each keeping a revision."""
    if status not in ContentItem.Status.values:
        raise ContentError(
            f"unknown status {status!r}", {"status": [f"choose one of {ContentItem.Status.values}"]}
        )
    changed = list(items.exclude(status=status).select_related("kind").prefetch_related("tags"))
    now = timezone.now()
    for item in changed:
        item.status = status
        item.updated_at = now
    ContentItem.objects.bulk_update(changed, ["status", "updated_at"])
    transaction.on_commit(content_version_bump)  # bulk_update sends no signals
    numbers = dict(
        ContentRevision.objects.filter(item__in=changed)
        .values("item")
        .annotate(last=Max("number"))
        .values_list("item", "last")
    )
    ContentRevision.objects.bulk_create(
        ContentRevision(
            item=item,
            number=numbers.get(item.pk, 0) + 1,
            data=content_snapshot(item, [t.path for t in item.tags.all()]),
            author=author,
            note=f"status set to {status}",
        )
        for item in changed
    )
    return len(changed)


@transaction.atomic
def content_item_restore(
    *, revision: ContentRevision, author: AbstractBaseUser | None = None
) -> ContentItem:
    """Write a revision's fields and tags back to its item; the result is a new revision."""
    item = revision.item
    data = revision.data
    for field in REVISION_FIELDS:
        if field in data:
            setattr(item, field, data[field])
    item.publish_at = parse_datetime(data["publish_at"]) if data.get("publish_at") else None
    item.expire_at = parse_datetime(data["expire_at"]) if data.get("expire_at") else None
    if data.get("kind") and data["kind"] != item.kind.key:
        item.kind = ContentKind.objects.get(key=data["kind"])
    tags = Tag.objects.filter(path__in=data.get("tags", []))
    return content_item_save(
        item=item, tags=tags, author=author, note=f"restored revision {revision.number}"
    )


@transaction.atomic
def tag_save(*, tag: Tag) -> Tag:
    """Save a tag and keep its path, and every descendant's, in step with the tree."""
    if not tag.slug:
        tag.slug = slugify(tag.name)[:100]
    tag.full_clean(exclude=["path"])
    old_path = (
        Tag.objects.filter(pk=tag.pk).values_list("path", flat=True).first() if tag.pk else None
    )
    tag.path = tag.build_path()
    tag.save()
    if old_path and old_path != tag.path:
        descendants = list(Tag.objects.filter(path__startswith=f"{old_path}/"))
        for child in descendants:
            child.path = tag.path + child.path[len(old_path) :]
        Tag.objects.bulk_update(descendants, ["path"])
        transaction.on_commit(content_version_bump)
    return tag


def tags_ensure(paths: Iterable[str]) -> dict[str, Tag]:
    """Tags for `parent/child` paths keyed by the path given, created with their parents if missing.

    Existing tags are matched by slug wherever they sit in the tree. New tags are inserted in
    one query per tree level, whatever the number of paths.
    """
    parts_by_path: dict[str, list[tuple[str, str]]] = {}
    for path in paths:
        names = [part.strip() for part in (path or "").strip().strip("/").split("/")]
        if names == [""]:
            continue
        parts = [(slugify(name)[:100], name) for name in names]
        if any(not slug for slug, _ in parts):
            raise ContentError(f"tag {path!r} has an empty or unusable name", {"tags": [path]})
        parts_by_path[path] = parts
    by_slug = {
        t.slug: t
        for t in Tag.objects.filter(
            slug__in={slug for parts in parts_by_path.values() for slug, _ in parts}
        )
    }
    depth = max((len(parts) for parts in parts_by_path.values()), default=0)
    for level in range(depth):
        new: list[Tag] = []
        for parts in parts_by_path.values():
            if level >= len(parts) or parts[level][0] in by_slug:
                continue
            slug, name = parts[level]
            tag = Tag(name=name, slug=slug, parent=by_slug[parts[level - 1][0]] if level else None)
            tag.path = tag.build_path()
            by_slug[slug] = tag
            new.append(tag)
        Tag.objects.bulk_create(new)
    return {path: by_slug[parts[-1][0]] for path, parts in parts_by_path.items()}
