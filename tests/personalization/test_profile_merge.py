import pytest
from django.utils import timezone

from consent.services import consent_record
from personalization.visitors.models import Event, Visitor, VisitorMerge
from personalization.visitors.services import visitor_merge
from tests.factories import UserFactory
from tests.factories.users import PASSWORD
from tests.personalization.test_page_views import BROWSER, with_visitor_cookie


def event(visitor: Visitor, n: int) -> Event:
    return Event.objects.create(
        event_id=f"e-{visitor.pk}-{n}", visitor=visitor, type="view", occurred_at=timezone.now()
    )


@pytest.mark.django_db
def test_merging_moves_events_and_keeps_the_known_profiles_traits():
    anonymous = Visitor.objects.create(traits={"language": "de", "age_band": "25-34"})
    known = Visitor.objects.create(external_id="crm-7", traits={"language": "en"})
    event(anonymous, 1), event(anonymous, 2), event(known, 1)

    merge = visitor_merge(source=anonymous, target=known)

    known.refresh_from_db()
    assert merge.events_moved == 2
    assert Event.objects.filter(visitor=known).count() == 3
    assert known.traits == {"language": "en", "age_band": "25-34"}
    assert Visitor.objects.get(pk=anonymous.pk).merged_into == known


@pytest.mark.django_db
def test_merging_twice_changes_nothing_the_second_time():
    anonymous, known = Visitor.objects.create(), Visitor.objects.create(external_id="crm-8")
    event(anonymous, 1)
    first = visitor_merge(source=anonymous, target=known)

    second = visitor_merge(source=Visitor.objects.get(pk=anonymous.pk), target=known)

    assert second == first
    assert VisitorMerge.objects.count() == 1


@pytest.mark.django_db
def test_logging_in_merges_the_cookie_profile_into_the_users_profile(client):
    user = UserFactory(username="lena")
    own = Visitor.objects.create(user=user, external_id="crm-9")
    anonymous = Visitor.objects.create()
    consent_record(visitor=anonymous, choices={"analytics": True}, source="banner")
    event(anonymous, 1)
    with_visitor_cookie(client, anonymous)

    client.post(
        "/accounts/login/", {"username": "lena", "password": PASSWORD}, HTTP_USER_AGENT=BROWSER
    )

    assert Event.objects.filter(visitor=own).count() == 1
    assert VisitorMerge.objects.get().target == own
