"""Personal data held by experiments: which variation each visitor saw, and when."""

from consent import registry
from consent.purposes import PERSONALIZATION

registry.register(
    "experiments.Exposure",
    path="visitor",
    erase=registry.DELETE,
    extra={"experiment_key": "experiment__key", "variation_key": "variation__key"},
    purposes=(PERSONALIZATION,),
    retention_field="exposed_at",
    description="The experiments the visitor took part in: the variation seen and when.",
)
