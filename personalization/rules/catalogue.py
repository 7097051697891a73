"""The attribute catalogue: every attribute a targeting condition can read, and what it means.

This module is the single source of truth for the attribute dict that conditions meet. The
dict has exactly the keys of `ATTRIBUTE_KEYS`:

* request context, at the top level (`CONTEXT_KEYS`, all `live`): device, browser, os, is_bot,
  referrer_host, utm_source … utm_content, country, hour, weekday, logged_in, path;
* the visitor (`VISITOR_KEYS`, stored): session, visit_count, visitor_id, known, and `traits`
  (an object: a trait is read as `traits.<name>`, never flattened to the top level);
* computed features, at the top level (`FEATURE_KEYS`): event_count … favourite_kinds, and
  `affinity` (an object: tag slug → 0..1);
* `segments` (a container of segment keys answering `in`), `clusters` (a list), `consent`
  (an object: purpose key → allowed) and `experiment` (an object: experiment key → variation).

`catalogue_check` tells editors about attributes the catalogue does not know and values whose
type can never match the attribute (errors, naming the path like `validate_condition` does:
a condition reading an attribute nothing sets is refused when saved), and about values
outside an attribute's known choices (warnings); `condition_is_live` says whether a condition
reads the request, so that its segment is evaluated per request instead of precomputed.
Nothing here queries.
"""

import difflib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from personalization.rules import ConditionIssue
from personalization.rules.operators import is_operator_object
from personalization.rules.semantics import array_index, json_type

STRING, NUMBER, BOOLEAN, ARRAY, OBJECT = "string", "number", "boolean", "array", "object"
ANY = "any"  # free-form values (traits): never type-checked
TYPES = (STRING, NUMBER, BOOLEAN, ARRAY, OBJECT, ANY)
SOURCES = (
    "context", "trait", "feature", "segment", "score", "consent", "experiment", "visitor",
)  # fmt: skip
WILDCARD = "*"  # how a pattern's last part (`affinity.<tag>`) is matched


@dataclass(frozen=True)
class Attribute:
    """One attribute a condition can read: `name` is dotted; `<…>` marks a pattern's part."""

    name: str
    type: str
    source: str
    description: str
    example: Any
    live: bool = False
    choices: tuple[str, ...] = ()
    items: str | None = None  # the type of an array's elements, when they have one
    default: Any = None  # the value when nothing is known (features not computed yet)

    @property
    def is_pattern(self) -> bool:
        return self.name.endswith(">")

    @property
    def key(self) -> str:
        """The top-level key of the attribute dict that holds it."""
        return self.name.split(".", 1)[0]


def _context(name: str, kind: str, description: str, example: Any, **extra: Any) -> Attribute:
    return Attribute(name, kind, "context", description, example, live=True, **extra)


def _feature(name: str, kind: str, description: str, example: Any, **extra: Any) -> Attribute:
    return Attribute(name, kind, "feature", description, example, **extra)


_UTM = ("source", "medium", "campaign", "term", "content")
LIFECYCLE_STAGES = ("new", "engaged", "active", "at_risk", "dormant")

ATTRIBUTES: tuple[Attribute, ...] = (
    _context("device", STRING, "Device type from the User-Agent.", "mobile",
             choices=("desktop", "mobile", "tablet", "bot")),
    _context("browser", STRING, "Browser family.", "Chrome"),
    _context("os", STRING, "Operating system family.", "iOS"),
    _context("is_bot", BOOLEAN, "The request comes from a crawler.", False),
    _context("referrer_host", STRING, "Host of the referring page; empty when direct.",
             "www.google.com"),
    *(_context(f"utm_{part}", STRING, f"The utm_{part} parameter of the URL; empty without it.",
               example)
      for part, example in zip(_UTM, ("newsletter", "email", "spring-sale", "shoes", "banner"),
                               strict=True)),
    _context("country", STRING, "ISO 3166 country code from the CDN header; empty if unknown.",
             "DE"),
    _context("hour", NUMBER, "Hour of the day, 0 to 23, in the visitor's time zone.", 18),
    _context("weekday", NUMBER, "Day of the week, 1 (Monday) to 7 (Sunday).", 6),
    _context("logged_in", BOOLEAN, "The visitor is signed in.", True),
    _context("path", STRING, "Path of the page being rendered.", "/shoes/"),
    Attribute("session", NUMBER, "visitor", "The number of the current visit.", 4),
    Attribute("visit_count", NUMBER, "visitor", "Visits so far, 30 minutes apart or more.", 4),
    Attribute("visitor_id", STRING, "visitor", "External id, else the cookie id.", "crm-1042"),
    Attribute("known", BOOLEAN, "visitor", "The visitor has an external id or a user account.",
              True),
    Attribute("traits", OBJECT, "trait", "Profile traits from your CRM or shop.",
              {"country": "DE", "plan": "pro"}),
    Attribute("traits.country", STRING, "trait", "Country trait.", "DE"),
    Attribute("traits.language", STRING, "trait", "Language trait.", "de"),
    Attribute("traits.age_band", STRING, "trait", "Age band trait.", "25-34"),
    Attribute("traits.<name>", ANY, "trait", "Any trait of your own.", "pro"),
    _feature("event_count", NUMBER, "Events stored for the visitor.", 42, default=0),
    _feature("recency_days", NUMBER, "Days since the last event; null without events.", 2.5),
    _feature("sessions_7d", NUMBER, "Sessions started in the last 7 days.", 2, default=0),
    _feature("sessions_30d", NUMBER, "Sessions started in the last 30 days.", 5, default=0),
    _feature("sessions_90d", NUMBER, "Sessions started in the last 90 days.", 9, default=0),
    _feature("monetary_90d", NUMBER, "Purchases in the last 90 days, outliers clipped.", 129.9,
             default=0.0),
    _feature("r_score", NUMBER, "Recency quintile, 1 to 5 (5 is most recent).", 5, default=1),
    _feature("f_score", NUMBER, "Frequency quintile, 1 to 5.", 4, default=1),
    _feature("m_score", NUMBER, "Monetary quintile, 1 to 5.", 3, default=1),
    _feature("rfm", STRING, "The three scores as text.", "543", default="111"),
    _feature("lifecycle", STRING, "Lifecycle stage.", "active", choices=LIFECYCLE_STAGES,
             default="new"),
    _feature("engagement", NUMBER, "Engagement score, 0 to 1.", 0.62, default=0.0),
    _feature("favourite_kinds", ARRAY, "Up to 3 content kinds the visitor prefers.",
             ["product", "article"], items=STRING, default=()),
    _feature("affinity", OBJECT, "Tag slug → time-decayed interest, 0 to 1.",
             {"running": 1.0, "trail": 0.4}, default=MappingProxyType({})),
    _feature("affinity.<tag>", NUMBER, "Interest in a tag, 0 to 1 (the top tag is 1).", 0.4),
    Attribute("segments", ARRAY, "segment", "Keys of the segments the visitor is in; prefer "
              '{"$inSegment": "key"}.', ["vip"], items=STRING),
    Attribute("clusters", ARRAY, "segment", "The visitor's cluster in the current run: "
              "cluster-<n> and the slug of its name; test with $in.",
              ["cluster-3", "weekend-runners"], items=STRING),
    Attribute("scores", OBJECT, "score", "Target → predicted probability, 0 to 1, of the "
              "current score run; a visitor without history or consent has none.",
              {"churn": 0.72, "purchase": 0.08}),
    Attribute("scores.churn", NUMBER, "score", "Probability of no activity in the next "
              "TAILOR_SCORES_HORIZON_DAYS days, 0 to 1; absent when not scored.", 0.72),
    Attribute("scores.purchase", NUMBER, "score", "Probability of a purchase in the next "
              "TAILOR_SCORES_HORIZON_DAYS days, 0 to 1; absent when not scored.", 0.08),
    Attribute("scores.<target>", NUMBER, "score", "Probability of another scored target, "
              "0 to 1.", 0.3),
    Attribute("consent", OBJECT, "consent", "Purpose key → allowed.",
              {"personalization": True, "marketing": False}),
    Attribute("consent.<purpose>", BOOLEAN, "consent", "Whether a purpose is allowed, e.g. "
              "consent.marketing.", True),
    Attribute("experiment", OBJECT, "experiment", "Experiment key → variation index.",
              {"hero-test": 1}, live=True),
    Attribute("experiment.<key>", NUMBER, "experiment", "The variation of one experiment, "
              "assigned when a page is decided.", 1, live=True),
)  # fmt: skip

ATTRIBUTE_KEYS: tuple[str, ...] = tuple(dict.fromkeys(a.key for a in ATTRIBUTES))
CONTEXT_KEYS: tuple[str, ...] = tuple(a.name for a in ATTRIBUTES if a.source == "context")
FEATURE_KEYS: tuple[str, ...] = tuple(
    a.name for a in ATTRIBUTES if a.source == "feature" and "." not in a.name
)
VISITOR_KEYS: tuple[str, ...] = tuple(a.name for a in ATTRIBUTES if a.source == "visitor")
# What a visitor without computed features looks like to a condition (copy the containers).
FEATURE_DEFAULTS: Mapping[str, Any] = MappingProxyType(
    {a.name: a.default for a in ATTRIBUTES if a.name in FEATURE_KEYS}
)

_BY_NAME: dict[str, Attribute] = {
    (a.name.rsplit(".", 1)[0] + "." + WILDCARD if a.is_pattern else a.name): a for a in ATTRIBUTES
}


def attribute_for(path: str) -> tuple[Attribute | None, str | None]:
    """The catalogue entry a dotted path reads, and the type of the value at that path.

    `(None, None)` for a path the catalogue does not know; the type is None when the path goes
    where no value can be (`device.x`), and ANY inside free-form values.
    """
    parts = path.split(".")
    for end in range(len(parts), 0, -1):
        name = ".".join(parts[:end])
        attribute = _BY_NAME.get(name)
        if attribute is None and end > 1:
            attribute = _BY_NAME.get(".".join([*parts[: end - 1], WILDCARD]))
        if attribute is not None:
            return attribute, _descend(attribute, parts[end:])
    return None, None


def _descend(attribute: Attribute, rest: list[str]) -> str | None:
    kind: str | None = attribute.type
    items = attribute.items
    for position, part in enumerate(rest):
        if kind in (ANY, OBJECT):
            return ANY
        if kind != ARRAY:
            return None  # a scalar has no parts: the path never holds a value
        if part == "length":
            return NUMBER if position == len(rest) - 1 else None
        if array_index(part) is None:
            return None
        kind, items = items or ANY, None
    return kind


def _close_to(name: str) -> str:
    """ "; did you mean …?" naming the closest attribute, or "" when none is close."""
    names = [a.name for a in ATTRIBUTES if not a.is_pattern]
    # First words first ("visits" is closer to visit_count than to visitor_id), then names.
    firsts: dict[str, str] = {}
    for full in names:
        firsts.setdefault(full.split("_")[0], full)
    close = [firsts[word] for word in difflib.get_close_matches(name, list(firsts), n=1)]
    close = close or difflib.get_close_matches(name, names, n=1)
    return f"; did you mean {close[0]}?" if close else ""


def _article(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _plural(kind: str) -> str:
    return {ANY: "values", BOOLEAN: "true or false"}.get(kind, f"{kind}s")


def _dump(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


_ORDER_OPERATORS = ("$gt", "$gte", "$lt", "$lte")
_LIST_OPERATORS = ("$in", "$nin", "$ini", "$nini")
_ARRAY_OPERATORS = ("$all", "$alli", "$elemMatch", "$size")
_REGEX_OPERATORS = ("$regex", "$regexi", "$notRegex", "$notRegexi")
_VERSION_OPERATORS = ("$veq", "$vne", "$vgt", "$vgte", "$vlt", "$vlte")


class _Checker:
    """Walks a condition like `validate_condition` does, checking fields against the catalogue."""

    def __init__(self) -> None:
        self.errors: list[ConditionIssue] = []
        self.warnings: list[ConditionIssue] = []

    def condition(self, condition: Mapping[Any, Any], prefix: str) -> None:
        for key, value in condition.items():
            if not isinstance(key, str) or not key:
                continue  # validate_condition reports it
            path = f"{prefix}.{key}" if prefix else key
            if key in ("$and", "$or", "$nor") and isinstance(value, list):
                for position, item in enumerate(value):
                    if isinstance(item, dict):
                        self.condition(item, f"{path}[{position}]")
            elif key == "$not" and isinstance(value, dict):
                self.condition(value, path)
            elif not key.startswith("$"):
                self.field(key, value, path)

    def field(self, name: str, value: Any, path: str) -> None:
        attribute, kind = attribute_for(name)
        if attribute is None:
            self.fail(path, f"unknown attribute {name}: not in the catalogue{_close_to(name)}")
        elif kind is None:
            self.fail(path, f"{name} is never set: {attribute.name} is {_article(attribute.type)}")
        elif attribute.name == "segments":
            # A lazy container: it answers `in`, which only $inSegment asks.
            self.warn(path, 'segments answers only $inSegment: write {"$inSegment": "key"}')
        elif kind != ANY:
            self.value(attribute, kind, value, path)

    def value(self, attribute: Attribute, kind: str, value: Any, path: str) -> None:
        if value == {}:
            return  # matches everything
        if not is_operator_object(value):
            self.literal(attribute, kind, value, path, "needs")
            return
        for name, argument in value.items():
            self.operator(attribute, kind, name, argument, path)

    def literal(self, attribute: Attribute, kind: str, value: Any, path: str, lead: str) -> None:
        if value is None:
            return
        if json_type(value) != kind:
            self.fail(path, f"{lead} {_article(kind)}, like {_dump(attribute.example)}")
        else:
            self.choice(attribute, value, path)

    def choice(self, attribute: Attribute, value: Any, path: str) -> None:
        if attribute.choices and isinstance(value, str) and value not in attribute.choices:
            known = ", ".join(attribute.choices)
            self.warn(path, f"{_dump(value)} is not a known {attribute.name}; one of: {known}")

    def operator(
        self, attribute: Attribute, kind: str, name: str, argument: Any, path: str
    ) -> None:
        if name in ("$eq", "$ne") and kind not in (ARRAY, OBJECT):
            self.literal(attribute, kind, argument, path, f"{name} needs")
        elif name in _ORDER_OPERATORS:
            if kind not in (NUMBER, STRING):
                self.fail(path, f"{name} never matches {_article(kind)}: only numbers and "
                          "strings are ordered")  # fmt: skip
            elif json_type(argument) != kind:
                self.fail(path, f"{name} needs {_article(kind)}")
        elif name in _LIST_OPERATORS and isinstance(argument, list):
            self.options(attribute, kind, name, argument, path)
        elif name in _ARRAY_OPERATORS and kind != ARRAY:
            self.fail(path, f"{name} needs an array, and {attribute.name} is {_article(kind)}")
        elif name == "$type" and isinstance(argument, str):
            if argument not in (kind, "null", "undefined"):
                self.fail(path, f"$type {argument} never matches: {attribute.name} is "
                          f"{_article(kind)}")  # fmt: skip
        elif name in _REGEX_OPERATORS and kind != STRING:
            self.fail(path, f"{name} needs a string, and {attribute.name} is {_article(kind)}")
        elif name in _VERSION_OPERATORS and kind not in (STRING, NUMBER):
            self.fail(path, f"{name} needs a version, and {attribute.name} is {_article(kind)}")
        elif name == "$not":
            self.value(attribute, kind, argument, path)

    def options(
        self, attribute: Attribute, kind: str, name: str, options: list[Any], path: str
    ) -> None:
        element = (attribute.items or ANY) if kind == ARRAY else kind
        if name in ("$ini", "$nini") and element not in (STRING, ANY):
            self.fail(path, f"{name} compares text, and {attribute.name} is {_article(kind)}")
            return
        if element == OBJECT:
            self.fail(path, f"{name} never matches an object")
            return
        if element == ANY:
            return
        for option in options:
            if option is not None and json_type(option) != element:
                self.fail(path, f"{name} needs {_plural(element)}, not {_dump(option)}")
                return
        for option in options:
            self.choice(attribute, option, path)

    def fail(self, path: str, message: str) -> None:
        self.errors.append(ConditionIssue(path, message))

    def warn(self, path: str, message: str) -> None:
        self.warnings.append(ConditionIssue(path, message))


def catalogue_check(condition: Any) -> tuple[list[ConditionIssue], list[ConditionIssue]]:
    """(errors, warnings): unknown attributes and values that can never match; unknown choices."""
    checker = _Checker()
    if isinstance(condition, dict):
        checker.condition(condition, "")
    return checker.errors, checker.warnings


def catalogue_errors(condition: Any) -> list[ConditionIssue]:
    """`catalogue_check`'s errors alone: what an editor must fix before a condition is saved."""
    return catalogue_check(condition)[0]


def condition_attributes(condition: Any) -> Iterator[str]:
    """Every attribute path the condition tests at the condition level, in reading order."""
    pending = [condition]
    while pending:
        current = pending.pop(0)
        if not isinstance(current, dict):
            continue
        for key, value in current.items():
            if key in ("$and", "$or", "$nor") and isinstance(value, list):
                pending.extend(value)
            elif key == "$not":
                pending.append(value)
            elif isinstance(key, str) and key and not key.startswith("$"):
                yield key


def condition_is_live(condition: Any) -> bool:
    """Whether the condition reads an attribute of the request (so it cannot be precomputed)."""
    for path in condition_attributes(condition):
        attribute, _ = attribute_for(path)
        if attribute is not None and attribute.live:
            return True
    return False
