"""Cache reads whose keys depend on a value read first, in one round trip where the cache allows.

A personalized page learns a visitor's id from their cookie id's entry and then reads the
entries named after that id. On Django's Redis cache both happen in one Lua script on the
server (the script builds the second keys from the first value); on any other cache they are
two reads. Either way the caller gets the same values, deserialized as the cache stores them.
"""

from collections.abc import Sequence
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

PLACEHOLDER = "{}"

# KEYS[1]: the first entry. ARGV: the full keys of the next entries, PLACEHOLDER standing for
# the first entry's value (a plain number: Django's Redis cache stores integers unpickled).
_SCRIPT = """
local first = redis.call('GET', KEYS[1])
if not first or not string.match(first, '^%d+$') then return {} end
local keys = {}
for i, template in ipairs(ARGV) do
  local at = string.find(template, '{}', 1, true)
  if at then template = string.sub(template, 1, at - 1) .. first .. string.sub(template, at + 2) end
  keys[i] = template
end
local values = redis.call('MGET', unpack(keys))
table.insert(values, 1, first)
return values
"""

_scripts: dict[int, Any] = {}
_full_keys: dict[tuple[int, tuple[str, ...]], list[str]] = {}  # the backend's prefix added


def _redis_chained(
    backend: RedisCache, first_key: str, templates: Sequence[str]
) -> tuple[int | None, list[Any]]:
    client = backend._cache.get_client(first_key)  # the cache's own connection pool
    script = _scripts.get(id(backend._cache))
    if script is None:
        script = _scripts[id(backend._cache)] = client.register_script(_SCRIPT)
    keys = _full_keys.get((id(backend), tuple(templates)))
    if keys is None:
        keys = [backend.make_and_validate_key(template) for template in templates]
        _full_keys[(id(backend), tuple(templates))] = keys
    found = script(keys=[backend.make_key(first_key)], args=keys, client=client)
    if not found:
        return None, [None] * len(templates)
    first, *values = found
    loads = backend._cache._serializer.loads
    return int(first), [None if value is None else loads(value) for value in values]


def chained_get(first_key: str, templates: Sequence[str]) -> tuple[int | None, list[Any]]:
    """The integer under `first_key`, and the values under `templates` with it for "{}".

    (None, [None, …]) when `first_key` holds no integer; a missing entry reads as None.
    """
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        return _redis_chained(backend, first_key, templates)
    first = backend.get(first_key)
    if type(first) is not int:
        return None, [None] * len(templates)
    keys = [template.replace(PLACEHOLDER, str(first), 1) for template in templates]
    found = backend.get_many(keys)
    return first, [found.get(key) for key in keys]
