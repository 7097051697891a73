"""Compile conditions once, remember them, and evaluate them on the hot path.

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
  A hit also requires the dict to still `==` the copy it was compiled from, so editing a
  condition in place is noticed; edits that `==` cannot see (1 to True or 1.0, reordering
  keys) are not, so build a new dict rather than editing an evaluated one in place.
"""

import marshal
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from personalization.rules.conditions import compile_condition_parts
from personalization.rules.nodes import Compiled, MalformedConditionError, all_of

Evaluator = Callable[[dict[str, Any]], bool]

# What evaluating a condition can raise: a malformed part of the condition, or an attribute
# value that refuses to be compared. GrowthBook fails the whole condition on these, and so
# do we: evaluation answers False rather than raising.
_EVALUATION_ERRORS = (
    MalformedConditionError,
    TypeError,
    ValueError,
    AttributeError,
    LookupError,
    RecursionError,
)

COMPILED_CACHE_SIZE = 2048
_RECENT_LIMIT = 512
_MARSHAL_FORMAT = 2  # format 3 and later share repeated objects, so equal dumps could differ

# canonical dump -> (private copy of the condition, compiled function), least recent first.
_compiled: OrderedDict[bytes, tuple[Any, Evaluator]] = OrderedDict()
_compiled_lock = threading.Lock()

# id(condition) -> (condition, private copy, compiled function). Holding the condition
# keeps its id from being reused by another object while the entry lives.
_recent: dict[int, tuple[Any, Any, Evaluator]] = {}


def _finish(parts: list[Compiled]) -> Evaluator:
    """Wrap the top-level parts: True only when all are decided True, False on any error."""
    if len(parts) > 1 and not any(undecided for _, undecided in parts):
        # The usual case: the top-level loop runs here rather than in one more closure.
        nodes = tuple(node for node, _ in parts)

        def evaluate_all(attributes: dict[str, Any]) -> bool:
            try:
                for node in nodes:  # noqa: SIM110 - all() would allocate a generator per call
                    if not node(attributes):
                        return False
                return True
            except _EVALUATION_ERRORS:
                return False

        return evaluate_all

    root, _ = all_of(parts)

    def evaluate(attributes: dict[str, Any]) -> bool:
        try:
            return root(attributes) is True
        except _EVALUATION_ERRORS:
            return False

    return evaluate


def _never(_attributes: dict[str, Any]) -> bool:
    return False


def _compile_uncached(condition: Any) -> Evaluator:
    try:
        return _finish(compile_condition_parts(condition))
    except RecursionError:
        # Nested too deeply to compile; GrowthBook fails such a condition while evaluating.
        return _never


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
    with _compiled_lock:
        cached = _compiled.get(key)
        if cached is not None:
            _compiled.move_to_end(key)
    if cached is None:
        # The private copy is read back from our own dump of the line above, never from
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
    _recent[id(condition)] = (condition, cached[0], cached[1])
    return cached[1]


def evaluate_condition(condition: dict[str, Any], attributes: dict[str, Any]) -> bool:
    """Whether the attributes satisfy the condition, exactly as GrowthBook's SDKs decide."""
    # compile_condition's identity lookup, inlined: this is the hot path.
    entry = _recent.get(id(condition))
    if entry is not None and entry[0] is condition:
        try:
            unchanged = entry[1] == condition
        except (TypeError, ValueError, RecursionError):
            unchanged = False
        if unchanged:
            return entry[2](attributes)
    return compile_condition(condition)(attributes)


def _unchanged(private: Any, condition: Any) -> bool:
    try:
        return bool(private == condition)
    except (TypeError, ValueError, RecursionError):
        return False


def clear_caches() -> None:
    """Forget every compiled condition (for tests and for benchmarks that time compilation)."""
    with _compiled_lock:
        _compiled.clear()
    _recent.clear()
