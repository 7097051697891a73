"""scripts/check_sizes.py: long modules and functions fail the check unless allowed."""

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def check_sizes():
    spec = importlib.util.spec_from_file_location("check_sizes", ROOT / "scripts/check_sizes.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["check_sizes"] = module
    spec.loader.exec_module(module)
    yield module
    del sys.modules["check_sizes"]


def _function(name: str, body_lines: int) -> str:
    return f"def {name}():\n" + "    x = 1\n" * body_lines


def test_the_code_base_is_within_its_size_limits(check_sizes, capsys):
    assert check_sizes.main(ROOT) == 0, capsys.readouterr().out


def test_a_long_function_and_a_long_module_are_listed_with_their_lines(
    check_sizes, tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(check_sizes, "ALLOWED", {})
    package = tmp_path / "content"
    package.mkdir()
    (package / "short.py").write_text(_function("fine", 59))
    (package / "long.py").write_text("\n" + _function("long_one", 60) + "\n" * 340)
    (package / "migrations").mkdir()
    (package / "migrations" / "0001_initial.py").write_text(_function("skipped", 100))

    assert check_sizes.main(tmp_path) == 1

    assert capsys.readouterr().out.splitlines() == [
        "content/long.py:1 <module> 402 lines",
        "content/long.py:2 long_one 61 lines",
    ]


def test_an_allowed_exception_that_became_short_must_leave_the_list(
    check_sizes, tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(check_sizes, "ALLOWED", {"content/a.py::gone": "being rewritten"})
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "a.py").write_text(_function("gone", 3))

    assert check_sizes.main(tmp_path) == 1

    assert "content/a.py::gone" in capsys.readouterr().out
