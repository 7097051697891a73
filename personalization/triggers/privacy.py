"""Personal data triggers keep: deliveries (their payloads name the visitor), their attempt logs,
open watches and cooldowns. Erasure deletes them all, pending deliveries included, so nothing
about an erased visitor is sent afterwards."""

from consent import registry

registry.register(
    "personalization.Delivery",
    path="visitor",
    erase=registry.DELETE,
    extra={"endpoint_name": "endpoint__name", "trigger_key": "trigger__key"},
    exclude=("endpoint", "trigger", "claimed_until"),
    order=50,  # before the visitor; their attempt logs go with them
    description="Webhook messages about the visitor sent to email systems, with their payload.",
)
registry.register(
    "personalization.DeliveryAttempt",
    path="delivery__visitor",
    erase=registry.DELETE,
    order=40,
    description="Each try at sending those messages: when, the answer's status and excerpt.",
)
registry.register(
    "personalization.TriggerWatch",
    path="visitor",
    erase=registry.DELETE,
    extra={"trigger_key": "trigger__key"},
    description="An event waiting to see whether another follows it (an open cart).",
)
registry.register(
    "personalization.TriggerCooldown",
    path="visitor",
    erase=registry.DELETE,
    extra={"trigger_key": "trigger__key"},
    description="When each trigger last fired for the visitor (its cooldown).",
)
