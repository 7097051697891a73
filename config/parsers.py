"""The API's JSON parser: DRF's, refusing bodies nested too deeply with a 400, never a 500.

Python's decoder raises RecursionError on a body such as 100,000 opening brackets, and code
that walks the data afterwards (validators, serializers) recurses too, so a body nested
deeper than MAX_JSON_DEPTH levels is refused before any view sees it.
"""

from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_JSON_DEPTH = 100


class JSONParser(parsers.JSONParser):
    """`application/json` bodies of at most MAX_JSON_DEPTH nested arrays and objects."""

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise ParseError(_too_deep()) from error
        if _deeper_than(data, MAX_JSON_DEPTH):
            raise ParseError(_too_deep())
        return data


def _too_deep() -> str:
    return f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels"


def _deeper_than(data: Any, limit: int) -> bool:
    """Whether arrays and objects nest more than `limit` levels (walked without recursion)."""
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False
