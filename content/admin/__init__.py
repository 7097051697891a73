"""The editors' admin: content items, kinds and tags (`items`), slots and their rules (`slots`)."""

from content.admin import items, slots

__all__ = ["items", "slots"]
