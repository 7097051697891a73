"""Compile conditions once, remember them, and evaluate them on the hot path.

`evaluate_condition` interprets a condition's first `INTERPRETED_USES` evaluations
(`interpreter.py`, the same answers) and compiles it on the next one: compiling costs a few
interpreted evaluations, so a condition met only once or twice never pays for it, and one
met often pays once. `compile_condition` compiles at once.

Two caches sit in front of the compiler:

* an LRU keyed by a canonical dump of the condition: `marshal` format 2, which writes the
  structure in key order with exact types (1, 1.0 and True differ, as they do to
  GrowthBook) and, unlike pickle or later marshal formats, the same bytes for equal
  structures whatever objects they share. It is several times cheaper than a JSON dump,
  which would also write the dict keys 1 and "1" alike. A condition marshal
  refuses (a dict subclass, a custom object) is compiled every time rather than risk two
  different ones sharing a key. Each entry is compiled from a private copy read back from
  the dump, so later edits to the caller's dict cannot reach it;
* in front of it, a small table keyed by the identity of the condition object, so that
  evaluating the same dict again (a segment's stored condition, say) costs no dump at all.
  A hit also requires the dict to still `==` a snapshot taken when the object entered the
  table (a copy of its containers sharing its keys and scalars, which `==` matches by
  identity, a third cheaper than comparing with the private copy), so editing a condition
  in place is noticed; edits that `==` cannot see (1 to True or 1.0, reordering keys) are
  not, so build a new dict rather than editing an evaluated one in place. That comparison
  is most of what a hit costs beside the evaluation itself: callers holding a condition
  (decisions, segments, triggers) compile it once and call the function instead.
"""

import marshal
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from personalization.rules.conditions import compile_condition_parts
from personalization.rules.generated import compiled_source, generate
from personalization.rules.interpreter import interpret
from personalization.rules.nodes import EVALUATION_ERRORS, all_of, never
from personalization.rules.patterns import compile_search

Evaluator = Callable[[dict[str, Any]], bool]

COMPILED_CACHE_SIZE = 2048
INTERPRETED_USES = 2
_USES_LIMIT = 4096
_RECENT_LIMIT = 512
_MARSHAL_FORMAT = 2  # format 3 and later share repeated objects, so equal dumps could differ

# canonical dump -> (private copy of the condition, its evaluator), least recent first.
_compiled: OrderedDict[bytes, tuple[Any, Evaluator]] = OrderedDict()
_compiled_lock = threading.Lock()

# canonical dump -> evaluations interpreted so far, for conditions not compiled yet.
_uses: dict[bytes, int] = {}

# id(condition) -> (condition, a snapshot of it, evaluator). Holding the condition keeps its
# id from being reused by another object while the entry lives.
_recent: dict[int, tuple[Any, Any, Evaluator]] = {}


def _compile_uncached(condition: Any) -> Evaluator:
    try:
        generated = generate(condition)
        if generated is not None:
            return generated
        root = all_of(compile_condition_parts(condition))[0]
    except RecursionError:
        # Nested too deeply to compile; GrowthBook fails such a condition while evaluating.
        root = never

    def evaluate(attributes: dict[str, Any]) -> bool:
        """True only when the condition is decided True; False on any error."""
        try:
            return root(attributes) is True
        except EVALUATION_ERRORS:
            return False

    return evaluate


def _canonical_key(condition: Any) -> bytes | None:
    """Bytes that only an identical condition dumps to, or None for what marshal refuses."""
    try:
        return marshal.dumps(condition, _MARSHAL_FORMAT)
    except (ValueError, RecursionError):
        return None  # a type marshal does not know, or nesting too deep to dump


def compile_condition(condition: dict[str, Any]) -> Evaluator:
    """Compile a condition into a function of the attributes (cached; never raises when called)."""
    entry = _recent.get(id(condition))
    if entry is not None and entry[0] is condition and _unchanged(entry[1], condition):
        return entry[2]
    key = _canonical_key(condition)
    if key is None:
        return _compile_uncached(condition)
    return _compile_keyed(condition, key, _cached(key))


def _cached(key: bytes) -> tuple[Any, Evaluator] | None:
    """(private copy, compiled) of a condition compiled before, marked as recently used."""
    with _compiled_lock:
        cached = _compiled.get(key)
        if cached is not None:
            _compiled.move_to_end(key)
    return cached


def _compile_keyed(condition: Any, key: bytes, cached: tuple[Any, Evaluator] | None) -> Evaluator:
    """The compiled condition (compiled now unless cached), remembered by the condition's id."""
    if cached is None:
        # The private copy is read back from our own dump of the condition, never from
        # outside data; C code rebuilds it without the recursion limit deepcopy runs into.
        private = marshal.loads(key)  # noqa: S302
        # Compiled outside the lock: two threads may both compile a new condition, and the
        # last one stored wins, which is harmless.
        cached = (private, _compile_uncached(private))
        with _compiled_lock:
            _compiled[key] = cached
            if len(_compiled) > COMPILED_CACHE_SIZE:
                _compiled.popitem(last=False)
    if len(_recent) >= _RECENT_LIMIT:
        _recent.clear()  # cheap and bounded; the LRU behind it still holds the compilations
    # The object is compared with a snapshot sharing its keys and scalars, which `==` matches
    # by identity: a third cheaper than a comparison with the private copy.
    snapshot = _snapshot(condition)
    _recent[id(condition)] = (condition, cached[0] if snapshot is None else snapshot, cached[1])
    return cached[1]


_SHARED = (str, int, float, complex, bytes, frozenset, type(None))


def _snapshot(condition: Any) -> Any:
    """A copy of every container of the condition that shares its immutable values.

    Equal to the condition until the condition is edited in place, as the private copy is,
    but cheaper to compare with it. None when the condition is too deep to copy this way.
    """

    def copy(value: Any) -> Any:
        kind = type(value)
        if kind is dict:
            return {key: copy(item) for key, item in value.items()}
        if kind is list:
            return [copy(item) for item in value]
        if kind is tuple:
            return tuple(copy(item) for item in value)
        if kind is set:
            return set(value)
        if isinstance(value, _SHARED):
            return value
        raise TypeError(kind)  # marshal passed it, yet it is not plain data: use the copy

    try:
        return copy(condition)
    except (RecursionError, TypeError):
        return None


def evaluate_condition(condition: dict[str, Any], attributes: dict[str, Any]) -> bool:
    """Whether the attributes satisfy the condition, exactly as GrowthBook's SDKs decide."""
    # The hot path: a condition object evaluated before, still equal to what was compiled.
    try:
        # The entry holds the object its key is the id of, so a hit is this very object.
        _, snapshot, evaluate = _recent[id(condition)]
    except KeyError:
        return _evaluate_new(condition, attributes)
    try:
        if snapshot == condition:
            return evaluate(attributes)  # an evaluator never raises
    except RecursionError:
        pass  # too deep to compare: taken as changed
    return _evaluate_new(condition, attributes)


def _evaluate_new(condition: Any, attributes: dict[str, Any]) -> bool:
    """A condition not compiled for this object: interpreted for its first uses, then compiled."""
    key = _canonical_key(condition)
    if key is None:
        return _compile_uncached(condition)(attributes)
    cached = _cached(key)
    if cached is None:
        uses = _uses.get(key, 0)
        if uses < INTERPRETED_USES:
            if len(_uses) >= _USES_LIMIT:
                _uses.clear()
            _uses[key] = uses + 1
            return interpret_condition(condition, attributes)
        _uses.pop(key, None)
    return _compile_keyed(condition, key, cached)(attributes)


def interpret_condition(condition: Any, attributes: dict[str, Any]) -> bool:
    """The answer of the compiled condition, found by walking the condition instead."""
    try:
        return interpret(condition, attributes) is True
    except EVALUATION_ERRORS:
        return False


def _unchanged(private: Any, condition: Any) -> bool:
    try:
        return bool(private == condition)
    except (TypeError, ValueError, RecursionError):
        return False


def clear_caches(*, patterns: bool = True) -> None:
    """Forget every compiled condition and, unless told otherwise, every compiled pattern
    (for tests and for benchmarks that time compilation)."""
    with _compiled_lock:
        _compiled.clear()
    _recent.clear()
    _uses.clear()
    compiled_source.cache_clear()
    if patterns:
        compile_search.cache_clear()
