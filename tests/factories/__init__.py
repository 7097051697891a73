"""factory_boy factories, one module per app; import them from here."""

from tests.factories.api import api_client_signed_in, api_client_with_key
from tests.factories.content import (
    ContentItemFactory,
    ContentKindFactory,
    SlotFactory,
    SlotRuleFactory,
    TagFactory,
)
from tests.factories.personalization import (
    ConsentFactory,
    EventFactory,
    PurposeFactory,
    VisitorFactory,
    grant,
    visitor_cookie,
)
from tests.factories.users import UserFactory

__all__ = [
    "ConsentFactory",
    "ContentItemFactory",
    "ContentKindFactory",
    "EventFactory",
    "PurposeFactory",
    "SlotFactory",
    "SlotRuleFactory",
    "TagFactory",
    "UserFactory",
    "VisitorFactory",
    "api_client_signed_in",
    "api_client_with_key",
    "grant",
    "visitor_cookie",
]
