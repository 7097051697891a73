"""`import_segment KEY FILE`: static lists from a CSV of external ids, all or nothing."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from personalization.segments.models import Segment, SegmentMembership
from personalization.segments.selectors import segments_cache_clear
from personalization.visitors.models import Visitor
from tests.factories.personalization import SegmentFactory, SegmentMembershipFactory, VisitorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_definitions():
    segments_cache_clear()
    yield
    segments_cache_clear()


@pytest.fixture
def crm() -> list[Visitor]:
    return [VisitorFactory(external_id=f"crm-{n}") for n in range(1, 4)]


def csv_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "list.csv"
    path.write_text(text, encoding="utf-8")
    return path


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_segment", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def members(key: str) -> set[str]:
    return set(
        SegmentMembership.objects.filter(segment__key=key).values_list(
            "visitor__external_id", flat=True
        )
    )


def test_a_csv_creates_a_static_list_with_its_visitors(tmp_path, crm):
    path = csv_file(
        tmp_path, "email,visitor_id\na@example.com,crm-1\n\nb@example.com,crm-2\nc,crm-1\n"
    )

    out, _ = run("newsletter", str(path), "--create")

    assert "newsletter: 2 added, 0 removed, 2 members" in out
    assert members("newsletter") == {"crm-1", "crm-2"}
    segment = Segment.objects.get(key="newsletter")
    assert (segment.kind, segment.estimated_size) == ("static", 2)


def test_importing_again_adds_nothing_and_replace_drops_the_others(tmp_path, crm):
    SegmentFactory(key="newsletter", kind="static")
    run("newsletter", str(csv_file(tmp_path, "visitor_id\ncrm-1\ncrm-2\n")))

    again, _ = run("newsletter", str(csv_file(tmp_path, "visitor_id\ncrm-1\ncrm-2\n")))
    replaced, _ = run("newsletter", str(csv_file(tmp_path, "visitor_id\ncrm-3\n")), "--replace")

    assert "0 added, 0 removed, 2 members" in again
    assert "1 added, 2 removed, 1 members" in replaced
    assert members("newsletter") == {"crm-3"}


def test_invalid_rows_are_reported_by_line_and_nothing_is_imported(tmp_path, crm):
    path = csv_file(tmp_path, "visitor_id,name\ncrm-1,A\nnobody,B\n\n" + "x" * 201 + ",C\n,D\n")

    with pytest.raises(CommandError) as error:
        run("newsletter", str(path), "--create")

    assert str(error.value).splitlines() == [
        "line 3: visitor_id: no visitor with id 'nobody'",
        "line 5: visitor_id: 201 characters; at most 200",
        "line 6: visitor_id: required",
        "3 invalid rows; nothing imported (--skip-invalid stores the rest)",
    ]
    assert not Segment.objects.filter(key="newsletter").exists()


def test_skip_invalid_imports_the_valid_rows_and_reports_the_others(tmp_path, crm):
    SegmentFactory(key="newsletter", kind="static")
    path = csv_file(tmp_path, "visitor_id\ncrm-1\nnobody\ncrm-2\n")

    out, err = run("newsletter", str(path), "--skip-invalid")

    assert members("newsletter") == {"crm-1", "crm-2"}
    assert "line 3: visitor_id: no visitor with id 'nobody'" in err
    assert "2 added, 0 removed, 2 members; 1 invalid rows skipped" in out


def test_a_merged_profile_is_imported_as_the_profile_it_was_merged_into(tmp_path, crm):
    SegmentFactory(key="newsletter", kind="static")
    Visitor.objects.filter(external_id="crm-1").update(merged_into=crm[1])

    run("newsletter", str(csv_file(tmp_path, "visitor_id\ncrm-1\n")))

    assert members("newsletter") == {"crm-2"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id\ncrm-1\n", "line 1: header: the visitor_id column is missing (found 'id')"),
        (
            "visitor_id,visitor_id\ncrm-1,crm-1\n",
            "line 1: header: the visitor_id column is repeated",
        ),
        ("visitor_id,name\ncrm-1\n", "line 2: row: 1 fields, but the header has 2"),
        ("", "line 1: header: the visitor_id column is missing (found nothing)"),
    ],
)
def test_an_unreadable_file_names_the_line(tmp_path, crm, text, message):
    with pytest.raises(CommandError, match="nothing imported") as error:
        run("newsletter", str(csv_file(tmp_path, text)), "--create")

    assert str(error.value).startswith(message)


def test_only_existing_static_lists_are_imported_into(tmp_path, crm):
    SegmentFactory(key="active", condition={"lifecycle": "active"})
    path = str(csv_file(tmp_path, "visitor_id\ncrm-1\n"))

    with pytest.raises(CommandError, match="'active' is a rule segment; only static lists"):
        run("active", path)
    with pytest.raises(CommandError, match="no segment 'missing'; --create makes it"):
        run("missing", path)
    assert SegmentMembership.objects.count() == 0


def test_an_existing_member_keeps_the_day_it_joined(tmp_path, crm):
    membership = SegmentMembershipFactory(
        segment=SegmentFactory(key="vips", kind="static"), visitor=crm[0]
    )

    run("vips", str(csv_file(tmp_path, "visitor_id\ncrm-1\ncrm-2\n")))

    assert SegmentMembership.objects.get(pk=membership.pk).since == membership.since
    assert members("vips") == {"crm-1", "crm-2"}
