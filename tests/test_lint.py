"""The code style is checked, not hoped for: ``ruff check`` and ``ruff format --check`` pass.

The configuration (line length 120, pycodestyle, pyflakes, import order, bugbear) is in
``pyproject.toml``; ``ruff format .`` fixes formatting, ``ruff check --fix .`` most lint.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def ruff() -> list[str]:
    exe = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if exe is None:
        pytest.skip("ruff is not installed (it is in requirements.txt)")
    return [exe]


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=["check", "format"])
def test_ruff(command):
    result = subprocess.run(
        [*ruff(), *command, "gancourse", "tests", "book/conftest.py"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, f"ruff {' '.join(command)} found problems:\n{result.stdout}{result.stderr}"
