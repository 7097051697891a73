"""Conditions that name segments: every `$inSegment` key must be a segment that exists.

The condition language cannot know which segments exist, so this check lives here and every
place a condition is written asks it: segments (`Segment.clean`, so the admin and the API),
slot rules (registered with `content.registry` by the app) and experiment targeting.
"""

import difflib
from collections.abc import Collection
from typing import Any

from personalization.rules import ConditionIssue
from personalization.rules.validation import ROOT
from personalization.segments.models import Segment


def segment_references(condition: Any, path: str = "") -> list[tuple[str, str]]:
    """(where, key) of every `$inSegment` in the condition, in reading order.

    Paths read as `validate_condition` writes them: `$and[1]`, `$not`, `(condition)`.
    """
    found: list[tuple[str, str]] = []
    if isinstance(condition, dict):
        key = condition.get("$inSegment")
        if isinstance(key, str) and key:
            found.append((path or ROOT, key))
        for name, value in condition.items():
            found += segment_references(value, f"{path}.{name}" if path else str(name))
    elif isinstance(condition, list):
        for position, value in enumerate(condition):
            found += segment_references(value, f"{path}[{position}]")
    return found


def unknown_segment_issues(
    condition: Any, *, also_known: Collection[str] = ()
) -> list[ConditionIssue]:
    """An issue for each `$inSegment` key that no segment has (`also_known`: being saved now)."""
    references = segment_references(condition)
    if not references:
        return []
    wanted = {key for _, key in references} - set(also_known)
    stored = set(Segment.objects.filter(key__in=wanted).values_list("key", flat=True))
    missing = [(path, key) for path, key in references if key in wanted - stored]
    if not missing:
        return []
    every_key = [*Segment.objects.values_list("key", flat=True), *also_known]
    issues = []
    for path, key in missing:
        message = f'$inSegment "{key}": no segment has this key'
        close = difflib.get_close_matches(key, every_key, n=1)
        if close:
            message += f'; did you mean "{close[0]}"?'
        issues.append(ConditionIssue(path, message))
    return issues
