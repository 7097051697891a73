"""`seed_demo`'s triggers: an abandoned cart and a churn risk, sent to a switched-off endpoint."""

from content.models import Slot
from content.registry import DemoOptions
from personalization.triggers.models import Delivery, Trigger, WebhookEndpoint
from personalization.triggers.selectors import triggers_cache_bump
from personalization.triggers.services import delivery_test_create, endpoint_create

DEMO_URL = "https://mail.example.com/hooks/tailor"


def triggers_demo_seed(options: DemoOptions) -> None:
    """An inactive endpoint (the demo sends nothing) and two triggers naming the newsletter."""
    endpoint = WebhookEndpoint.objects.filter(url=DEMO_URL).first()
    if endpoint is None:
        endpoint, _ = endpoint_create(name="Demo email system (switched off)", url=DEMO_URL)
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False)
    newsletter = Slot.objects.filter(key="newsletter-top").first()
    for key, fields in (
        ("abandoned-cart", {
            "name": "Abandoned cart: no purchase within an hour",
            "kind": Trigger.Kind.EVENT_NOT_FOLLOWED, "event_type": "add_to_cart",
            "followed_by_type": "purchase", "within_seconds": 3600,
        }),
        ("likely-to-churn", {
            "name": "Churn risk rises above 70 %", "kind": Trigger.Kind.SCORE_CROSSES,
            "score_target": "churn", "threshold": 0.7, "direction": Trigger.Direction.UP,
        }),
    ):  # fmt: skip
        trigger, created = Trigger.objects.get_or_create(key=key, defaults=fields)
        if created:
            trigger.endpoints.set([endpoint])
            trigger.slots.set([newsletter] if newsletter else [])
    if not Delivery.objects.filter(endpoint=endpoint).exists():
        delivery_test_create(endpoint=endpoint)
    triggers_cache_bump()
    options.write("demo triggers: abandoned-cart, likely-to-churn (endpoint switched off)")
