"""The README's first screen: a quick start that names real commands, and the environment variables a user meets."""

import re
from pathlib import Path

from gancourse import cli
from gancourse.config.base import MODE_ENV
from gancourse.data.files import DATA_ENV, OFFLINE_ENV

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def section(title: str) -> str:
    start = README.index(f"## {title}")
    return README[start : README.index("\n## ", start + 3)]


def test_quick_start_comes_first_and_its_commands_exist():
    assert README.index("## Quick start") < README.index("## Chapters")
    quick = section("Quick start")
    commands = re.findall(r"python -m gancourse (\w+) (\S+)", quick)
    assert {c for c, _ in commands} >= {"train", "sample"}
    for command, first in commands:
        if command == "train":
            assert first in cli.RECIPE_NAMES
    assert "pip install -r requirements.txt" in quick and "jupyter-book build" in quick


def test_every_environment_variable_the_package_reads_is_documented():
    table = section("Environment variables")
    for name in (DATA_ENV, MODE_ENV, OFFLINE_ENV, "XDG_CACHE_HOME"):
        assert re.search(rf"^\| `{name}` \|", table, re.M), f"{name} is not in the README's table"
