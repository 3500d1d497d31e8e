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

One execution serves the tests and the book: when every cell of a chapter has
passed, its outputs are stored in the book's execution cache
(``_build/.jupyter_cache``, the one ``jupyter-book build`` reads with
``execute_notebooks: cache``), keyed as Jupyter Book keys it (the hash of the
chapter's code cells as myst-nb reads them). The build then renders those outputs
instead of executing the chapter again; a chapter whose code changed since, or
whose test failed, is executed by the build as before.
"""

from __future__ import annotations

import os
from pathlib import Path

import jupytext
import nbformat
import yaml
from nbval.plugin import IPyNbFile

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "_build" / "nbval"
BOOK_CACHE = ROOT / "_build" / ".jupyter_cache"  # where jupyter-book build (myst-nb) looks for executed notebooks


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


def pytest_collection_modifyitems(session, config, items):
    """With ``-n N`` (pytest-xdist, whole chapters per process), start with the last chapters.

    The later chapters train more and run longest; handed out last, one of them would
    keep one process busy while the other has nothing left. Cells keep their order
    within a chapter, and a run without ``-n`` keeps the reading order.
    """
    # xdist's workers (which collect) have workerinput; their numprocesses is not the controller's
    if not (hasattr(config, "workerinput") or getattr(config.option, "numprocesses", None)):
        return
    order = {p.stem: i for i, p in enumerate(toc_chapters())}

    def chapter(item) -> int:
        return order.get(Path(str(item.path)).stem, -1) if isinstance(item.parent, IPyNbFile) else -1

    items.sort(key=chapter, reverse=True)  # stable: the cells of a chapter stay in order


# --------------------------------------------------------------------------------------
# One execution for the tests and the book: passed chapters go into the book's cache
# --------------------------------------------------------------------------------------

_failed: set[str] = set()  # notebooks with a failed cell
_seconds: dict[str, float] = {}  # notebook -> seconds its cells ran


class _ChapterRecorder:
    """Records which chapters failed and how long they ran.

    Registered as a plugin of its own: hooks about single tests that live in this
    conftest would only see tests under book/, and the executed notebooks are under _build/.
    """

    def pytest_runtest_logreport(self, report):
        notebook = report.nodeid.split("::")[0]
        if not notebook.endswith(".ipynb"):
            return
        _seconds[notebook] = _seconds.get(notebook, 0.0) + report.duration
        if report.failed:
            _failed.add(notebook)

    def pytest_terminal_summary(self, terminalreporter):
        """One line per executed chapter: how long its cells ran (the results page records these)."""
        if not _seconds:
            return
        terminalreporter.section("chapter times")
        for notebook, seconds in _seconds.items():
            mark = "  failed" if notebook in _failed else ""
            terminalreporter.write_line(f"{Path(notebook).stem:32s} {seconds:7.1f} s{mark}")
        terminalreporter.write_line(f"{'all chapters':32s} {sum(_seconds.values()):7.1f} s")


def pytest_configure(config):
    if not config.pluginmanager.has_plugin("gancourse-chapters"):
        config.pluginmanager.register(_ChapterRecorder(), "gancourse-chapters")


def pytest_sessionfinish(session, exitstatus):
    if os.environ.get("GANCOURSE_NO_BOOK_CACHE") or not getattr(session.config.option, "nbval", False):
        return
    files: dict[IPyNbFile, list] = {}
    for item in session.items:
        if isinstance(item.parent, IPyNbFile):
            files.setdefault(item.parent, []).append(item)
    for file, cells in files.items():
        md = ROOT / "book" / f"{Path(str(file.path)).stem}.md"
        nodeid = cells[0].nodeid.split("::")[0]
        if nodeid in _failed or not md.is_file() or any(c.test_outputs is None for c in cells):
            continue
        _cache_executed_chapter(md, [c.test_outputs for c in cells], _seconds.get(nodeid, 0.0))


def _cache_executed_chapter(md: Path, outputs: list[list], seconds: float) -> None:
    """Store ``outputs`` (one list per code cell, as nbval collected them) for ``md`` in the book's cache."""
    from IPython.core.displayhook import DisplayHook
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn
    from myst_nb.core.read import read_myst_markdown_notebook
    from myst_parser.config.main import MdParserConfig

    nb = read_myst_markdown_notebook(md.read_text(), config=MdParserConfig(), add_source_map=True, path=str(md))
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    if len(code) != len(outputs):  # the two readers disagree on the cells: let the book execute it
        print(f"\nbook cache: {md.name} not cached ({len(code)} code cells for the book, {len(outputs)} tested)")
        return
    for count, (cell, outs) in enumerate(zip(code, outputs, strict=True), start=1):
        # nbval runs cells without storing them in IPython's history, where IPython looks for a
        # trailing ';': drop the result a ';' asks to hide, as a notebook (and the book's own run) does
        hidden = {
            "clear_output",
            *(["execute_result"] if DisplayHook.semicolon_at_end_of_expression(cell.source) else []),
        }
        cell.outputs = [nbformat.from_dict(_plain(out)) for out in outs if out.get("output_type") not in hidden]
        cell.execution_count = count
        for out in cell.outputs:
            if out.output_type == "execute_result":
                out.execution_count = count
    cache = get_cache(str(BOOK_CACHE))
    cache.cache_notebook_bundle(
        CacheBundleIn(nb, str(md), data={"execution_seconds": seconds}), check_validity=False, overwrite=True
    )


def _plain(node) -> dict:
    return {k: (_plain(v) if isinstance(v, dict) else v) for k, v in dict(node).items()}
