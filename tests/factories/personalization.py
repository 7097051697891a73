import factory
from django.core.cache import cache
from django.utils import timezone

from consent.models import ConsentRecord, PolicyVersion, Purpose
from consent.selectors import state_cache_key
from personalization.segments.models import Segment, SegmentMembership
from personalization.visitors.models import Event, Visitor


class VisitorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Visitor

    external_id = factory.Sequence(lambda n: f"visitor-{n}")


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    event_id = factory.Sequence(lambda n: f"event-{n}")
    visitor = factory.SubFactory(VisitorFactory)
    type = Event.Type.VIEW
    occurred_at = factory.LazyFunction(timezone.now)


class PurposeFactory(factory.django.DjangoModelFactory):
    """A purpose by key: the data migration's, or a new one where a flush removed them."""

    class Meta:
        model = Purpose
        django_get_or_create = ("key",)

    key = "analytics"
    name = factory.LazyAttribute(lambda p: p.key.capitalize())
    description = factory.LazyAttribute(lambda p: f"What {p.key} does with your data.")
    is_required = factory.LazyAttribute(lambda p: p.key == "necessary")


class ConsentFactory(factory.django.DjangoModelFactory):
    """One consent decision; prefer `grant()`, which also forgets the cached state."""

    class Meta:
        model = ConsentRecord

    visitor = factory.SubFactory(VisitorFactory)
    purpose = factory.SubFactory(PurposeFactory)
    granted = True
    policy = factory.LazyFunction(lambda: PolicyVersion.objects.order_by("-version").first())
    source = ConsentRecord.Source.BANNER


def grant(visitor: Visitor, *purposes: str, granted: bool = True) -> list[ConsentRecord]:
    """Record the visitor's decision (analytics by default) and forget their cached state."""
    records = [
        ConsentFactory(visitor=visitor, purpose=PurposeFactory(key=key), granted=granted)
        for key in purposes or ("analytics",)
    ]
    cache.delete(state_cache_key(visitor.pk))
    return records


class SegmentFactory(factory.django.DjangoModelFactory):
    """A rule segment; pass `kind="static"` (and no condition) for a list."""

    class Meta:
        model = Segment
        django_get_or_create = ("key",)

    key = factory.Sequence(lambda n: f"segment-{n}")
    name = factory.LazyAttribute(lambda s: s.key.replace("-", " ").capitalize())
    kind = Segment.Kind.RULE
    condition = factory.LazyFunction(dict)


class SegmentMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SegmentMembership

    segment = factory.SubFactory(SegmentFactory, kind=Segment.Kind.STATIC)
    visitor = factory.SubFactory(VisitorFactory)


def visitor_cookie(visitor: Visitor) -> str:
    """The signed value of the visitor cookie that identifies `visitor` to the site."""
    from django.conf import settings
    from django.core import signing

    from personalization.visitors.selectors import COOKIE_SALT

    signer = signing.get_cookie_signer(salt=settings.TAILOR_VISITOR_COOKIE + COOKIE_SALT)
    return signer.sign(str(visitor.uid))
