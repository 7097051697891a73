"""Who may import whom: `lint-imports` holds the apps and personalization's packages to layers."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ("config", "content", "consent", "personalization", "experiments")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(where: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=where, env={"PYTHONPATH": str(where)},
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip


@pytest.fixture
def scratch(tmp_path) -> Path:
    """A copy of the code, to break on purpose."""
    copy = tmp_path
    for app in APPS:
        shutil.copytree(ROOT / app, copy / app, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    return copy


def add_import(scratch: Path, module: str, line: str) -> None:
    path = scratch / module
    path.write_text(line + "\n" + path.read_text())


def test_the_code_keeps_every_import_contract():
    result = lint_imports(ROOT)

    assert result.returncode == 0, result.stdout


def test_the_decision_engine_importing_experiments_breaks_the_app_layers(scratch):
    add_import(scratch, "personalization/decisions/engine.py", "import experiments.override")

    result = lint_imports(scratch)

    assert result.returncode == 1
    assert "personalization is not allowed to import experiments" in result.stdout
    assert "personalization.decisions.engine -> experiments.override" in result.stdout


def test_consent_importing_a_visitor_breaks_the_app_layers(scratch):
    add_import(scratch, "consent/api.py", "from personalization.visitors import models")

    result = lint_imports(scratch)

    assert "consent is not allowed to import personalization" in result.stdout


def test_a_lower_package_importing_a_higher_one_breaks_personalizations_layers(scratch):
    add_import(
        scratch,
        "personalization/visitors/selectors.py",
        "import personalization.segments.selectors",
    )

    result = lint_imports(scratch)

    assert (
        "personalization.visitors is not allowed to import personalization.segments"
        in result.stdout
    )
