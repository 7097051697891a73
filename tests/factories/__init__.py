"""factory_boy factories, one module per app; import them from here."""

from tests.factories.content import (
    ContentItemFactory,
    ContentKindFactory,
    SlotFactory,
    SlotRuleFactory,
    TagFactory,
)
from tests.factories.users import UserFactory

__all__ = [
    "ContentItemFactory",
    "ContentKindFactory",
    "SlotFactory",
    "SlotRuleFactory",
    "TagFactory",
    "UserFactory",
]
