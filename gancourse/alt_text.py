"""Alt texts for the book's figures: what a figure shows, carried inside its PNG to the built page.

A chapter's figure reaches the HTML as a PNG written by the notebook kernel; MyST-NB
gives its ``<img>`` no alt text, so the page shows the file's path to a screen reader.
Here the words travel with the picture:

1. :func:`alt_text` says what a matplotlib figure shows: its ``set_alt`` text if a
   function gave one, else its title, panel titles, axis labels and legend entries and
   what each panel holds (an image grid, curves, bars).
2. :func:`register` (called by :func:`gancourse.notebook.start`) makes IPython render
   every figure as a PNG whose ``Description`` text chunk holds that alt text. (MyST-NB
   cannot carry it: it writes an output's PNG to a file and sets an ``alt`` only from the
   cell's ``mystnb: image: alt`` metadata, never from the output's ``text/plain`` or
   metadata; without one, docutils writes the file's path as the alt.)
3. :func:`fill_alt_texts` (run by :mod:`gancourse.sphinxext` when the build finishes)
   writes each PNG's description into the ``alt`` of the pages' ``<img>`` tags.
"""

from __future__ import annotations

import html
import io
import re
from pathlib import Path
from typing import Any

#: The PNG text chunk that carries the alt text (a standard PNG keyword).
PNG_KEY = "Description"
MAX_CHARS = 400
_ATTRIBUTE = "_gancourse_alt"


def set_alt(fig: Any, text: str) -> Any:
    """Give ``fig`` the alt text ``text`` (one or two sentences saying what it shows); returns ``fig``."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"text = {text!r}: give a non-empty description of what the figure shows")
    setattr(fig, _ATTRIBUTE, " ".join(text.split()))
    return fig


_FONT_COMMAND = re.compile(r"\\(?:math[a-z]+|operatorname|text[a-z]*)\b")
_COMMAND = re.compile(r"\\([A-Za-z]+)")


def _plain(text: str) -> str:
    """Matplotlib's mathtext as text a screen reader can say: ``$p_{data}(x)$`` -> ``p_data(x)``, ``\\mu`` -> ``mu``."""
    if text.count("$") < 2 or text.count("$") % 2:  # matplotlib's rule for text with math in it
        return text
    text = _COMMAND.sub(r"\1", _FONT_COMMAND.sub("", text))
    return text.replace("$", "").replace("{", "").replace("}", "").replace("\\", "")


def _panel(ax: Any) -> str:
    kind = (
        "images"
        if ax.images
        else "curves"
        if ax.lines
        else "bars"
        if ax.patches
        else "points"
        if ax.collections
        else ""
    )
    title = ax.get_title() or ax.get_title("left") or ax.get_title("right")
    words = [title or kind]
    if title and kind:
        words.append(f"({kind})")
    x, y = ax.get_xlabel(), ax.get_ylabel()
    if x and y and kind != "images":
        words.append(f"{y} against {x}")
    elif y:
        words.append(y)  # a row label (compare_rows)
    legend = ax.get_legend()
    if legend is not None:
        labels = [t.get_text() for t in legend.get_texts() if t.get_text()]
        if labels:
            words.append("for " + ", ".join(labels))
    return " ".join(w for w in words if w)


def alt_text(fig: Any) -> str:
    """What ``fig`` shows in words, at most :data:`MAX_CHARS` characters (see the module docstring)."""
    given = getattr(fig, _ATTRIBUTE, None)
    if given:
        return given[:MAX_CHARS]
    suptitle = fig._suptitle.get_text() if getattr(fig, "_suptitle", None) is not None else ""
    panels = [p for p in (_panel(ax) for ax in fig.get_axes() if ax.get_visible()) if p]
    if panels and len(set(panels)) == 1 and len(panels) > 1:
        panels = [f"{len(panels)} panels of {panels[0]}"]
    body = "; ".join(dict.fromkeys(panels))  # repeated panels once, in order
    text = ": ".join(t for t in (suptitle, body) if t) or "a figure without titles or labels"
    return ("Figure: " + " ".join(_plain(text).split()))[:MAX_CHARS]


def figure_png(fig: Any) -> bytes | None:
    """``fig`` as the PNG the inline backend would show (tight box), with :func:`alt_text` in its text chunk.

    None for a figure with nothing drawn, as IPython's own formatter (nothing is shown).
    """
    from IPython.core.pylabtools import print_figure

    return print_figure(fig, "png", bbox_inches="tight", metadata={PNG_KEY: alt_text(fig)})


def register(shell: Any = None) -> bool:
    """Render figures with :func:`figure_png` in this IPython session; False outside IPython."""
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return False
        shell = get_ipython()
    if shell is None or not hasattr(shell, "display_formatter"):
        return False
    import matplotlib
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    # Load the backend now. pyplot imports it only when the first figure is made, and the
    # inline backend's import (matplotlib_inline's configure_inline_support, once per
    # kernel) then puts IPython's own PNG formatter back over ours: every figure of the
    # book would lose its alt text. Loaded first, it configures itself once, before us.
    plt.switch_backend(matplotlib.get_backend())
    shell.display_formatter.formatters["image/png"].for_type(Figure, figure_png)
    return True


def png_description(path: str | Path | bytes) -> str | None:
    """The alt text stored in a PNG file (or its bytes), or None."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(path) if isinstance(path, bytes) else path) as img:
            text = getattr(img, "text", {}) or img.info
            value = text.get(PNG_KEY)
    except (OSError, ValueError):
        return None
    return value if isinstance(value, str) and value.strip() else None


_IMG = re.compile(r"<img\b[^>]*>")
_ATTR = re.compile(r'\s(src|alt)="([^"]*)"')


def fill_alt_texts(outdir: str | Path) -> list[Path]:
    """Set the ``alt`` of every ``<img>`` under ``outdir`` whose PNG carries a description; returns changed pages.

    Only an alt that is missing, empty or the image's own path is replaced: a written one is kept.
    """
    outdir = Path(outdir)
    changed = []
    for page in sorted(outdir.rglob("*.html")):
        text = page.read_text(encoding="utf-8")

        def replace(match: re.Match, page: Path = page) -> str:
            tag = match.group(0)
            attrs = dict(_ATTR.findall(tag))
            src = html.unescape(attrs.get("src", ""))
            alt = html.unescape(attrs.get("alt", ""))
            if not src.lower().endswith(".png") or (alt and Path(alt).name != Path(src).name):
                return tag
            description = png_description(page.parent / src)
            if description is None:
                return tag
            new_alt = f'alt="{html.escape(description, quote=True)}"'
            if "alt" in attrs:
                return re.sub(r'\salt="[^"]*"', " " + new_alt, tag, count=1)
            return tag.replace("<img", f"<img {new_alt}", 1)

        new = _IMG.sub(replace, text)
        if new != text:
            page.write_text(new, encoding="utf-8")
            changed.append(page)
    return changed
