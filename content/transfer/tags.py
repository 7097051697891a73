"""Tags in content files: paths of names from the root of the tree, and the tags they name.

A file names a tag by the names of its ancestors and its own, joined by `/`; an item's tags are
joined by `|` (`Sports/Football|children's`). A name holding `|`, `/` or `\\` writes it as
`\\|`, `\\/` or `\\\\`. Names, not slugs, so that an export recreates the same tree in an empty
Tailor: a slug loses apostrophes, accents and case (`children's` → `childrens`).
"""

from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache

from django.db.models import Q
from django.utils.text import slugify

from content.models import Tag

TAG_SEPARATOR = "|"
PATH_SEPARATOR = "/"
ESCAPE = "\\"
SLUG_MAX = Tag._meta.get_field("slug").max_length
# A name without letters or digits (`日本`, `!!!`) still needs a slug.
SLUG_FALLBACK = "tag"

TagPath = tuple[str, ...]


def _escape(name: str) -> str:
    for char in (ESCAPE, TAG_SEPARATOR, PATH_SEPARATOR):
        name = name.replace(char, ESCAPE + char)
    return name


def tags_format(paths: Iterable[TagPath]) -> str:
    """The `tags` column: each path's names escaped and joined, paths sorted."""
    texts = (PATH_SEPARATOR.join(_escape(name) for name in path) for path in paths)
    return TAG_SEPARATOR.join(sorted(texts))


def _split(text: str, separator: str) -> Iterator[str]:
    """Split on `separator` where it is not escaped, keeping the escapes for the next pass."""
    if ESCAPE not in text:  # nearly every file: no character by character walk needed
        yield from text.split(separator)
        return
    part: list[str] = []
    characters = iter(text)
    for char in characters:
        if char == ESCAPE:
            part.append(char + next(characters, ""))
        elif char == separator:
            yield "".join(part)
            part = []
        else:
            part.append(char)
    yield "".join(part)


def _unescape(text: str) -> str:
    if ESCAPE not in text:
        return text
    out: list[str] = []
    characters = iter(text)
    for char in characters:
        out.append(next(characters, ESCAPE) if char == ESCAPE else char)
    return "".join(out)


def tags_split(text: str) -> list[str]:
    """The paths of a `tags` text, still escaped: `a/b|c` → [`a/b`, `c`]."""
    return list(_split(text, TAG_SEPARATOR))


def tag_path_names(path: str) -> list[str]:
    """The names of one path, unescaped and stripped; leading and trailing `/` are ignored.

    An empty name in the middle (`sports//football`) stays, as "", for the caller to refuse.
    """
    names = [_unescape(part).strip() for part in _split(path, PATH_SEPARATOR)]
    while names and not names[0]:
        names.pop(0)
    while names and not names[-1]:
        names.pop()
    return names


@lru_cache(maxsize=4096)
def tag_slug(name: str) -> str:
    """The slug a new tag of this name asks for, before any `-2` suffix (cached: a file names
    the same few tags on every row)."""
    return slugify(name)[:SLUG_MAX] or SLUG_FALLBACK


def tag_paths_by_id() -> dict[int, TagPath]:
    """Every tag's path of names, by id, in one query."""
    rows = {
        pk: (name, parent) for pk, name, parent in Tag.objects.values_list("id", "name", "parent")
    }
    paths: dict[int, TagPath] = {}

    def path_of(pk: int, seen: frozenset[int] = frozenset()) -> TagPath:
        if pk not in paths:
            name, parent = rows[pk]
            above = path_of(parent, seen | {pk}) if parent and parent not in seen else ()
            paths[pk] = (*above, name)
        return paths[pk]

    for pk in rows:
        path_of(pk)
    return paths


class _Tree:
    """The stored tags a batch may name, and the tags it creates, found by parent and name."""

    def __init__(self, paths: Iterable[TagPath]) -> None:
        names = {name for path in paths for name in path}
        slugs = {slugify(name)[:SLUG_MAX] for name in names} - {""}
        self.by_name: dict[tuple[int | None, str], Tag] = {}
        self.by_folded: dict[tuple[int | None, str], Tag] = {}
        self.by_slug: dict[tuple[int | None, str], Tag] = {}
        for tag in Tag.objects.filter(Q(name__in=names) | Q(slug__in=slugs)).order_by("pk"):
            self.add(tag)

    def add(self, tag: Tag) -> None:
        self.by_name.setdefault((tag.parent_id, tag.name), tag)
        self.by_folded.setdefault((tag.parent_id, tag.name.casefold()), tag)
        self.by_slug.setdefault((tag.parent_id, tag.slug), tag)

    def find(self, parent: Tag | None, name: str) -> Tag | None:
        """The child of `parent` with this name; else the same name in another case; else the
        child whose slug is this text (files written when exports held slugs)."""
        key = parent.pk if parent is not None else None
        return (
            self.by_name.get((key, name))
            or self.by_folded.get((key, name.casefold()))
            or self.by_slug.get((key, name))
        )


def _slugs_taken(bases: set[str]) -> set[str]:
    """Stored slugs equal to a base or suffixed from one (`base-2`)."""
    if not bases:
        return set()
    taken = set(Tag.objects.filter(slug__in=bases).values_list("slug", flat=True))
    if taken:
        prefixes = Q(*[Q(slug__startswith=f"{base}-") for base in taken], _connector=Q.OR)
        taken |= set(Tag.objects.filter(prefixes).values_list("slug", flat=True))
    return taken


def _unique_slug(base: str, taken: set[str]) -> str:
    slug, n = base, 2
    while slug in taken:
        suffix = f"-{n}"
        slug, n = base[: SLUG_MAX - len(suffix)] + suffix, n + 1
    taken.add(slug)
    return slug


def tags_resolve(paths: Iterable[Sequence[str]]) -> dict[TagPath, Tag]:
    """The tag each path of names points to, created with its missing ancestors.

    A path is read from the root: each name is looked for among the children of the tag before
    it. Cost: one query for the tags the names may mean, then per level of new tags one or two
    for the slugs taken and one insert, whatever the number of paths.
    """
    wanted = {tuple(path) for path in paths if path}
    tree = _Tree(wanted)
    resolved: dict[TagPath, Tag] = {}
    for level in range(max(map(len, wanted), default=0)):
        new: list[Tag] = []
        for path in sorted(p for p in wanted if len(p) > level):
            prefix = path[: level + 1]
            if prefix in resolved:
                continue
            parent = resolved[prefix[:-1]] if level else None
            tag = tree.find(parent, prefix[-1])
            if tag is None:
                tag = Tag(name=prefix[-1], parent=parent)
                new.append(tag)
                tree.add(tag)
            resolved[prefix] = tag
        taken = _slugs_taken({tag_slug(tag.name) for tag in new})
        for tag in new:
            tag.slug = _unique_slug(tag_slug(tag.name), taken)
            tag.path = tag.build_path()
        Tag.objects.bulk_create(new)
        for tag in new:
            tree.add(tag)  # now with its id, for the children of the next level
    return resolved
