"""The Colab path, as far as it can be tried without Colab: the chapters' install line keeps an existing torch.

Colab has torch (and much else) installed. A fresh virtual environment sees this
machine's packages, torch among them (as a Colab runtime sees its own); the hidden first
cell's install line of a chapter, pinned as the book's build pins it
(:func:`gancourse.sphinxext.pin_setup_cells`), installs gancourse from a local clone at
the checkout's commit; torch must be the same afterwards, the same version from the same
place, and the converted chapter must run there against the installed package. The
install needs the package registry (a current pip, the build backend setuptools, the
dependencies missing here): the test is skipped, saying so, where it is unreachable. It installs the
*committed* state: uncommitted changes are not in the clone.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import sysconfig
from pathlib import Path

import jupytext
import nbformat
import pytest

from gancourse import sphinxext

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
CHAPTER = ROOT / "book" / "02_tensors_and_autograd.md"  # a short chapter that trains nothing
PROBE = "import json, sys, torch, gancourse; print(json.dumps([torch.__version__, torch.__file__, gancourse.__file__]))"
EXECUTE = """
import json, sys
import nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
nb.cells.append(nbformat.v4.new_code_cell(sys.argv[2]))
NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": sys.argv[3]}}).execute()
print(nb.cells[-1].outputs[0]["text"].strip().splitlines()[-1])
"""


def _runner(folder: Path):
    """subprocess.run in ``folder``: ``python -c`` puts the working directory first on sys.path, and the
    checkout's own gancourse/ must not be what the environment imports."""

    def run(argv: list[str], env: dict[str, str], timeout: float = 900) -> subprocess.CompletedProcess:
        return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout, cwd=folder)

    return run


def _clean_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")  # gancourse's cache; pip keeps its own (PIP_CACHE_DIR)
    env.setdefault("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip"))
    return env


def test_the_install_line_keeps_torch_and_the_chapter_runs_on_the_installed_package(tmp_path):
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True)
    if head.returncode != 0:
        pytest.skip(f"{ROOT} is not a git checkout: nothing to clone ({head.stderr.strip()})")
    commit = head.stdout.strip()
    env = _clean_env(tmp_path)
    _run = _runner(tmp_path)

    # a fresh environment that sees this machine's packages, torch included (Colab's situation)
    venv = tmp_path / "venv"
    made = _run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], env, timeout=300)
    assert made.returncode == 0, made.stderr
    python = str(venv / "bin" / "python")
    purelib = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], env).stdout.strip()
    Path(purelib, "preinstalled.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    probe = _run([python, "-c", "import json, torch; print(json.dumps([torch.__version__, torch.__file__]))"], env)
    assert probe.returncode == 0, probe.stderr
    torch_before = json.loads(probe.stdout)

    # a current pip, as Colab has (the pip that venv bundles here, 23.2, refuses git+file:///path URLs)
    upgraded = _run([python, "-m", "pip", "install", "-q", "--upgrade", "pip>=24"], env, 300)
    if upgraded.returncode != 0:
        pytest.skip(f"the package registry is unreachable (upgrading pip: {upgraded.stderr[-300:].strip()})")

    # the chapter's hidden first cell, pinned to this checkout's commit as the build pins it
    built = tmp_path / "html"
    notebook_path = built / "_sources" / "book" / (CHAPTER.stem + ".ipynb")
    notebook_path.parent.mkdir(parents=True)
    nbformat.write(jupytext.read(CHAPTER), notebook_path)
    assert sphinxext.pin_setup_cells(built, ROOT.as_uri(), commit) == [notebook_path]
    first = nbformat.read(notebook_path, as_version=4).cells[0].source
    assert 'if "google.colab" in sys.modules:' in first
    (line,) = re.findall(r"^\s*%pip install (.+)$", first, flags=re.MULTILINE)
    args = shlex.split(line)
    assert f"gancourse @ git+{ROOT.as_uri()}@{commit}" in args
    installed = _run([python, "-m", "pip", "install", *args], env)
    assert installed.returncode == 0, installed.stdout[-2000:] + installed.stderr[-3000:]

    after = _run([python, "-c", PROBE], env)
    assert after.returncode == 0, after.stderr
    torch_version, torch_file, gancourse_file = json.loads(after.stdout)
    assert [torch_version, torch_file] == torch_before, "the install replaced torch"
    assert Path(gancourse_file).is_relative_to(venv), f"gancourse imported from {gancourse_file}, not the install"

    # the converted chapter, executed in that environment, offline, in quick mode, as CI runs chapters
    empty = tmp_path / "empty"
    empty.mkdir()
    offline = {f"{k}_proxy": "http://127.0.0.1:9" for k in ("http", "https")}
    run_env = {**env, **offline, **{k.upper(): v for k, v in offline.items()}, "no_proxy": "", "NO_PROXY": ""}
    run_env.update(GANCOURSE_MODE="quick", GANCOURSE_DATA=str(empty), OMP_NUM_THREADS="1")
    executed = _run([python, "-c", EXECUTE, str(notebook_path), PROBE, str(tmp_path)], run_env)
    assert executed.returncode == 0, executed.stderr[-3000:]
    kernel_torch_version, kernel_torch, kernel_gancourse = json.loads(executed.stdout.strip().splitlines()[-1])
    assert [kernel_torch_version, kernel_torch] == torch_before
    assert Path(kernel_gancourse).is_relative_to(venv), f"the chapter's kernel imported {kernel_gancourse}"
