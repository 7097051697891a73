"""The keys of the purposes code asks about, named once so that a typo fails at import.

The purposes themselves (names, descriptions, whether required) are rows of `consent.Purpose`
that privacy officers edit; code only ever asks about these three by key.
"""

__all__ = ["ANALYTICS", "MARKETING", "PERSONALIZATION"]

ANALYTICS = "analytics"
PERSONALIZATION = "personalization"
MARKETING = "marketing"
