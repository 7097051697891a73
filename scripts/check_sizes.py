#!/usr/bin/env python3
"""Fail when a module passes 400 lines or a function or method passes 60.

    .venv/bin/python scripts/check_sizes.py [ROOT]

A long module becomes a package split by sub-domain and a long function gets well-named
helpers (STYLE.md). A function counts from its `def` line to the last line of its body.
Migrations, tests and benchmarks are not checked. Prints `path:line name N lines` for each
offender, and each allow-list entry that no longer needs to be there; exits 1 if any.
"""

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULE_MAX = 400
FUNCTION_MAX = 60
PACKAGES = ("config", "content", "consent", "personalization", "experiments")
SKIPPED_DIRS = {"migrations", "tests", "benchmarks"}

# Known exceptions: "path" for a module, "path::qualified.name" for a function. Keep it short.
ALLOWED: dict[str, str] = {}


def _functions(tree: ast.AST, prefix: str = "") -> Iterator[tuple[str, ast.AST]]:
    """Every function and method with its qualified name (`Class.method`, `outer.inner`)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            name = f"{prefix}{node.name}"
            if not isinstance(node, ast.ClassDef):
                yield name, node
            yield from _functions(node, f"{name}.")
        else:
            yield from _functions(node, prefix)


def oversized(path: Path, relative: str) -> Iterator[tuple[str, int, str, int]]:
    """(allow-list key, line, name, length) for the module and each function over its limit."""
    source = path.read_text(encoding="utf-8")
    lines = len(source.splitlines())
    if lines > MODULE_MAX:
        yield relative, 1, "<module>", lines
    for name, node in _functions(ast.parse(source, filename=relative)):
        length = node.end_lineno - node.lineno + 1
        if length > FUNCTION_MAX:
            yield f"{relative}::{name}", node.lineno, name, length


def main(root: Path) -> int:
    problems, seen = [], set()
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            relative = path.relative_to(root).as_posix()
            if SKIPPED_DIRS & set(path.relative_to(root).parts):
                continue
            for key, line, name, length in oversized(path, relative):
                seen.add(key)
                if key not in ALLOWED:
                    problems.append(f"{relative}:{line} {name} {length} lines")
    limits = f"modules up to {MODULE_MAX} lines, functions up to {FUNCTION_MAX}"
    problems += [f"{key}: allowed but within the limits now" for key in ALLOWED if key not in seen]
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} size problem(s): {limits}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT))
