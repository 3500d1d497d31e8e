import os
import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
import torch

from gancourse import alt_text, viz


def test_figures_say_what_they_show():
    fig = viz.show_images(torch.rand(12, 1, 8, 8) * 2 - 1, nrow=6, title="samples at step 100")
    assert alt_text.alt_text(fig) == "samples at step 100: a grid of 12 images, 6 per row"
    history = {"step": [10, 20], "loss_d": [1.0, 0.9], "loss_g": [0.7, 0.8], "d_real": [0.6, 0.5], "d_fake": [0.4, 0.5]}
    text = alt_text.alt_text(viz.plot_gan_history(history, title="DCGAN on MNIST"))
    assert text.startswith("Figure: DCGAN on MNIST: losses (curves)") and "discriminator's mean output" in text
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0], label="FID")
    ax.set_xlabel("step")
    ax.set_ylabel("score")
    ax.legend()
    assert alt_text.alt_text(fig) == "Figure: curves score against step for FID"
    assert "/" not in alt_text.alt_text(plt.figure())  # never a path
    fig, ax = plt.subplots()
    ax.plot([0, 1], label=r"$p_{data}(x)$")
    ax.plot([1, 0], label=r"$\mathcal{N}(\mu, \sigma^2)$")
    ax.legend()
    assert alt_text.alt_text(fig) == "Figure: curves for p_data(x), N(mu, sigma^2)"  # math as words, not TeX
    with pytest.raises(ValueError, match="non-empty description"):
        alt_text.set_alt(fig, "  ")


def test_the_png_carries_the_alt_text_and_the_built_page_gets_it(tmp_path):
    fig = alt_text.set_alt(plt.subplots(figsize=(1, 1))[0], 'two "real" digits & a fake')
    png = alt_text.figure_png(fig)
    assert png.startswith(b"\x89PNG") and alt_text.png_description(png) == 'two "real" digits & a fake'
    (tmp_path / "_images").mkdir()
    (tmp_path / "_images" / "a.png").write_bytes(png)
    (tmp_path / "_images" / "plain.png").write_bytes(alt_text.figure_png(plt.subplots(figsize=(1, 1))[0]))
    page = tmp_path / "chapter" / "05.html"
    page.parent.mkdir()
    page.write_text(
        '<p><img alt="../_images/a.png" src="../_images/a.png" /></p>'
        '<img src="../_images/a.png">'
        '<img alt="a photo of a pagoda" src="../_images/a.png">'
        '<img alt="../missing.png" src="../missing.png">',
        encoding="utf-8",
    )
    assert alt_text.fill_alt_texts(tmp_path) == [page]
    html = page.read_text(encoding="utf-8")
    wanted = 'alt="two &quot;real&quot; digits &amp; a fake"'
    assert html.count(wanted) == 2 and 'alt="a photo of a pagoda"' in html  # a written alt is kept
    assert 'alt="../missing.png"' in html  # no PNG, nothing to say
    assert alt_text.fill_alt_texts(tmp_path) == []  # idempotent


def test_register_replaces_the_inline_png_formatter():
    class Formatter(dict):
        def for_type(self, cls, func):
            self[cls] = func

    class Shell:
        display_formatter = type("D", (), {"formatters": {"image/png": Formatter()}})()

    shell = Shell()
    assert alt_text.register(shell)
    from matplotlib.figure import Figure

    assert shell.display_formatter.formatters["image/png"][Figure] is alt_text.figure_png
    assert alt_text.register(None) is False  # outside IPython: nothing to do


# What a kernel does: the inline backend is loaded by the first figure of a cell, shows the
# figures after the cell (flush_figures), and sets IPython's own PNG formatter up when it loads.
INLINE_SESSION = """
import base64
from IPython.core.displaypub import CapturingDisplayPublisher
from IPython.core.interactiveshell import InteractiveShell
from gancourse import alt_text

shell = InteractiveShell.instance()
shell.display_pub = CapturingDisplayPublisher()
assert alt_text.register(shell)
shell.run_cell("import matplotlib.pyplot as plt\\nfig, ax = plt.subplots()\\nax.set_title('first')\\nax.plot([0, 1])")
shell.run_cell("fig, ax = plt.subplots()\\nax.set_title('second')\\nax.plot([0, 1])")
for out in shell.display_pub.outputs:
    png = out["data"].get("image/png")
    print(alt_text.png_description(base64.b64decode(png) if isinstance(png, str) else png))
"""


@pytest.mark.slow
def test_figures_keep_their_alt_text_under_the_inline_backend():
    """Registered before the cell that makes the first figure (as ``notebook.start`` does), our formatter stays."""
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "MPLBACKEND": "module://matplotlib_inline.backend_inline", "PYTHONPATH": str(root)}
    done = subprocess.run(
        [sys.executable, "-c", INLINE_SESSION], env=env, capture_output=True, text=True, timeout=120, cwd=root
    )
    assert done.returncode == 0, done.stderr
    shown = [line for line in done.stdout.splitlines() if not line.startswith("Out[")]
    assert shown == ["Figure: first (curves)", "Figure: second (curves)"], done.stdout
