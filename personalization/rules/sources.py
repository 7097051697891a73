"""Attribute values that packages above the rules keep, read for many visitors at once.

The catalogue describes every attribute; a few are kept by packages that build on segments
(the `clusters` of the current clustering run). They register a reader here from
`PersonalizationConfig.ready()`, so that code below them — segment computation — can build
complete attribute dicts without importing them.
"""

from collections.abc import Callable, Iterable, Mapping
from typing import Any

Reader = Callable[[list[int]], Mapping[int, Any]]  # visitor ids → value (ids without one left out)
_readers: dict[str, Reader] = {}


def attribute_source_register(key: str, reader: Reader) -> None:
    """Have `reader(visitor_ids)` give attribute `key` when attributes are built in bulk."""
    _readers[key] = reader


def attribute_sources_many(visitor_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Visitor id → {attribute key: value} from every registered source (one call each)."""
    ids = list(visitor_ids)
    values: dict[int, dict[str, Any]] = {pk: {} for pk in ids}
    if not ids:
        return values
    for key, reader in _readers.items():
        for pk, value in reader(ids).items():
            values[pk][key] = value
    return values
