"""The Sphinx extension that makes the HTML book work as readers meet it (Jupyter Book 1).

- Chapters execute in quick mode by default: the kernels inherit this process's
  environment, so setting ``GANCOURSE_MODE`` here (unless the reader set it) keeps a
  build on a GPU machine from training in full mode for hours.
- Self-contained pages: MathJax is served from the build (the files of the
  ``sphinx-mathjax-offline`` package), ipywidgets' loader scripts are not requested from
  a CDN, and sphinx-thebe (which emitted its configuration script twice and loads thebe
  from unpkg) is switched off: the launch buttons do not need it.
- Live forms: a widget view cannot run without a kernel, so the build drops it and shows
  the form's HTML note (:data:`gancourse.widgets.NEEDS_KERNEL`); the chapters' players
  (:mod:`gancourse.players`) are the sliders of the static page.
- Whole code lines: code cells, outputs and ``show_source`` listings wrap instead of
  scrolling sideways (``_static/gancourse.css``); on a phone they scroll instead (a
  wrapped line there breaks mid-expression), and figures and players' frames keep
  their pixel size (their labels readable), scrolling sideways in their output.
- Alt texts: every figure's ``<img>`` gets the description its PNG carries
  (:mod:`gancourse.alt_text`), not its file path.
- Colab: Jupyter Book's Colab button points at the chapter's ``.md``, which Colab cannot
  open. Here it points at the executed ``.ipynb`` that the build writes next to the
  page's sources (``_sources/<page>.ipynb``, the file the download button offers), as
  published on the branch ``gancourse_pages_branch`` of the repository set in
  ``_config.yml`` (``repository.url``: the one place that names the repository). In those
  notebooks the Colab setup cell installs gancourse from that repository at the commit
  the book was built from (``gancourse_colab_ref`` overrides it).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
from pathlib import Path

from sphinx.util import logging
from sphinx.util.fileutil import copy_asset

from gancourse.alt_text import fill_alt_texts
from gancourse.config import MODE_ENV

logger = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "_static"
MATHJAX_PACKAGE = "sphinx-mathjax-offline"  # its static/mathjax holds MathJax 3
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
COLAB = "https://colab.research.google.com"
# The install line of the chapters' first (Colab setup) cell; the build rewrites its address.
SETUP_INSTALL = re.compile(r'(%pip install -q ")gancourse @ git\+[^"]*(")')


def _mathjax_dir() -> Path:
    spec = importlib.util.find_spec(MATHJAX_PACKAGE)
    if spec is None or spec.origin is None:
        raise RuntimeError(f"the book serves MathJax itself: pip install {MATHJAX_PACKAGE} (see requirements.txt)")
    return Path(spec.origin).parent / "static" / "mathjax"


def _configure(app, config) -> None:
    config.mathjax_path = "mathjax/tex-chtml.js"  # relative: served from the build's _static
    config.nb_ipywidgets_js = {}  # no require.js / widget manager from a CDN: widget views are dropped
    config.nb_mime_priority_overrides = [*config.nb_mime_priority_overrides, ("*", WIDGET_VIEW, None)]
    config.html_static_path = [*config.html_static_path, str(STATIC)]
    # Jupyter Book leaves the theme's default mode empty, and the theme then logs a console
    # error ("Got invalid theme mode") on a reader's first page: follow the reader's system.
    if not config.html_context.get("default_mode"):  # (the theme's template reads it from the context)
        config.html_context = {**config.html_context, "default_mode": "auto"}


def _drop_thebe(app) -> None:
    """Disconnect sphinx-thebe (Jupyter Book loads it): no thebe scripts, no CDN request."""
    for name in ("env-before-read-docs", "doctree-resolved"):
        for listener in list(app.events.listeners.get(name, [])):
            if getattr(listener.handler, "__module__", "").startswith("sphinx_thebe"):
                app.disconnect(listener.id)


def colab_url(app, ipynb_source: str) -> str | None:
    """The Colab address of the built notebook ``_sources/<ipynb_source>``, or None without a GitHub repository."""
    repo = (app.config.html_theme_options.get("repository_url") or "").rstrip("/")
    match = re.fullmatch(r"https://github\.com/([^/]+)/([^/]+?)(\.git)?", repo)
    if not match:
        return None
    org, name = match.group(1), match.group(2)
    return f"{COLAB}/github/{org}/{name}/blob/{app.config.gancourse_pages_branch}/_sources/{ipynb_source}"


def _rewrite_colab_button(app, pagename, templatename, context, doctree) -> None:
    """Point the Colab launch button at the page's built .ipynb instead of its .md source."""
    ipynb = context.get("ipynb_source")
    for group in context.get("header_buttons", []):
        for button in group.get("buttons", []) if isinstance(group, dict) else []:
            if button.get("text") == "Colab":
                url = colab_url(app, ipynb) if ipynb else None
                if url is None:
                    logger.warning(f"{pagename}: no built .ipynb or no GitHub repository: Colab button removed")
                    group["buttons"].remove(button)
                else:
                    button["url"] = url


def colab_ref(app) -> str:
    """The ref the Colab setup cell installs gancourse at: ``gancourse_colab_ref``, else the build's commit."""
    if app.config.gancourse_colab_ref:
        return app.config.gancourse_colab_ref
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=app.srcdir, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "gancourse"],
            cwd=app.srcdir,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        branch = app.config.html_theme_options.get("repository_branch") or "main"
        logger.info(
            f"note: not a git checkout: the Colab notebooks install gancourse from the branch {branch}, "
            "not a pinned commit (set gancourse_colab_ref in _config.yml)"
        )
        return branch
    if dirty:  # (a note, not a warning: a local build with -W must not fail for it)
        logger.info(
            f"note: gancourse/ has uncommitted changes: the Colab notebooks install commit {commit[:12]}, "
            "which does not have them"
        )
    return commit


def pin_setup_cells(outdir: Path, repository: str, ref: str) -> list[Path]:
    """In every built notebook under ``outdir/_sources``, point the Colab setup cell at ``repository@ref``.

    Returns the notebooks changed. The chapters' own cell names a default address; the
    published notebook must install the package that produced its outputs.
    """
    changed = []
    for path in sorted((outdir / "_sources").rglob("*.ipynb")):
        nb = json.loads(path.read_text())
        cells = nb.get("cells", [])
        if not cells or cells[0].get("cell_type") != "code":
            continue
        source = "".join(cells[0]["source"]) if isinstance(cells[0]["source"], list) else cells[0]["source"]
        new = SETUP_INSTALL.sub(lambda m: f"{m.group(1)}gancourse @ git+{repository}@{ref}{m.group(2)}", source)
        if new != source:
            cells[0]["source"] = new
            path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
            changed.append(path)
    return changed


CITE = re.compile(r"(\(?)\{cite(?::[a-z]+)?\}`([^`]+)`")


def citation_labels(bibfiles: list[Path]) -> dict[str, str]:
    """Bib key -> "Author et al. Year" (or "Author and Other Year"), from the book's .bib files."""
    from pybtex.database import parse_file  # installed with sphinxcontrib-bibtex

    labels = {}
    for bib in bibfiles:
        for key, entry in parse_file(str(bib)).entries.items():
            people = entry.persons.get("author") or entry.persons.get("editor") or []
            names = [" ".join(person.last_names).replace("{", "").replace("}", "") for person in people]
            who = names[0] if len(names) == 1 else " and ".join(names) if len(names) == 2 else f"{names[0]} et al."
            labels[key] = f"{who or key} {entry.fields.get('year', '')}".strip()
    return labels


def plain_citations(text: str, labels: dict[str, str]) -> str:
    """MyST's {cite}`a,b` roles as "(A et al. 2014; B 2017)", which reads in Colab, where MyST does not render."""

    def replace(match: re.Match) -> str:
        keys = [k.strip() for k in match.group(2).split(",")]
        cited = "; ".join(labels.get(k, k) for k in keys)
        return f"({cited}" if match.group(1) else f"({cited})"  # "({cite}`x`, Sec. 3)": one pair of brackets

    return CITE.sub(replace, text)


def readable_notebooks(outdir: Path, labels: dict[str, str]) -> None:
    """Rewrite the citations of the built notebooks' markdown cells for readers outside the HTML book."""
    for path in sorted((outdir / "_sources").rglob("*.ipynb")):
        nb = json.loads(path.read_text())
        changed = False
        for cell in nb.get("cells", []):
            if cell.get("cell_type") != "markdown":
                continue
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            new = plain_citations(source, labels)
            if new != source:
                cell["source"], changed = new, True
        if changed:
            path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


def _finish(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    copy_asset(str(_mathjax_dir()), str(outdir / "_static" / "mathjax"))
    repository = (app.config.html_theme_options.get("repository_url") or "").rstrip("/")
    if repository:
        pin_setup_cells(outdir, repository.removesuffix(".git") + ".git", colab_ref(app))
    bibfiles = [Path(app.srcdir) / bib for bib in getattr(app.config, "bibtex_bibfiles", [])]
    readable_notebooks(outdir, citation_labels(bibfiles))
    fill_alt_texts(outdir)  # each figure's PNG says what it shows (gancourse.alt_text)


def setup(app):
    os.environ.setdefault(MODE_ENV, "quick")
    _mathjax_dir()  # fail early, naming the package, if MathJax is missing
    app.add_config_value("gancourse_pages_branch", "gh-pages", "html")
    app.add_config_value("gancourse_colab_ref", "", "html")
    app.connect("config-inited", _configure)
    app.connect("builder-inited", _drop_thebe)
    app.connect("html-page-context", _rewrite_colab_button, priority=900)
    app.connect("build-finished", _finish)
    app.add_css_file("gancourse.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "2"}
