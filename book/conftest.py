"""Let ``pytest --nbval`` execute the chapters, which are committed as Jupytext MyST ``.md``.

nbval only reads ``.ipynb``. For every chapter listed in ``_toc.yml`` this hook
converts the ``.md`` with Jupytext into ``_build/nbval/`` (git-ignored) and hands
that notebook to nbval, so ``pytest --nbval`` alone runs every chapter, cell by
cell, and a cell that raises fails the run.

The ``.md`` files store no outputs, so there is nothing to compare: every cell is
tagged ``nbval-ignore-output`` and checked for errors only. Deterministic values
(shapes, parameter counts) are checked with ``assert`` in the chapters themselves.
A cell meant to fail carries the ``raises-exception`` tag, which both nbval and
Jupyter Book honour.
"""

from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat
import yaml
from nbval.plugin import IPyNbFile

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "_build" / "nbval"


def toc_chapters(root: Path = ROOT) -> list[Path]:
    """The chapter files that ``_toc.yml`` lists, in reading order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    names: list[str] = []

    def walk(entry):
        if isinstance(entry, dict):
            if "file" in entry:
                names.append(entry["file"])
            for key in ("root", "chapters", "sections", "parts"):
                value = entry.get(key)
                if isinstance(value, str):
                    names.append(value)
                elif isinstance(value, list):
                    for item in value:
                        walk(item)
    walk(toc)
    return [(root / name).with_suffix(".md") for name in names]


def to_notebook(md: Path) -> Path | None:
    """Convert one chapter to ``_build/nbval/<name>.ipynb`` with every code cell output-ignored."""
    nb = jupytext.read(md)
    if "kernelspec" not in nb.metadata:  # a plain MyST page (intro, references): nothing to run
        return None
    for cell in nb.cells:
        if cell.cell_type == "code":
            tags = cell.metadata.setdefault("tags", [])
            if "nbval-ignore-output" not in tags:
                tags.append("nbval-ignore-output")
    OUT.mkdir(parents=True, exist_ok=True)
    target = OUT / f"{md.stem}.ipynb"
    nbformat.write(nb, target)
    return target


def pytest_collect_file(file_path: Path, parent):
    opt = parent.config.option
    if not (opt.nbval or opt.nbval_lax) or file_path.suffix != ".md":
        return None
    if file_path.resolve() not in {p.resolve() for p in toc_chapters()}:
        return None
    notebook = to_notebook(file_path)
    return None if notebook is None else IPyNbFile.from_parent(parent, path=notebook)
