import math

import pytest
import torch
from matplotlib.figure import Figure

from gancourse import data, viz
from gancourse.config import GaussianPair1D


def test_show_images_grid():
    fig = viz.show_images(torch.rand(10, 1, 8, 8) * 2 - 1, nrow=5, title="t")
    assert isinstance(fig, Figure)
    image = fig.axes[0].get_images()[0].get_array()
    assert image.shape == (2 * 10 + 2, 5 * 10 + 2, 3)  # 2 rows, 5 columns, 2 px padding
    assert viz.show_images(torch.rand(3, 8, 8)).axes  # (N, H, W) is accepted
    with pytest.raises(ValueError, match=r"images must have shape \(N, C, H, W\)"):
        viz.show_images(torch.rand(8, 8))


def test_compare_rows_and_losses():
    fig = viz.compare_rows({"a": torch.zeros(4, 1, 8, 8), "b": torch.ones(4, 1, 8, 8)})
    assert [ax.get_ylabel() for ax in fig.axes] == ["a", "b"]
    fig = viz.plot_losses({"loss_d": [1.0, 0.5, 0.2], "loss_g": [2.0, 1.0, 3.0]}, smooth=2, logy=True)
    assert fig.axes[0].get_yscale() == "log"
    assert {t.get_text() for t in fig.axes[0].get_legend().get_texts()} == {"loss_d", "loss_g"}


def test_plot_curves():
    fig = viz.plot_curves([0, 1, 2], {"a": [1, 2, 3], "b": [3, 2, 1]}, xlabel="x")
    assert len(fig.axes[0].get_lines()) == 2 and fig.axes[0].get_xlabel() == "x"


def test_plot_curves_draws_each_reference_as_a_labelled_horizontal_line():
    fig = viz.plot_curves((), {"a": ((0, 5), (9.0, 4.0))}, reference={"real floor": 2.5})
    lines = fig.axes[0].get_lines()
    assert len(lines) == 2 and list(lines[0].get_xdata()) == [0, 5]
    assert list(lines[1].get_ydata()) == [2.5, 2.5] and lines[1].get_linestyle() == "--"
    assert "real floor: 2.5" in {t.get_text() for t in fig.axes[0].get_legend().get_texts()}
    assert fig.axes[0].get_yscale() == "linear"
    assert viz.plot_curves([1, 2], {"a": [10, 1000]}, logy=True).axes[0].get_yscale() == "log"


def test_gaussian_pair_curves():
    c = viz.gaussian_pair_curves(GaussianPair1D(gen_mean=0.0, gen_std=1.0))
    assert c["value"] == pytest.approx(-math.log(4), abs=1e-9)
    assert torch.allclose(c["d_star"], torch.full_like(c["d_star"], 0.5))
    fig = viz.plot_gaussian_pair(GaussianPair1D())
    assert "V(D*, G)" in fig.axes[0].get_title()


def test_show_row_draws_one_titled_panel_per_image_in_its_value_range():
    images = [torch.zeros(1, 3, 4, 4), torch.ones(1, 3, 4, 4)]
    fig = viz.show_row(images, titles=["black", "white"], value_range=(0, 1))
    assert [ax.get_title() for ax in fig.axes] == ["black", "white"]
    pixels = [ax.get_images()[0].get_array() for ax in fig.axes]
    assert pixels[0][3, 3].max() == 0 and pixels[1][3, 3].min() == 1  # inside the padding: 0 -> black, 1 -> white
    grey = viz.show_row([torch.zeros(1, 1, 4, 4)]).axes[0].get_images()[0].get_array()
    assert 0.4 < float(grey[3, 3, 0]) < 0.6  # 0 is mid-grey in the default range (-1, 1)


def test_sweep_row_and_mixture():
    ring = data.ring_of_gaussians()
    fig = viz.sweep_row([1, 2, 3], lambda ax, r: viz.plot_mixture(ring, ring.sample(10), ax=ax), titles=["a", "b", "c"])
    assert [ax.get_title() for ax in fig.axes] == ["a", "b", "c"]
    fig = viz.sweep_row([1, 2, 3, 4, 5], lambda ax, r: ax.plot([r]))
    assert len(fig.axes) == 6 and not fig.axes[-1].axison  # 3 rows of 2, the spare panel blank


def test_plot_gan_history():
    history = {
        "step": [10, 20],
        "loss_d": [1.3, 1.2],
        "loss_g": [0.7, 0.9],
        "d_real": [0.6, 0.55],
        "d_fake": [0.4, 0.45],
    }
    fig = viz.plot_gan_history(history, title="t")
    left, right = fig.axes
    assert len(left.get_lines()) == 2 and len(right.get_lines()) == 3  # two curves and the 1/2 line


def test_plot_class_histogram():
    fig = viz.plot_class_histogram({"real": [0.5, 0.5], "fake": [0.9, 0.1]}, ["a", "b"], title="t")
    assert len(fig.axes[0].patches) == 4


def test_plot_against_n_bands_and_log_axis():
    fig = viz.plot_against_n([10, 100, 1000], {"fid": [5.0, 1.0, 0.2], "kid": [(0.1, 0.05), (0.0, 0.01), (0.0, 0.001)]})
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["10", "100", "1,000"]
    assert len(ax.get_lines()) == 3 and len(ax.collections) == 1  # two curves and the 0 line; one band (KID)
    assert ax.get_lines()[1].get_ydata().tolist() == [0.1, 0.0, 0.0]  # the band's curve is the mean


def test_show_neighbours_layout():
    queries, neighbours = torch.zeros(3, 1, 4, 4), torch.ones(3, 2, 1, 4, 4)
    fig = viz.show_neighbours(queries, neighbours, torch.tensor([[1.0, 2.0]] * 3), title="t")
    assert len(fig.axes) == 9
    assert fig.axes[1].get_title() == "1.0" and fig.axes[2].get_title() == "2.0"
    with pytest.raises(ValueError, match="neighbours must have shape"):
        viz.show_neighbours(queries, torch.ones(3, 1, 4, 4))


def test_growth_rows_and_progressive_growth_figure():
    fig = viz.growth_rows({"4 x 4": torch.zeros(3, 1, 4, 4), "16 x 16": torch.zeros(3, 1, 16, 16)})
    assert len(fig.axes) == 2
    assert fig.axes[0].images[0].get_array().shape == fig.axes[1].images[0].get_array().shape  # both shown at 16 px
    with pytest.raises(ValueError, match="does not divide size = 16"):
        viz.growth_rows({"a": torch.zeros(1, 1, 6, 6), "b": torch.zeros(1, 1, 16, 16)})
    fig = viz.plot_progressive_growth([4, 8, 16])
    assert len(fig.axes) == 3 and len(fig.axes[2].patches) == 2 * 3 + 1  # G and D blocks, and the image


def test_plot_weight_histogram_marks_the_clip_value():
    critic = torch.nn.Linear(10, 10)
    with torch.no_grad():
        critic.weight.clamp_(-0.01, 0.01)
    fig = viz.plot_weight_histogram({"critic": critic, "tensor": torch.randn(50) * 0.01}, clip_value=0.01, title="t")
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and ax.get_title() == "t"
    assert sorted(line.get_xdata()[0] for line in ax.get_lines()) == [-0.01, 0.01]  # the two ±c lines
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:2] == ["critic (110 weights)", "tensor (50 weights)"] and "±c" in labels
    with pytest.raises(ValueError, match="has no parameters"):
        viz.plot_weight_histogram({"empty": torch.nn.ReLU()})


def test_plot_seed_spread_draws_one_row_per_name_and_every_seed():
    from gancourse import viz

    values = {"baseline": [4, 4, 8], "trick": [1, 2, 0]}
    fig = viz.plot_seed_spread(values, xlabel="modes", reference=8)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["baseline", "trick"]
    dots = [c for c in ax.collections if len(c.get_offsets()) == 3]
    assert len(dots) == 2 and sorted(dots[1].get_offsets()[:, 0].tolist()) == [0, 1, 2]


@pytest.mark.parametrize(
    "images, kwargs, message",
    [
        (torch.zeros(0, 1, 8, 8), {}, r"images is empty \(0 images\)"),
        (torch.zeros(4, 1, 8, 8), {"nrow": 0}, "nrow = 0 is out of range"),
        (torch.full((4, 1, 8, 8), float("nan")), {}, "images hold 256 NaN or infinite"),
        (torch.zeros(4, 1, 8, 8), {"value_range": (1.0, -1.0)}, "the low end must be below the high end"),
    ],
)
def test_show_images_refuses_what_would_crash_or_mislead(images, kwargs, message):
    with pytest.raises(ValueError, match=message):
        viz.show_images(images, **kwargs)


def test_compare_rows_needs_rows():
    with pytest.raises(ValueError, match="rows is empty"):
        viz.compare_rows({})
    with pytest.raises(ValueError, match="images is empty"):
        viz.compare_rows({"a": torch.zeros(0, 1, 8, 8)})
