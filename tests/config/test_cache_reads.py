"""`chained_get`: an id read first names the entries read next, on Redis and on other caches."""

import pytest
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.test import override_settings

from config.cache_reads import PLACEHOLDER, chained_get

LOCAL = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
TEMPLATES = [f"test:chained:item:{PLACEHOLDER}", "test:chained:shared", f"test:{PLACEHOLDER}:x"]


def _forget() -> None:
    cache.delete_many(["test:chained:first", "test:chained:item:42", "test:chained:shared"])
    cache.delete("test:42:x")


@pytest.fixture(params=["redis", "local memory"])
def backend(request):
    if request.param == "redis":
        assert isinstance(caches["default"], RedisCache), "the suite runs on Redis (make test)"
        yield
        _forget()
    else:
        with override_settings(CACHES=LOCAL):  # Django gives the cache handler the new settings
            assert not isinstance(caches["default"], RedisCache)
            yield
            _forget()


def test_the_entries_named_after_the_first_value_come_back_in_order(backend):
    cache.set_many({"test:chained:first": 42, "test:chained:item:42": {"a": [1, 2]}})
    cache.set("test:42:x", "forty-two")

    assert chained_get("test:chained:first", TEMPLATES) == (42, [{"a": [1, 2]}, None, "forty-two"])


def test_without_the_first_entry_nothing_is_read(backend):
    cache.set("test:chained:shared", "there")

    assert chained_get("test:chained:first", TEMPLATES) == (None, [None, None, None])


def test_a_first_entry_that_is_not_an_integer_names_nothing(backend):
    cache.set("test:chained:first", "42; DEL everything")
    cache.set("test:chained:item:42", "kept")

    assert chained_get("test:chained:first", TEMPLATES) == (None, [None, None, None])
    assert cache.get("test:chained:item:42") == "kept"
