"""gancourse.sphinxext: the Colab links, the pinned setup cells and the plain-text citations of the built notebooks."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import jupytext

from gancourse import sphinxext

ROOT = Path(__file__).resolve().parent.parent


def test_setup_cells_are_pinned_to_the_repository(tmp_path):
    from gancourse import sphinxext

    nb = jupytext.read(ROOT / "book" / "04_basic_gan.md")
    (tmp_path / "_sources" / "book").mkdir(parents=True)
    jupytext.write(nb, tmp_path / "_sources" / "book" / "04_basic_gan.ipynb")
    changed = sphinxext.pin_setup_cells(tmp_path, "https://github.com/someone/fork.git", "abc123")
    assert len(changed) == 1
    first = jupytext.read(changed[0]).cells[0].source
    assert '%pip install -q "gancourse @ git+https://github.com/someone/fork.git@abc123"' in first


def test_citations_read_as_text_outside_the_html_book():
    from gancourse import sphinxext

    labels = sphinxext.citation_labels([ROOT / "book" / "references.bib"])
    text = "the paper ({cite}`goodfellow2014generative`, Sec. 3); see {cite}`metz2017unrolled,lin2018pacgan`."
    assert sphinxext.plain_citations(text, labels) == (
        "the paper (Goodfellow et al. 2014, Sec. 3); see (Metz et al. 2017; Lin et al. 2018)."
    )


def notebook(path: Path, cells: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def cell(kind: str, source) -> dict:
    return {"cell_type": kind, "metadata": {}, "source": source, **({"outputs": []} if kind == "code" else {})}


def test_colab_url_names_the_repository_and_the_pages_branch():
    def app(url):
        config = SimpleNamespace(html_theme_options={"repository_url": url}, gancourse_pages_branch="gh-pages")
        return SimpleNamespace(config=config)

    expected = "https://colab.research.google.com/github/me/book/blob/gh-pages/_sources/book/04_basic_gan.ipynb"
    for url in ("https://github.com/me/book", "https://github.com/me/book.git", "https://github.com/me/book/"):
        assert sphinxext.colab_url(app(url), "book/04_basic_gan.ipynb") == expected, url
    for url in ("", "https://gitlab.com/me/book", "https://github.com/me"):
        assert sphinxext.colab_url(app(url), "book/04_basic_gan.ipynb") is None, url


def test_only_a_first_code_cell_with_the_install_line_is_pinned(tmp_path):
    install = '%pip install -q "gancourse @ git+https://github.com/x/y.git@main"\n'
    sources = tmp_path / "_sources"
    pinned = notebook(sources / "a.ipynb", [cell("code", ["import sys\n", install])])  # source as a list of lines
    markdown_first = notebook(sources / "b.ipynb", [cell("markdown", install), cell("code", install)])
    no_install = notebook(sources / "c.ipynb", [cell("code", "print(1)\n")])
    before = {path: path.read_text() for path in (markdown_first, no_install)}
    assert sphinxext.pin_setup_cells(tmp_path, "https://github.com/o/r.git", "0123abc") == [pinned]
    source = json.loads(pinned.read_text())["cells"][0]["source"]
    assert source == 'import sys\n%pip install -q "gancourse @ git+https://github.com/o/r.git@0123abc"\n'
    assert all(path.read_text() == text for path, text in before.items())  # left byte for byte


def test_citation_labels_follow_the_number_of_authors(tmp_path):
    bib = tmp_path / "refs.bib"
    bib.write_text(
        """
@article{one, author = {Alice Smith}, title = {A}, year = {2001}}
@article{two, author = {Alice Smith and Bob {Jones}}, title = {B}, year = {2002}}
@article{three, author = {Alice Smith and Bob Jones and Carol King}, title = {C}, year = {2003}}
@book{edited, editor = {Dan Brown}, title = {D}, year = {2004}}
@misc{undated, author = {Eve Stone}, title = {E}}
"""
    )
    assert sphinxext.citation_labels([bib]) == {
        "one": "Smith 2001",
        "two": "Smith and Jones 2002",
        "three": "Smith et al. 2003",
        "edited": "Brown 2004",
        "undated": "Stone",
    }


def test_plain_citations_keeps_unknown_keys_and_the_roles_variants():
    labels = {"a": "A et al. 2014", "b": "B 2017"}
    assert sphinxext.plain_citations("see {cite:p}`a, b`.", labels) == "see (A et al. 2014; B 2017)."
    assert sphinxext.plain_citations("({cite:t}`a`, eq. 2)", labels) == "(A et al. 2014, eq. 2)"
    assert sphinxext.plain_citations("{cite}`missing`", labels) == "(missing)"  # unknown: the key, visibly
    assert sphinxext.plain_citations("no roles here", labels) == "no roles here"


def test_readable_notebooks_rewrite_markdown_cells_only(tmp_path):
    labels = {"a": "A 2014"}
    path = notebook(
        tmp_path / "_sources" / "book" / "x.ipynb",
        [cell("markdown", ["As in ", "{cite}`a`."]), cell("code", "# {cite}`a` stays in code\n")],
    )
    untouched = notebook(tmp_path / "_sources" / "y.ipynb", [cell("markdown", "nothing cited")])
    before = untouched.read_text()
    sphinxext.readable_notebooks(tmp_path, labels)
    cells = json.loads(path.read_text())["cells"]
    assert cells[0]["source"] == "As in (A 2014)."
    assert cells[1]["source"] == "# {cite}`a` stays in code\n"
    assert untouched.read_text() == before  # not rewritten when nothing changes
