"""`make run` writes a local `.env` the first time (DEBUG on, a new SECRET_KEY), never again."""

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def make_env(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", ".env"], cwd=folder, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip


def test_make_writes_a_development_env_file_with_a_generated_secret_key(tmp_path):
    shutil.copy(ROOT / "Makefile", tmp_path)

    result = make_env(tmp_path)

    lines = (tmp_path / ".env").read_text().splitlines()
    settings = dict(
        line.split("=", 1) for line in lines if "=" in line and not line.startswith("#")
    )
    assert result.returncode == 0, result.stderr
    assert settings["DEBUG"] == "1"
    assert len(settings["SECRET_KEY"]) >= 50
    assert (tmp_path / ".env").stat().st_mode & 0o077 == 0  # readable by its owner only


def test_make_never_overwrites_an_existing_env_file(tmp_path):
    shutil.copy(ROOT / "Makefile", tmp_path)
    (tmp_path / ".env").write_text("DEBUG=0\nSECRET_KEY=chosen-by-the-operator\n")

    make_env(tmp_path)

    assert (tmp_path / ".env").read_text() == "DEBUG=0\nSECRET_KEY=chosen-by-the-operator\n"


def test_two_env_files_get_different_secret_keys(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    for folder in (first, second):
        folder.mkdir()
        shutil.copy(ROOT / "Makefile", folder)
        make_env(folder)

    assert (first / ".env").read_text() != (second / ".env").read_text()
