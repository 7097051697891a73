import csv
import json
from datetime import UTC, datetime
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from consent.models import ConsentRecord
from consent.selectors import allows
from personalization.visitors.models import Event, Visitor
from tests.factories import ContentItemFactory
from tests.factories.personalization import VisitorFactory, grant

pytestmark = pytest.mark.django_db

COLUMNS = ("visitor_id", "event_type", "item_id", "timestamp", "value", "event_id")


@pytest.fixture(autouse=True)
def catalogue() -> None:
    ContentItemFactory(external_id="sku-1")
    ContentItemFactory(external_id="sku-2")


def consenting(*external_ids: str) -> list[Visitor]:
    visitors = [VisitorFactory(external_id=external_id) for external_id in external_ids]
    for visitor in visitors:
        grant(visitor, "analytics")
    return visitors


def row(n: int, visitor_id: str = "crm-1", **changes: Any) -> dict[str, Any]:
    return {
        "visitor_id": visitor_id,
        "event_type": "purchase" if n % 3 == 0 else "view",
        "item_id": f"sku-{n % 2 + 1}",
        "timestamp": f"2025-05-{n % 28 + 1:02d}T12:{n % 60:02d}:00Z",
        "value": "19.90" if n % 3 == 0 else "",
        "event_id": "",
    } | changes


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def run_import(path: Path, *args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_events", str(path), *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def import_error(path: Path, *args: str) -> str:
    with pytest.raises(CommandError) as excinfo:
        run_import(path, *args)
    return str(excinfo.value)


def test_a_csv_import_stores_the_events_of_consenting_visitors(tmp_path):
    (customer,) = consenting("crm-1")
    Visitor.objects.filter(pk=customer.pk).update(last_seen=datetime(2025, 1, 1, tzinfo=UTC))
    path = write_csv(tmp_path / "events.csv", [row(0), row(1, event_id="own-id")])

    out, _ = run_import(path)

    assert out == "2 stored, 0 duplicates, 0 invalid"
    purchase = Event.objects.get(type="purchase")
    assert (purchase.visitor, purchase.item.external_id) == (customer, "sku-1")
    assert purchase.value == Decimal("19.9000")
    assert purchase.occurred_at.isoformat() == "2025-05-01T12:00:00+00:00"
    assert purchase.context == {"source": "import"}
    assert Event.objects.filter(event_id="own-id").exists()
    customer.refresh_from_db()
    assert customer.last_seen == datetime(2025, 5, 2, 12, 1, tzinfo=UTC)


def test_a_jsonl_import_accepts_epoch_seconds_and_numeric_ids(tmp_path):
    (customer,) = consenting("42")
    path = tmp_path / "events.jsonl"
    line = {"visitor_id": 42, "event_type": "rating", "timestamp": 1746100800, "value": 4}
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")

    out, _ = run_import(path)

    event = Event.objects.get(visitor=customer)
    assert out == "1 stored, 0 duplicates, 0 invalid"
    assert (event.type, event.value) == ("rating", Decimal(4))
    assert event.occurred_at.isoformat() == "2025-05-01T12:00:00+00:00"


def test_a_second_run_of_the_same_file_adds_nothing(tmp_path):
    consenting("crm-1")
    path = write_csv(tmp_path / "events.csv", [row(n) for n in range(10)])
    run_import(path)

    out, _ = run_import(path)

    assert out == "0 stored, 10 duplicates, 0 invalid"
    assert Event.objects.count() == 10


def test_one_bad_row_fails_the_import_naming_its_line_and_stores_nothing(tmp_path):
    consenting("crm-1")
    rows = [row(0), row(1), row(2, timestamp="yesterday"), row(3)]
    path = write_csv(tmp_path / "events.csv", rows)

    message = import_error(path)

    assert "line 4: timestamp: 'yesterday' is not an ISO 8601 time or epoch seconds" in message
    assert "1 invalid rows; nothing was imported" in message
    assert not Event.objects.exists()


def test_every_bad_value_is_reported_with_its_line_and_column(tmp_path):
    consenting("crm-1")
    rows = [
        row(0, item_id="no-such-sku"),
        row(1, event_type="page view", value="cheap"),
        row(2, visitor_id=""),
    ]
    path = write_csv(tmp_path / "events.csv", rows)

    message = import_error(path)

    assert "line 2: item_id: unknown item 'no-such-sku'" in message
    assert "line 3: event_type: a type is a slug" in message
    assert "line 3: value: 'cheap' is not a number" in message
    assert "line 4: visitor_id: required" in message


def test_rows_of_visitors_without_analytics_consent_are_errors_that_suggest_grant(tmp_path):
    consenting("crm-1")
    grant(VisitorFactory(external_id="crm-2"), "analytics", granted=False)
    path = write_csv(tmp_path / "events.csv", [row(0), row(1, "crm-2"), row(2, "crm-3")])

    message = import_error(path)

    assert (
        "line 3: visitor_id: visitor 'crm-2' has not consented to analytics; "
        "use --grant analytics if consent was collected elsewhere"
    ) in message
    assert "line 4: visitor_id: visitor 'crm-3' has not consented" in message
    assert not Event.objects.exists()
    assert not Visitor.objects.filter(external_id="crm-3").exists()


def test_grant_records_consent_with_source_import_before_storing_the_events(tmp_path):
    VisitorFactory(external_id="crm-1")
    path = write_csv(tmp_path / "events.csv", [row(0), row(1, "crm-2")])

    out, _ = run_import(path, "--grant", "analytics,personalization")

    assert out == "2 stored, 0 duplicates, 0 invalid"
    records = ConsentRecord.objects.order_by("visitor__external_id", "purpose__key")
    assert [(r.visitor.external_id, r.purpose.key, r.source, r.granted) for r in records] == [
        ("crm-1", "analytics", "import", True),
        ("crm-1", "personalization", "import", True),
        ("crm-2", "analytics", "import", True),
        ("crm-2", "personalization", "import", True),
    ]
    new = Visitor.objects.get(external_id="crm-2")
    assert allows(new, "personalization")
    assert new.first_seen == new.last_seen == datetime(2025, 5, 2, 12, 1, tzinfo=UTC)


def test_an_unknown_purpose_to_grant_is_an_error_before_anything_is_written(tmp_path):
    path = write_csv(tmp_path / "events.csv", [row(0)])

    message = import_error(path, "--grant", "analytics,telepathy")

    assert "unknown purpose telepathy" in message
    assert not Visitor.objects.exists()
    assert not ConsentRecord.objects.exists()


def test_skip_invalid_stores_the_valid_rows_and_reports_the_others(tmp_path):
    consenting("crm-1")
    path = write_csv(tmp_path / "events.csv", [row(0), row(1, item_id="gone"), row(2)])

    out, err = run_import(path, "--skip-invalid")

    assert out == "2 stored, 0 duplicates, 1 invalid"
    assert "line 3: item_id: unknown item 'gone'" in err
    assert Event.objects.count() == 2


def test_an_unknown_column_in_the_header_stores_nothing(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("visitor_id,event_type,timestamp,colour\ncrm-1,view,1746100800,red\n")

    message = import_error(path)

    assert "line 1: header: unknown columns: 'colour'" in message


def test_the_query_count_is_the_same_for_2000_rows_as_for_20(tmp_path):
    consenting(*[f"crm-{n}" for n in range(40)])
    small = write_csv(tmp_path / "small.csv", [row(n, f"crm-{n % 20}") for n in range(20)])
    large = write_csv(
        tmp_path / "large.csv", [row(n, f"crm-{n % 40}", event_id=f"e-{n}") for n in range(2000)]
    )

    with CaptureQueriesContext(connection) as few:
        assert run_import(small)[0] == "20 stored, 0 duplicates, 0 invalid"
    with CaptureQueriesContext(connection) as many:
        assert run_import(large)[0] == "2000 stored, 0 duplicates, 0 invalid"

    assert len(many.captured_queries) == len(few.captured_queries)
