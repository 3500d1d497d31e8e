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
