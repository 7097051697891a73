import pytest
from django.utils import timezone

from personalization.visitors.models import Event
from tests.factories import UserFactory, VisitorFactory
from tests.factories.personalization import SegmentFactory, SegmentMembershipFactory


@pytest.mark.django_db
def test_the_visitor_page_shows_traits_segments_and_recent_events(client):
    client.force_login(UserFactory(superuser=True))
    visitor = VisitorFactory(traits={"country": "NL"})
    SegmentMembershipFactory(visitor=visitor, segment=SegmentFactory(name="Big spenders"))
    Event.objects.create(
        event_id="e-1", visitor=visitor, type="purchase", occurred_at=timezone.now()
    )

    html = client.get(f"/admin/personalization/visitor/{visitor.pk}/change/").content.decode()

    assert "&quot;country&quot;: &quot;NL&quot;" in html
    assert "Big spenders" in html
    assert "purchase" in html
