import csv
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from content.models import ContentItem
from content.transfer import ALLOWED_COLUMNS
from tests.factories import ContentItemFactory, ContentKindFactory, TagFactory

pytestmark = pytest.mark.django_db


def run_export(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("export_content", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_import(path: Path) -> str:
    out = StringIO()
    call_command("import_content", str(path), stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def tricky_items() -> list[ContentItem]:
    """Items whose text trips up naive CSV and JSON writers."""
    sports = TagFactory(name="Sports", slug="sports")
    football = TagFactory(name="Football", slug="football", parent=sports)
    sale = TagFactory(name="Sale", slug="sale")
    product = ContentKindFactory(key="product")
    return [
        ContentItemFactory(
            external_id="sku-1",
            title='Boots, "pro" edition — Größe 42',
            kind=product,
            tags=[football, sale],
            body=(
                '<p class="lead">Say "hello", then; goodbye</p>\n<p>Zweite Zeile: über 😀</p>\r\n'
                '<a href="https://example.com/?a=1&amp;b=2">link</a><br>'
            ),
            metadata={"price": 19.9, "sizes": [41, 42], "brand": {"name": "Kickwell"}, "ok": True},
        ),
        ContentItemFactory(
            external_id="art-2", title="Plain", url="", body="", metadata={}, status="draft"
        ),
        ContentItemFactory(external_id="日本-3", title="日本語のタイトル", body="<p>本文</p>"),
    ]


def test_the_csv_export_writes_the_import_columns_for_every_item_by_id(tricky_items):
    out, err = run_export()

    rows = list(csv.DictReader(StringIO(out)))
    assert tuple(rows[0]) == ALLOWED_COLUMNS
    assert [row["external_id"] for row in rows] == ["sku-1", "art-2", "日本-3"]
    first = rows[0]
    assert first["title"] == 'Boots, "pro" edition — Größe 42'
    assert first["kind"] == "product"
    assert first["tags"] == "Sale|Sports/Football"
    assert first["body"] == tricky_items[0].body
    assert first["metadata"] == (
        '{"brand":{"name":"Kickwell"},"ok":true,"price":19.9,"sizes":[41,42]}'
    )
    assert first["status"] == "published"
    assert err.strip() == "3 items exported"


def test_the_jsonl_export_writes_one_object_per_line_to_a_file(tricky_items, tmp_path):
    path = tmp_path / "items.jsonl"

    out, _ = run_export("--output", str(path))

    lines = path.read_text(encoding="utf-8").splitlines()
    objects = [json.loads(line) for line in lines]
    assert [list(o) for o in objects] == [list(ALLOWED_COLUMNS)] * 3
    assert objects[0]["metadata"] == tricky_items[0].metadata
    assert objects[1]["status"] == "draft"
    assert out.strip() == f"3 items exported to {path}"


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_an_export_imports_back_unchanged(tricky_items, tmp_path, fmt):
    path = tmp_path / f"items.{fmt}"
    run_export("--format", fmt, "--output", str(path))
    before = list(ContentItem.objects.order_by("pk").values())

    summary = run_import(path)

    assert summary.strip() == "0 created, 0 updated, 3 unchanged, 0 invalid"
    assert list(ContentItem.objects.order_by("pk").values()) == before


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_an_export_recreates_the_items_in_an_empty_database(tricky_items, tmp_path, fmt):
    path = tmp_path / f"items.{fmt}"
    run_export("--output", str(path))
    fields = ["external_id", "title", "kind__key", "body", "url", "metadata", "status"]
    before = list(ContentItem.objects.order_by("external_id").values(*fields))
    ContentItem.objects.all().delete()

    assert run_import(path).strip() == "3 created, 0 updated, 0 unchanged, 0 invalid"
    assert list(ContentItem.objects.order_by("external_id").values(*fields)) == before
    item = ContentItem.objects.get(external_id="sku-1")
    assert sorted(item.tags.values_list("path", flat=True)) == ["sale", "sports/football"]


def test_items_without_an_external_id_are_left_out_with_a_warning(tmp_path):
    ContentItemFactory(external_id="sku-1")
    ContentItemFactory(external_id=None)

    out, err = run_export("--format", "jsonl")

    assert [json.loads(line)["external_id"] for line in out.splitlines()] == ["sku-1"]
    assert "1 items without an external_id were left out" in err


def _export_queries() -> int:
    with CaptureQueriesContext(connection) as queries:
        run_export()
    return len(queries)


def test_the_number_of_export_queries_does_not_grow_with_the_number_of_items():
    tag = TagFactory()
    ContentItemFactory.create_batch(3, tags=[tag])
    few = _export_queries()
    ContentItemFactory.create_batch(60, tags=[tag])

    assert _export_queries() == few
