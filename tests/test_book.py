"""The book's structure: every chapter in the table of contents, sources only as MyST .md."""

import importlib.util
import re
import subprocess
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("book_conftest", ROOT / "book" / "conftest.py")
book_conftest = importlib.util.module_from_spec(spec)
spec.loader.exec_module(book_conftest)
CHAPTERS = book_conftest.toc_chapters(ROOT)


def test_toc_lists_existing_files_in_order():
    assert CHAPTERS[0].name == "intro.md"
    assert all(p.is_file() for p in CHAPTERS), [p for p in CHAPTERS if not p.is_file()]
    numbered = [p.name for p in CHAPTERS if re.match(r"\d\d_", p.name)]
    assert numbered == sorted(numbered) and len(numbered) >= 3


def test_no_notebooks_committed():
    tracked = subprocess.run(["git", "ls-files", "*.ipynb"], cwd=ROOT, capture_output=True, text=True)
    if tracked.returncode != 0:
        pytest.skip("not a git checkout")
    assert tracked.stdout.strip() == ""


@pytest.mark.parametrize("chapter", [p for p in CHAPTERS if re.match(r"\d\d_", p.name)], ids=lambda p: p.stem)
def test_chapter_is_a_jupytext_notebook_that_defines_no_model(chapter):
    nb = jupytext.read(chapter)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "notebook.start(" in code  # every chapter says which mode and device it runs on
    # one source of truth: models, losses and loops come from gancourse, not from the chapter
    assert not re.search(r"^class \w+\(.*(Module|Dataset)\)", code, re.M)
    assert "import matplotlib" not in code and "import ipywidgets" not in code


def test_conversion_tags_every_code_cell(tmp_path, monkeypatch):
    monkeypatch.setattr(book_conftest, "OUT", tmp_path)
    chapter = next(p for p in CHAPTERS if re.match(r"\d\d_", p.name))
    nb = jupytext.read(book_conftest.to_notebook(chapter))
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    assert code_cells and all("nbval-ignore-output" in c.metadata["tags"] for c in code_cells)
    assert book_conftest.to_notebook(ROOT / "book" / "references.md") is None


def test_ci_keeps_the_inline_backend():
    """MPLBACKEND=Agg in CI's environment would reach the kernels and strip every figure from the book."""
    ci = (ROOT / ".ci" / "run").read_text()
    assert not re.search(r"^\s*export MPLBACKEND", ci, re.M)


def repeated_code(chapters, min_shared: int = 4) -> list[str]:
    """Pairs of code cells in different chapters that share ``min_shared`` or more substantial lines."""
    cells = []
    for chapter in chapters:
        for cell in jupytext.read(chapter).cells:
            # (the Colab setup cell is the same in every chapter by design: it installs the package)
            if cell.cell_type == "code" and '"google.colab" in sys.modules' not in cell.source:
                lines = {line.strip() for line in cell.source.splitlines()}
                cells.append((chapter.stem, {line for line in lines if len(line) > 24 and not line.startswith("#")}))
    found = []
    for i, (stem_a, lines_a) in enumerate(cells):
        for stem_b, lines_b in cells[i + 1 :]:
            shared = lines_a & lines_b
            if stem_a != stem_b and len(shared) >= min_shared:
                found.append(f"{stem_a} and {stem_b} share:\n" + "\n".join(sorted(shared)))
    return found


def test_no_code_cell_is_repeated_across_chapters():
    """A computation pasted into two chapters belongs in the package, called once from each."""
    repeated = repeated_code([p for p in CHAPTERS if re.match(r"\d\d_", p.name)])
    assert not repeated, "code repeated across chapters:\n\n" + "\n\n".join(repeated)


def test_repeated_code_is_detected(tmp_path):
    import nbformat

    cell = "\n".join(f"value_{i} = compute_something_long(argument_{i})" for i in range(5))
    for name in ("01_a", "02_b"):
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell)])
        jupytext.write(nb, tmp_path / f"{name}.md", fmt="md:myst")
    assert len(repeated_code(sorted(tmp_path.glob("*.md")))) == 1
