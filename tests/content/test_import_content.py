import csv
import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from content.models import ContentItem, ContentRevision, Tag
from content.transfer import ALLOWED_COLUMNS, COLUMNS, ContentImportError, content_import
from tests.factories import ContentItemFactory, ContentKindFactory, TagFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def kinds() -> None:
    """The kinds these files use (a data migration creates them too)."""
    for key in ("article", "product"):
        ContentKindFactory(key=key)


def write_csv(
    path: Path, rows: list[dict[str, Any]], columns: tuple[str, ...] | list[str] = COLUMNS
) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns))
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_jsonl(path: Path, lines: list[dict[str, Any] | str]) -> Path:
    text = "".join(
        (line if isinstance(line, str) else json.dumps(line, ensure_ascii=False)) + "\n"
        for line in lines
    )
    path.write_text(text, encoding="utf-8")
    return path


def run_import(path: Path, *args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_content", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def import_error(path: Path, *args: str) -> str:
    with pytest.raises(CommandError) as excinfo:
        run_import(path, *args)
    return str(excinfo.value)


def product(n: int, prefix: str = "sku", **changes: Any) -> dict[str, Any]:
    row = {
        "external_id": f"{prefix}-{n}",
        "title": f"{prefix.title()} product {n}",
        "kind": "product",
        "tags": f"{prefix}-sports/{prefix}-football|{prefix}-sale",
        "body": f"<p>All about product {n}.</p>",
        "url": f"https://shop.example.com/{prefix}/{n}",
        "metadata": json.dumps({"price": n, "brand": "Kickwell"}),
    }
    return row | changes


def database_state() -> dict[str, int]:
    return {
        "items": ContentItem.objects.count(),
        "tags": Tag.objects.count(),
        "revisions": ContentRevision.objects.count(),
        "links": ContentItem.tags.through.objects.count(),
    }


def test_a_csv_import_creates_items_with_their_columns_tags_and_first_revision(tmp_path):
    path = write_csv(tmp_path / "items.csv", [product(1), product(2)])

    out, _ = run_import(path)

    item = ContentItem.objects.get(external_id="sku-1")
    assert (item.title, item.kind.key, item.url) == (
        "Sku product 1", "product", "https://shop.example.com/sku/1",
    )  # fmt: skip
    assert item.body == "<p>All about product 1.</p>"
    assert item.summary == "All about product 1."
    assert item.metadata == {"price": 1, "brand": "Kickwell"}
    assert item.status == ContentItem.Status.PUBLISHED
    assert item.slug == "sku-product-1"
    assert sorted(item.tags.values_list("path", flat=True)) == [
        "sku-sale", "sku-sports/sku-football",
    ]  # fmt: skip
    revision = item.revisions.get()
    assert (revision.number, revision.note) == (1, "imported")
    assert revision.data["tags"] == ["sku-sale", "sku-sports/sku-football"]
    assert out.strip() == "2 created, 0 updated, 0 unchanged, 0 invalid"


def test_a_jsonl_import_accepts_metadata_as_an_object_or_a_json_string_and_tags_as_a_list(tmp_path):
    path = write_jsonl(
        tmp_path / "items.jsonl",
        [
            product(1) | {"metadata": {"price": 1}},
            product(2) | {"metadata": '{"price": 2}', "external_id": 2, "tags": ["a/b", "c"]},
        ],
    )

    out, _ = run_import(path)

    assert ContentItem.objects.get(external_id="sku-1").metadata == {"price": 1}
    second = ContentItem.objects.get(external_id="2")
    assert second.metadata == {"price": 2}
    assert sorted(second.tags.values_list("path", flat=True)) == ["a/b", "c"]
    assert out.strip() == "2 created, 0 updated, 0 unchanged, 0 invalid"


def test_the_format_option_overrides_the_file_extension(tmp_path):
    path = write_jsonl(tmp_path / "items.txt", [product(1)])

    run_import(path, "--format", "jsonl")

    assert ContentItem.objects.filter(external_id="sku-1").exists()


def test_a_file_without_a_known_extension_or_format_is_refused(tmp_path):
    path = write_jsonl(tmp_path / "items.txt", [product(1)])

    assert "--format" in import_error(path)


def test_a_second_import_of_the_same_file_changes_nothing(tmp_path):
    path = write_csv(tmp_path / "items.csv", [product(n) for n in range(5)])
    run_import(path)
    before = list(ContentItem.objects.order_by("pk").values())

    out, _ = run_import(path)

    assert out.strip() == "0 created, 0 updated, 5 unchanged, 0 invalid"
    assert list(ContentItem.objects.order_by("pk").values()) == before
    assert ContentRevision.objects.count() == 5


def test_a_changed_row_updates_its_item_and_adds_a_revision(tmp_path):
    run_import(write_csv(tmp_path / "first.csv", [product(1), product(2)]))
    item = ContentItem.objects.get(external_id="sku-1")

    changed = product(1, title="Renamed", tags="sku-sale|clearance", status="archived")
    out, _ = run_import(write_csv(tmp_path / "second.csv", [changed, product(2)], ALLOWED_COLUMNS))

    item.refresh_from_db()
    assert (item.title, item.status, item.slug) == ("Renamed", "archived", "sku-product-1")
    assert sorted(item.tags.values_list("path", flat=True)) == ["clearance", "sku-sale"]
    assert list(item.revisions.values_list("number", flat=True)) == [2, 1]
    assert item.revisions.first().data["title"] == "Renamed"
    assert out.strip() == "0 created, 1 updated, 1 unchanged, 0 invalid"


def test_columns_absent_from_the_file_keep_their_stored_values(tmp_path):
    football = TagFactory(name="Football")
    item = ContentItemFactory(
        external_id="sku-1", kind=ContentKindFactory(key="product"), tags=[football],
        body="<p>Kept.</p>", status="draft", metadata={"price": 3},
    )  # fmt: skip

    run_import(write_csv(tmp_path / "titles.csv", [{"external_id": "sku-1", "title": "New"}],
                         ["external_id", "title"]))  # fmt: skip

    item.refresh_from_db()
    assert (item.title, item.body, item.status, item.kind.key) == (
        "New", "<p>Kept.</p>", "draft", "product",
    )  # fmt: skip
    assert item.metadata == {"price": 3}
    assert list(item.tags.all()) == [football]


def test_an_empty_status_keeps_an_existing_items_status_and_publishes_a_new_one(tmp_path):
    ContentItemFactory(external_id="sku-1", title="Sku product 1", status="draft")
    rows = [product(1, status=""), product(2, status="")]

    run_import(write_csv(tmp_path / "items.csv", rows, ALLOWED_COLUMNS))

    assert ContentItem.objects.get(external_id="sku-1").status == "draft"
    assert ContentItem.objects.get(external_id="sku-2").status == "published"


def test_an_empty_kind_means_article(tmp_path):
    run_import(write_csv(tmp_path / "items.csv", [product(1, kind="")]))

    assert ContentItem.objects.get(external_id="sku-1").kind.key == "article"


def test_scripts_and_event_handlers_are_stripped_from_imported_bodies(tmp_path):
    body = '<p>Hi<script>alert(1)</script></p><img src="x.png" onerror="alert(2)">'

    run_import(write_csv(tmp_path / "items.csv", [product(1, body=body)]))

    stored = ContentItem.objects.get(external_id="sku-1").body
    assert "<script" not in stored
    assert "alert" not in stored
    assert "onerror" not in stored
    assert '<img src="x.png">' in stored


def test_nested_tag_paths_create_the_tag_tree(tmp_path):
    rows = [product(1, tags="Sports/Football/Boots|Sports/Running")]

    run_import(write_csv(tmp_path / "items.csv", rows))

    tags = {tag.path: tag for tag in Tag.objects.select_related("parent")}
    assert set(tags) == {"sports", "sports/football", "sports/football/boots", "sports/running"}
    assert tags["sports/football/boots"].parent == tags["sports/football"]
    assert tags["sports/football"].name == "Football"
    item = ContentItem.objects.get(external_id="sku-1")
    assert sorted(item.tags.values_list("path", flat=True)) == [
        "sports/football/boots", "sports/running",
    ]  # fmt: skip


def test_a_body_change_refreshes_a_derived_summary_but_keeps_an_edited_one(tmp_path):
    run_import(write_csv(tmp_path / "first.csv", [product(1), product(2)]))
    ContentItem.objects.filter(external_id="sku-2").update(summary="Written by an editor.")

    rows = [product(1, body="<p>New text.</p>"), product(2, body="<p>New text.</p>")]
    run_import(write_csv(tmp_path / "second.csv", rows))

    assert ContentItem.objects.get(external_id="sku-1").summary == "New text."
    assert ContentItem.objects.get(external_id="sku-2").summary == "Written by an editor."


def test_slugs_are_unique_against_stored_items_and_within_the_file(tmp_path):
    ContentItemFactory(title="Red shoes", slug="red-shoes", external_id="old")
    rows = [product(1, title="Red shoes"), product(2, title="Red shoes")]

    run_import(write_csv(tmp_path / "items.csv", rows))

    slugs = ContentItem.objects.filter(external_id__in=["sku-1", "sku-2"]).values_list(
        "slug", flat=True
    )
    assert sorted(slugs) == ["red-shoes-2", "red-shoes-3"]


def _queries(path: Path) -> int:
    with CaptureQueriesContext(connection) as queries:
        run_import(path)
    return len(queries)


def test_the_number_of_queries_does_not_grow_with_the_number_of_rows(tmp_path):
    small = write_csv(tmp_path / "small.csv", [product(n, "small") for n in range(20)])
    large = write_csv(tmp_path / "large.csv", [product(n, "large") for n in range(600)])

    assert _queries(small) == _queries(large)
    assert ContentItem.objects.count() == 620


def test_the_number_of_queries_of_an_update_of_every_row_does_not_grow_with_rows(tmp_path):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite's 999-parameter limit makes Django split bulk updates")
    sizes = {"small": 20, "large": 600}
    for prefix, size in sizes.items():
        run_import(write_csv(tmp_path / f"{prefix}.csv", [product(n, prefix) for n in range(size)]))
    changed = {
        prefix: write_csv(
            tmp_path / f"{prefix}-changed.csv",
            [
                product(n, prefix, title=f"New {n}", body=f"<p>New {n}</p>", tags=f"{prefix}-new")
                for n in range(size)
            ],
        )
        for prefix, size in sizes.items()
    }

    assert _queries(changed["small"]) == _queries(changed["large"])
    assert ContentItem.objects.filter(title__startswith="New ").count() == 620
    assert ContentRevision.objects.filter(number=2).count() == 620


@pytest.mark.parametrize(
    ("broken", "expected"),
    [
        ({"metadata": '{"price": 10'}, "line 4: metadata: not valid JSON"),
        ({"external_id": "sku-1"}, "line 4: external_id: 'sku-1' also appears on line 2"),
        ({"title": "   "}, "line 4: title: required"),
    ],
    ids=["bad-json-metadata", "duplicate-external-id", "missing-title"],
)
def test_one_broken_row_fails_the_import_names_its_line_and_changes_nothing(
    tmp_path, broken, expected
):
    stored = ContentItemFactory(
        external_id="sku-1", title="Stored title", body="<p>Stored.</p>", metadata={"a": 1}
    )
    before = database_state()
    rows = [product(1), product(2), product(3) | broken, product(4)]

    message = import_error(write_csv(tmp_path / "items.csv", rows))

    assert expected in message
    assert database_state() == before
    stored.refresh_from_db()
    assert (stored.title, stored.body, stored.metadata) == (
        "Stored title",
        "<p>Stored.</p>",
        {"a": 1},
    )
    assert stored.revisions.count() == 0


def test_a_broken_row_after_batches_were_written_still_changes_nothing(tmp_path):
    stored = ContentItemFactory(external_id="sku-1", title="Stored title")
    before = database_state()
    rows = [product(n) for n in range(1, 6)] + [product(6, metadata="{broken")]

    with pytest.raises(ContentImportError) as excinfo:
        content_import(path=write_csv(tmp_path / "items.csv", rows), batch_size=2)

    assert "line 7: metadata: not valid JSON" in excinfo.value.errors[0].message
    assert database_state() == before
    stored.refresh_from_db()
    assert stored.title == "Stored title"


def test_skip_invalid_imports_the_good_rows_and_reports_the_bad_ones(tmp_path):
    rows = [product(1), product(2, title=""), product(3, metadata="[1, 2]"), product(4)]

    out, err = run_import(write_csv(tmp_path / "items.csv", rows), "--skip-invalid")

    assert sorted(ContentItem.objects.values_list("external_id", flat=True)) == ["sku-1", "sku-4"]
    assert "line 3: title: required" in err
    assert "line 4: metadata: must be a JSON object" in err
    assert out.strip() == "2 created, 0 updated, 0 unchanged, 2 invalid"


def test_every_error_is_reported_not_only_the_first(tmp_path):
    rows = [product(1, title="", url="not a url"), product(2, kind="gadget")]

    message = import_error(write_csv(tmp_path / "items.csv", rows))

    assert "line 2: title: required" in message
    assert "line 2: url: 'not a url' is not a valid" in message
    assert "line 3: kind: unknown kind 'gadget'; the known kinds are article, " in message
    assert "2 invalid rows; nothing was imported" in message


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('{"title": "No id"}', "line 2: external_id: required"),
        (json.dumps(product(9, status="live")), "line 2: status: unknown status 'live'"),
        (json.dumps(product(9, title="x" * 301)), "line 2: title: 301 characters; at most 300"),
        (
            json.dumps(product(9, url="https://example.com/" + "a" * 1000)),
            "line 2: url: 1020 characters; at most 1000",
        ),
        ('{"external_id": "sku-9", "title": ', "line 2: row: not valid JSON"),
        ("[1, 2]", "line 2: row: expected a JSON object, got list"),
        (json.dumps(product(9, metadata=[1])), "line 2: metadata: must be a JSON object"),
        (
            json.dumps(product(9) | {"colour": "red"}),
            "line 2: colour: unknown column; the columns allowed are external_id, title, kind,",
        ),
        (json.dumps(product(9, tags="sports/ /football")), "line 2: tags: 'sports/ /football'"),
    ],
    ids=[
        "missing-external-id", "bad-status", "long-title", "long-url", "unreadable-line",
        "not-an-object", "metadata-not-an-object", "unknown-column", "empty-tag-name",
    ],
)  # fmt: skip
def test_a_bad_jsonl_line_is_reported_with_its_line_number(tmp_path, line, expected):
    path = write_jsonl(tmp_path / "items.jsonl", [product(1), line, product(3)])

    assert expected in import_error(path)
    assert ContentItem.objects.count() == 0


def test_a_csv_missing_required_columns_is_one_error_and_imports_nothing(tmp_path):
    path = write_csv(tmp_path / "items.csv", [{"title": "A"}, {"title": "B"}], ["title", "body"])

    message = import_error(path, "--skip-invalid")

    assert message.splitlines()[0] == "line 1: header: missing required columns: external_id"
    assert "line 2" not in message
    assert ContentItem.objects.count() == 0


def test_unknown_csv_columns_are_an_error_that_names_the_allowed_columns(tmp_path):
    path = write_csv(tmp_path / "items.csv", [product(1) | {"colour": "red"}], [*COLUMNS, "colour"])

    message = import_error(path)

    assert "line 1: header: unknown columns: 'colour'; the columns allowed are " in message
    assert ", ".join(ALLOWED_COLUMNS) in message
    assert ContentItem.objects.count() == 0


def test_line_numbers_count_the_lines_of_multiline_csv_fields(tmp_path):
    rows = [product(1, body="<p>one</p>\n<p>two</p>\n<p>three</p>"), product(2, title="")]

    message = import_error(write_csv(tmp_path / "items.csv", rows))

    assert "line 5: title: required" in message


def test_a_csv_saved_by_a_spreadsheet_with_a_byte_order_mark_imports(tmp_path):
    path = write_csv(tmp_path / "items.csv", [product(1, title="Crème brûlée")])
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())

    run_import(path)

    assert ContentItem.objects.get(external_id="sku-1").title == "Crème brûlée"


def test_a_file_that_is_not_utf8_is_refused(tmp_path):
    path = tmp_path / "items.csv"
    path.write_bytes("external_id,title\nsku-1,Crème brûlée\n".encode("latin-1"))

    assert "not UTF-8" in import_error(path)
    assert ContentItem.objects.count() == 0


def test_a_progress_bar_is_not_drawn_when_stderr_is_not_a_terminal(tmp_path):
    _, err = run_import(write_csv(tmp_path / "items.csv", [product(1)]))

    assert err == ""
