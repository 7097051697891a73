"""Regular expressions of `$regex` and friends, run by RE2 in time linear in the input.

Python's `re` backtracks: `^(a+)+$` on 30 `a`s and a `!` takes seconds, and every extra
character doubles it, so a rule must never run a pattern with it. RE2 (google-re2) has no
backtracking and answers in time proportional to the input, but it reads a slightly
different syntax. So a pattern is read by Python's own parser (`re._parser`, the one
GrowthBook's Python SDK relies on through `re.compile`) and written back out in RE2 syntax
with Python's meaning:

* every literal becomes `\\x{…}`, so escapes RE2 reads otherwise (`\\Z`, `[[:alpha:]]`,
  `\\u00e9`, octal) mean what they mean in Python;
* `\\d`, `\\s` and `\\w` become explicit classes of the characters Python counts (Unicode
  decimal digits, `str.isspace`, `str.isalnum` and `_`; ASCII ones under `(?a)`);
* `.` is any character but a line feed (any at all under `(?s)`), and `$` matches at the
  end or before a final line feed, as in Python.

What RE2 cannot run is refused with the reason (`lookahead is not supported`): lookahead
and lookbehind, backreferences, conditional groups, atomic groups, possessive quantifiers,
and repetition counts above 1000. Two differences remain for patterns both accept: `\\b`
and `\\B` treat only ASCII letters, digits and `_` as word characters (as JavaScript, and
so GrowthBook's JavaScript SDK, does), and `$` consumes the final line feed, so a pattern
that must match that line feed after `$` (`$\\n`) does not match.

Caps: a pattern holds at most `MAX_PATTERN_LENGTH` characters, and a value longer than
`MAX_TESTED_LENGTH` characters is not tested at all (neither `$regex` nor `$notRegex`
holds for it).
"""

import functools
import re
from collections.abc import Callable, Iterable
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser  # type: ignore[attr-defined]
from typing import Any

from re2 import _re2

__all__ = [
    "MAX_PATTERN_LENGTH",
    "MAX_TESTED_LENGTH",
    "PatternInvalid",
    "PatternRefused",
    "compile_search",
]

MAX_PATTERN_LENGTH = 1000
MAX_TESTED_LENGTH = 10_000
_MAX_REPEAT = 1000  # RE2's largest repetition count
_MAX_PROGRAM_MEMORY = 8 << 20

Search = Callable[[str], bool]

_UNSUPPORTED = {
    sre.GROUPREF: "backreferences are not supported",
    sre.GROUPREF_EXISTS: "conditional groups are not supported",
    sre.ATOMIC_GROUP: "atomic groups are not supported",
    sre.POSSESSIVE_REPEAT: "possessive quantifiers are not supported",
}
_ASSERTIONS = {
    (sre.ASSERT, 1): "lookahead is not supported",
    (sre.ASSERT_NOT, 1): "negative lookahead is not supported",
    (sre.ASSERT, -1): "lookbehind is not supported",
    (sre.ASSERT_NOT, -1): "negative lookbehind is not supported",
}
_ASCII_CLASSES = {
    sre.CATEGORY_DIGIT: ((0x30, 0x39),),
    sre.CATEGORY_SPACE: ((0x09, 0x0D), (0x20, 0x20)),
    sre.CATEGORY_WORD: ((0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)),
}
_UNICODE_TESTS: dict[Any, Callable[[str], bool]] = {
    sre.CATEGORY_DIGIT: str.isdecimal,
    sre.CATEGORY_SPACE: str.isspace,
    sre.CATEGORY_WORD: lambda character: character.isalnum() or character == "_",
}
_NEGATED = {
    sre.CATEGORY_NOT_DIGIT: sre.CATEGORY_DIGIT,
    sre.CATEGORY_NOT_SPACE: sre.CATEGORY_SPACE,
    sre.CATEGORY_NOT_WORD: sre.CATEGORY_WORD,
}
_NO_MATCH = (-1, -1)
_REMEMBERED_ANSWERS = 256  # per pattern
_REMEMBERED_LENGTH = 256  # characters of a text whose answer is kept
# The flags as plain integers: the parser's flags are ints, and `int & RegexFlag` goes through
# the enum machinery, many times slower, for every character of a pattern.
_IGNORECASE = int(re.IGNORECASE)
_ASCII = int(re.ASCII)
_DOTALL = int(re.DOTALL)
_MULTILINE = int(re.MULTILINE)


class PatternRefused(ValueError):
    """A pattern that cannot be run here; the message says why."""


class PatternInvalid(PatternRefused):
    """A pattern Python's `re`, and so GrowthBook's Python SDK, refuses too (its message)."""


@functools.lru_cache(maxsize=512)
def compile_search(source: str, *, ignore_case: bool) -> Search:
    """A function telling whether a string contains a match of the pattern (`re.search`).

    Raises PatternRefused with an editor's explanation when the pattern is invalid, too long
    or uses what RE2 cannot run. The last 512 patterns are kept compiled (one pattern often
    serves several conditions).
    """
    if len(source) > MAX_PATTERN_LENGTH:
        raise PatternRefused(
            f"patterns longer than {MAX_PATTERN_LENGTH} characters are not supported"
        )
    try:
        parsed = _parser.parse(source, _IGNORECASE if ignore_case else 0)
    except (re.error, OverflowError, RecursionError) as error:
        raise PatternInvalid(str(error)) from error
    flags = parsed.state.flags
    try:
        translated = _Translator().sequence(parsed, flags)
    except RecursionError as error:
        raise PatternRefused("the pattern is nested too deeply") from error
    if _folds_unicode(flags):
        translated = f"(?i:{translated})"
    return _compile(translated)


def _folds_unicode(flags: int) -> bool:
    """Whether RE2's own case folding applies; under `(?a)` only ASCII letters fold (below)."""
    return bool(flags & _IGNORECASE) and not flags & _ASCII


def _folds_ascii(flags: int) -> bool:
    return bool(flags & _IGNORECASE) and bool(flags & _ASCII)


def _compile(translated: str) -> Search:
    options = _re2.RE2.Options()
    options.never_capture = True
    options.log_errors = False
    options.max_mem = _MAX_PROGRAM_MEMORY
    program = _re2.RE2(translated.encode("ascii"), options)
    if not program.ok():
        raise PatternRefused(f"RE2 cannot run it ({program.error()})")
    # The bare RE2 object: the `re2` module's search() builds a match object and maps byte
    # offsets back to characters, four times the cost of the match itself.
    match = program.Match
    unanchored = _re2.RE2.Anchor.UNANCHORED

    # Attribute values repeat (user agents, campaigns, referrers): the last answers for short
    # texts are kept, which costs a dict lookup where a match costs an encode and a search.
    answers: dict[str, bool] = {}

    def search(text: str) -> bool:
        found = answers.get(text)
        if found is None:
            data = text.encode("utf-8", "surrogatepass")
            found = match(unanchored, data, 0, len(data))[0] != _NO_MATCH
            if len(text) <= _REMEMBERED_LENGTH:
                if len(answers) >= _REMEMBERED_ANSWERS:
                    answers.clear()
                answers[text] = found
        return found

    return search


class _Translator:
    """Writes a parsed Python pattern back out in RE2 syntax, refusing what RE2 cannot run."""

    def sequence(self, items: Iterable[tuple[Any, Any]], flags: int) -> str:
        return "".join(self.item(opcode, argument, flags) for opcode, argument in items)

    def item(self, opcode: Any, argument: Any, flags: int) -> str:
        if opcode is sre.LITERAL:
            if _folds_ascii(flags) and _ascii_swapped(argument) != argument:
                return f"[{_char(argument)}{_char(_ascii_swapped(argument))}]"
            return _char(argument)
        if opcode is sre.NOT_LITERAL:
            if _folds_ascii(flags):
                return f"[^{_char(argument)}{_char(_ascii_swapped(argument))}]"
            return f"[^{_char(argument)}]"
        if opcode is sre.ANY:
            return "(?s:.)" if flags & _DOTALL else "[^\\n]"
        if opcode is sre.IN:
            return self.char_class(argument, flags)
        if opcode is sre.AT:
            return _anchor(argument, flags)
        if opcode is sre.BRANCH:
            return "(?:" + "|".join(self.sequence(branch, flags) for branch in argument[1]) + ")"
        if opcode is sre.SUBPATTERN:
            return self.group(argument, flags)
        if opcode in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            return self.repeat(opcode, argument, flags)
        if opcode in (sre.ASSERT, sre.ASSERT_NOT):
            raise PatternRefused(_ASSERTIONS[opcode, argument[0]])
        raise PatternRefused(_UNSUPPORTED.get(opcode, f"{str(opcode).lower()} is not supported"))

    def group(self, argument: Any, flags: int) -> str:
        _group, added, removed, items = argument
        inner_flags = (flags | added) & ~removed
        inner = self.sequence(items, inner_flags)
        if _folds_unicode(inner_flags) != _folds_unicode(flags):
            return f"(?{'i' if _folds_unicode(inner_flags) else '-i'}:{inner})"
        return f"(?:{inner})"

    def repeat(self, opcode: Any, argument: Any, flags: int) -> str:
        low, high, items = argument
        if low > _MAX_REPEAT or (high != sre.MAXREPEAT and high > _MAX_REPEAT):
            raise PatternRefused(f"repetition counts above {_MAX_REPEAT} are not supported")
        if (low, high) == (0, sre.MAXREPEAT):
            quantifier = "*"
        elif (low, high) == (1, sre.MAXREPEAT):
            quantifier = "+"
        elif (low, high) == (0, 1):
            quantifier = "?"
        elif high == sre.MAXREPEAT:
            quantifier = f"{{{low},}}"
        else:
            quantifier = f"{{{low},{high}}}"
        lazy = "?" if opcode is sre.MIN_REPEAT else ""
        return f"(?:{self.sequence(items, flags)}){quantifier}{lazy}"

    def char_class(self, items: list[tuple[Any, Any]], flags: int) -> str:
        negated = False
        parts = []
        for opcode, argument in items:
            if opcode is sre.NEGATE:
                negated = True
            elif opcode is sre.LITERAL:
                parts.append(_char(argument))
                if _folds_ascii(flags):
                    parts.append(_char(_ascii_swapped(argument)))
            elif opcode is sre.RANGE:
                parts.append(f"{_char(argument[0])}-{_char(argument[1])}")
                if _folds_ascii(flags):
                    parts.extend(_ascii_swapped_ranges(*argument))
            elif opcode is sre.CATEGORY:
                parts.append(_ranges_text(_category_ranges(argument, bool(flags & _ASCII))))
            else:
                raise PatternRefused(f"{str(opcode).lower()} is not supported in a class")
        body = "".join(parts)
        if not body:
            return "(?s:.)" if negated else "[^\\x{0}-\\x{10ffff}]"
        return f"[{'^' if negated else ''}{body}]"


def _ascii_swapped(code: int) -> int:
    """The other case of an ASCII letter; any other character stays as it is."""
    if 0x41 <= code <= 0x5A or 0x61 <= code <= 0x7A:
        return code ^ 0x20
    return code


def _ascii_swapped_ranges(low: int, high: int) -> list[str]:
    """The ASCII letters of a range, in the other case."""
    swapped = []
    for first, last in ((0x41, 0x5A), (0x61, 0x7A)):
        start, end = max(low, first), min(high, last)
        if start <= end:
            swapped.append(f"{_char(start ^ 0x20)}-{_char(end ^ 0x20)}")
    return swapped


def _char(code: int) -> str:
    return f"\\x{{{code:x}}}"


def _anchor(code: Any, flags: int) -> str:
    multiline = bool(flags & _MULTILINE)
    if code is sre.AT_BEGINNING:
        return "(?m:^)" if multiline else "^"
    if code is sre.AT_END:
        # Python's `$` also matches before a final line feed; RE2's only at the very end.
        return "(?m:$)" if multiline else "(?:\\n?\\z)"
    if code is sre.AT_BEGINNING_STRING:
        return "\\A"
    if code is sre.AT_END_STRING:
        return "\\z"
    if code is sre.AT_BOUNDARY:
        return "\\b"
    if code is sre.AT_NON_BOUNDARY:
        return "\\B"
    raise PatternRefused(f"{str(code).lower()} is not supported")


def _category_ranges(category: Any, ascii_only: bool) -> tuple[tuple[int, int], ...]:
    if category in _NEGATED:
        return _complement(_category_ranges(_NEGATED[category], ascii_only))
    if ascii_only:
        return _ASCII_CLASSES[category]
    return _unicode_ranges(category)


@functools.cache
def _unicode_ranges(category: Any) -> tuple[tuple[int, int], ...]:
    """The code points Python's `re` puts in a Unicode class, as ranges (computed once)."""
    test = _UNICODE_TESTS[category]
    ranges: list[tuple[int, int]] = []
    for code in range(0x110000):
        if 0xD800 <= code <= 0xDFFF or not test(chr(code)):
            continue
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    return tuple(ranges)


@functools.cache
def _complement(ranges: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    result = []
    start = 0
    for low, high in ranges:
        if low > start:
            result.append((start, low - 1))
        start = high + 1
    if start <= 0x10FFFF:
        result.append((start, 0x10FFFF))
    return tuple(result)


@functools.cache
def _ranges_text(ranges: tuple[tuple[int, int], ...]) -> str:
    return "".join(
        _char(low) if low == high else f"{_char(low)}-{_char(high)}" for low, high in ranges
    )
