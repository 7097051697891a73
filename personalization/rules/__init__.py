"""Tailor's targeting condition language: GrowthBook's conditions, compiled, plus `$inSegment`.

A condition is a JSON object in GrowthBook's MongoDB-like language::

    {"$and": [{"device": {"$in": ["mobile", "tablet"]}}, {"visits": {"$gte": 3}}],
     "$inSegment": "vip"}

`evaluate_condition(condition, attributes)` answers what GrowthBook's SDK specification
answers: every `evalCondition` case of its spec 0.8.0 passes (tests/data), and everywhere
else the answer is that of `growthbook.core.evalCondition` of the Python SDK 4.x (checked by a
differential test), with every operator: `$and $or $nor $not $eq $ne $lt $lte $gt $gte
$in $nin $ini $nini $all $alli $elemMatch $size $exists $type $regex $regexi $veq $vne
$vgt $vgte $vlt $vlte` (and the SDK's `$notRegex $notRegexi`), dotted paths into objects
and arrays (`address.city`, `items.0.sku`, `tags.length`), and GrowthBook's strictness:
values of different JSON types are never equal, lists and objects are never `$eq`, strings
order by UTF-16 code units, versions compare as padded strings so `1.0.0-rc.1` < `1.0.0`, an
unknown operator or an invalid regular expression never matches, and a malformed condition
fails as a whole instead of raising. Where the spec and the Python SDK disagree the spec
wins: `$lt $lte $gt $gte` compare any other pair as JavaScript's `<` does (a missing
attribute is null, which is 0; "8" is 8; "abc" is NaN and fails). Regular expressions run
on RE2 in time linear in the value (`patterns.py`: what RE2 refuses, the length caps, the
two remaining differences).

Tailor adds one condition-level key, `{"$inSegment": "vip"}`, true when "vip" is in
`attributes["segments"]` (a set, a list or any lazy object answering `in`). Any other key
names an attribute, `"$groups"` included, as in GrowthBook. Tailor has no saved groups:
`$savedGroup`, `$savedGroups` and `$inGroup` never match, `$notInGroup` always does.

Design: a condition is compiled once, into one generated Python function where every part
is decided (`generated.py`: the condition level as one boolean expression, the commonest
leaves inline, other parts calling their closures), or else into nested closures
(`conditions.py` for the condition level, `fused.py` for the commonest leaves, `operators.py`
for values, `nodes.py` for GrowthBook's three-valued combinators), so evaluation never walks
the condition dict. `evaluate_condition` walks a condition for its first two uses
(`interpreter.py`, same answers) and compiles it on the third; the compiled function is
cached by the condition's canonical dump and, in front of that, by the identity of the dict
(`engine.py`). Value semantics shared with GrowthBook live in `semantics.py`;
`validation.py` tells editors what is wrong with a condition's shape.
Nothing here imports Django.
"""

from personalization.rules.engine import compile_condition, evaluate_condition
from personalization.rules.validation import (
    ConditionIssue,
    condition_segment_keys,
    validate_condition,
)

__all__ = [
    "ConditionIssue",
    "compile_condition",
    "condition_segment_keys",
    "evaluate_condition",
    "validate_condition",
]
