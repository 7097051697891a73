import factory

from personalization.triggers.models import Trigger, WebhookEndpoint
from personalization.triggers.services import endpoint_create


def endpoint_for(url: str, **options) -> tuple[WebhookEndpoint, str]:
    """An endpoint made as the admin makes it; its secret, shown once."""
    return endpoint_create(name=options.pop("name", "Email system"), url=url, **options)


class TriggerFactory(factory.django.DjangoModelFactory):
    """A trigger (event `add_to_cart` by default); pass `endpoints=[...]` and `slots=[...]`."""

    class Meta:
        model = Trigger
        skip_postgeneration_save = True

    key = factory.Sequence(lambda n: f"trigger-{n}")
    name = factory.LazyAttribute(lambda t: t.key.replace("-", " ").title())
    kind = Trigger.Kind.EVENT
    event_type = "add_to_cart"

    @factory.post_generation
    def endpoints(self, create, extracted, **kwargs):
        if create and extracted:
            self.endpoints.set(extracted)

    @factory.post_generation
    def slots(self, create, extracted, **kwargs):
        if create and extracted:
            self.slots.set(extracted)
