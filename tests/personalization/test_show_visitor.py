import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from personalization.visitors.models import Event, Visitor


@pytest.mark.django_db
def test_show_visitor_json_has_traits_features_segments_and_events():
    visitor = Visitor.objects.create(external_id="demo-1", traits={"country": "NL"})
    Event.objects.create(event_id="e1", visitor=visitor, type="view", occurred_at=timezone.now())
    out = StringIO()

    call_command("show_visitor", "demo-1", "--json", stdout=out)

    profile = json.loads(out.getvalue())
    assert profile["visitor_id"] == "demo-1"
    assert profile["traits"] == {"country": "NL"}
    assert profile["event_count"] == 1
    assert profile["recent_events"][0]["event_id"] == "e1"
    assert {"features", "segments", "consent"} <= set(profile)


@pytest.mark.django_db
def test_show_visitor_names_an_unknown_visitor():
    with pytest.raises(CommandError, match="no visitor with id 'nobody'"):
        call_command("show_visitor", "nobody", stdout=StringIO())
