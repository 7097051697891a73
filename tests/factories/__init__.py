"""factory_boy factories, one module per app; import them from here."""

from tests.factories.users import UserFactory

__all__ = ["UserFactory"]
