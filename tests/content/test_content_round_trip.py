"""An export imports back unchanged into an empty Tailor: tags keep their names and places."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from content.models import ContentItem, ContentRevision, Tag
from tests.factories import ContentItemFactory, TagFactory

pytestmark = pytest.mark.django_db


def export(path: Path, fmt: str) -> str:
    call_command("export_content", "--format", fmt, "--output", str(path), stdout=StringIO())
    return path.read_text(encoding="utf-8")


def import_(path: Path) -> str:
    out = StringIO()
    call_command("import_content", str(path), stdout=out, stderr=StringIO())
    return out.getvalue().strip()


def empty_tailor() -> None:
    ContentRevision.objects.all().delete()
    ContentItem.objects.all().delete()
    while Tag.objects.exists():
        Tag.objects.filter(children__isnull=True).delete()


def tag_tree() -> list[tuple[str, str | None]]:
    return sorted(Tag.objects.values_list("name", "parent__name"), key=str)


@pytest.fixture
def tagged_items() -> None:
    """Tags whose names a slug loses: apostrophes, accents, separators, shared names."""
    sports = TagFactory(name="Sports", slug="sports")
    music = TagFactory(name="Music", slug="music")
    football = TagFactory(name="Football", slug="football", parent=sports)
    tags = [
        TagFactory(name="children's", slug="childrens"),
        TagFactory(name="Café crème", slug="cafe-creme"),
        TagFactory(name="Rock | Pop", slug="rock-pop", parent=music),
        TagFactory(name="AC/DC", slug="acdc", parent=music),
        TagFactory(name=r"C:\Temp", slug="c-temp"),
        TagFactory(name="News", slug="news", parent=sports),
        TagFactory(name="News", slug="news-2", parent=music),
        TagFactory(name="日本", slug="japan"),
        TagFactory(name="Sale", slug="promo"),
        TagFactory(name="Boots", slug="boots", parent=football),
        TagFactory(name="C", slug="c", parent=music),
        TagFactory(name="C++", slug="c-2", parent=music),
    ]
    for n, tag in enumerate(tags):
        ContentItemFactory(external_id=f"item-{n}", tags=[tag, tags[(n + 3) % len(tags)]])


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_export_then_import_into_an_empty_tailor_then_export_gives_the_same_file(
    tagged_items, tmp_path, fmt
):
    first = export(tmp_path / f"first.{fmt}", fmt)
    tree = tag_tree()
    empty_tailor()

    assert import_(tmp_path / f"first.{fmt}") == "12 created, 0 updated, 0 unchanged, 0 invalid"

    assert export(tmp_path / f"second.{fmt}", fmt) == first
    assert tag_tree() == tree


def test_tags_come_back_with_their_names_not_their_slugs(tagged_items, tmp_path):
    export(tmp_path / "items.csv", "csv")
    empty_tailor()

    import_(tmp_path / "items.csv")

    names = set(Tag.objects.values_list("name", flat=True))
    assert {"children's", "Café crème", "Rock | Pop", "AC/DC", r"C:\Temp", "日本"} <= names
    assert Tag.objects.get(name="Boots").path == "sports/football/boots"
    item = ContentItem.objects.get(external_id="item-0")
    assert sorted(item.tags.values_list("name", flat=True)) == ["AC/DC", "children's"]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_an_export_imports_back_into_the_same_tailor_without_a_change(tagged_items, tmp_path, fmt):
    export(tmp_path / f"items.{fmt}", fmt)
    tags = list(Tag.objects.order_by("pk").values())

    assert import_(tmp_path / f"items.{fmt}") == "0 created, 0 updated, 12 unchanged, 0 invalid"
    assert list(Tag.objects.order_by("pk").values()) == tags


def test_separators_inside_tag_names_are_escaped_in_the_file(tagged_items, tmp_path):
    text = export(tmp_path / "items.csv", "csv")

    assert r"Music/Rock \| Pop" in text
    assert r"Music/AC\/DC" in text
    assert r"C:\\Temp" in text


def test_a_path_in_another_case_or_of_slugs_finds_the_stored_tags(tagged_items, tmp_path):
    path = tmp_path / "items.csv"
    path.write_text(
        "external_id,title,tags\nitem-0,Item,sports/FOOTBALL/boots|promo|music/news-2\n",
        encoding="utf-8",
    )
    tags = Tag.objects.count()

    assert import_(path) == "0 created, 1 updated, 0 unchanged, 0 invalid"

    assert Tag.objects.count() == tags
    item = ContentItem.objects.get(external_id="item-0")
    assert sorted(item.tags.values_list("path", flat=True)) == [
        "music/news-2", "promo", "sports/football/boots",
    ]  # fmt: skip
