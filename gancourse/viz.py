"""Figures: image grids, loss curves, side-by-side comparisons, the 1-D GAN picture, sweeps.

The only module of the package that imports matplotlib. Every function returns
its ``Figure`` (and draws into ``ax`` when one is given), so a chapter can show,
save or test it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from torchvision.utils import make_grid

from gancourse.config import GaussianPair1D
from gancourse.data import GaussianMixture2D
from gancourse.losses import jensen_shannon, normal_pdf, optimal_discriminator, optimal_value


def flush() -> None:
    """Show every open figure now (inside a widget's output area, where no cell end does it)."""
    plt.show()


def _grid_image(images: torch.Tensor, nrow: int, value_range: tuple[float, float]) -> np.ndarray:
    """(N, C, H, W) in ``value_range`` -> (H', W', 3) array in [0, 1] for imshow."""
    images = images.detach().float().cpu()
    if images.ndim == 3:  # (N, H, W): add the channel axis
        images = images.unsqueeze(1)
    if images.ndim != 4:
        raise ValueError(f"images must have shape (N, C, H, W), got {tuple(images.shape)}")
    grid = make_grid(images, nrow=nrow, padding=2, normalize=True, value_range=value_range, pad_value=1.0)
    return grid.permute(1, 2, 0).numpy()  # make_grid repeats 1 channel to 3


def show_images(
    images: torch.Tensor,
    nrow: int = 8,
    title: str | None = None,
    value_range: tuple[float, float] = (-1.0, 1.0),
    ax: plt.Axes | None = None,
    size: float = 0.6,
) -> Figure:
    """A grid of images (N, C, H, W), by default scaled from [-1, 1]; ``size`` is inches per image."""
    if ax is None:
        n = len(images)
        cols, rows = min(nrow, n), -(-n // nrow)
        _, ax = plt.subplots(figsize=(max(2.0, cols * size), max(1.0, rows * size) + 0.3))
    ax.imshow(_grid_image(images, nrow, value_range), interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=10)
    return ax.figure


def compare_rows(rows: Mapping[str, torch.Tensor], value_range: tuple[float, float] = (-1.0, 1.0)) -> Figure:
    """One labelled row of images per entry, for before/after comparisons."""
    fig, axes = plt.subplots(len(rows), 1, figsize=(8, 1.1 * len(rows) + 0.2), squeeze=False)
    for ax, (label, images) in zip(axes[:, 0], rows.items()):
        ax.imshow(_grid_image(images, len(images), value_range), interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
        for spine in ax.spines.values():
            spine.set_visible(False)
    fig.tight_layout()
    return fig


def plot_losses(
    curves: Mapping[str, Sequence[float]],
    title: str = "",
    xlabel: str = "step",
    logy: bool = False,
    smooth: int = 1,
    ax: plt.Axes | None = None,
) -> Figure:
    """Loss curves by name; ``smooth`` > 1 also draws a running mean over that many steps."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3))
    for name, values in curves.items():
        values = np.asarray(values, dtype=float)
        line = ax.plot(values, alpha=0.35 if smooth > 1 else 1.0, lw=1)[0]
        if smooth > 1 and len(values) >= smooth:
            mean = np.convolve(values, np.ones(smooth) / smooth, mode="valid")
            ax.plot(np.arange(smooth - 1, len(values)), mean, color=line.get_color(), lw=1.5, label=name)
        else:
            line.set_label(name)
    if logy:
        ax.set_yscale("log")
    return _label_line_plot(ax, xlabel, "", title)


def _label_line_plot(ax: plt.Axes, xlabel: str, ylabel: str, title: str) -> Figure:
    """Axis labels, title, legend and grid: the finish shared by the line plots."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    ax.figure.tight_layout()
    return ax.figure


def plot_curves(
    x: Sequence[float],
    curves: Mapping[str, Sequence[float]],
    xlabel: str = "",
    ylabel: str = "",
    title: str = "",
    ax: plt.Axes | None = None,
) -> Figure:
    """Curves sharing one x axis, by name."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3))
    for name, values in curves.items():
        ax.plot(x, values, label=name)
    return _label_line_plot(ax, xlabel, ylabel, title)


def plot_gan_history(history: Mapping[str, Sequence[float]], title: str = "") -> Figure:
    """Two panels: the losses, and D's mean output on real and on fake batches, against the step.

    For the minimax GAN, D(x) -> 1 and D(G(z)) -> 0 means D is winning; both near 1/2
    means D can no longer tell them apart (or has stopped learning).
    """
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3))
    steps = history["step"]
    for name in ("loss_d", "loss_g"):
        if name in history:
            left.plot(steps, history[name], label=name, lw=1)
    left.set_xlabel("generator step")
    left.set_title("losses", fontsize=10)
    for name, label in (("d_real", "D(x), real"), ("d_fake", "D(G(z)), fake")):
        if name in history:
            right.plot(steps, history[name], label=label, lw=1)
    right.axhline(0.5, color="grey", lw=0.6, ls=":")
    right.set_xlabel("generator step")
    right.set_title("discriminator's mean output", fontsize=10)
    for ax in (left, right):
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_class_histogram(
    shares: Mapping[str, Sequence[float]], classes: Sequence[str], title: str = "", ax: plt.Axes | None = None
) -> Figure:
    """Grouped bars: the share of images per class, one group per source (e.g. real and generated)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 2.8))
    n = len(shares)
    width = 0.8 / max(n, 1)
    positions = np.arange(len(classes))
    for i, (name, values) in enumerate(shares.items()):
        ax.bar(positions + (i - (n - 1) / 2) * width, values, width=width, label=name)
    ax.axhline(1 / len(classes), color="grey", lw=0.8, ls=":", label="uniform")
    ax.set_xticks(positions, classes, rotation=30 if max(len(c) for c in classes) > 2 else 0, fontsize=8)
    ax.set_ylabel("share of images")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    ax.figure.tight_layout()
    return ax.figure


def gaussian_pair_curves(pair: GaussianPair1D, n: int = 2001) -> dict[str, Any]:
    """Tabulate p_data, p_g and D* on a grid, with V(D*, G) and JSD (float64 for accuracy)."""
    x = torch.linspace(-10, 10, n, dtype=torch.float64)
    dx = float(x[1] - x[0])
    p_data = normal_pdf(x, pair.data_mean, pair.data_std)
    p_g = normal_pdf(x, pair.gen_mean, pair.gen_std)
    d_star = optimal_discriminator(p_data, p_g)
    return {
        "x": x,
        "p_data": p_data,
        "p_g": p_g,
        "d_star": d_star,
        "value": float(optimal_value(p_data, p_g, dx)),
        "jsd": float(jensen_shannon(p_data, p_g, dx)),
    }


def plot_gaussian_pair(pair: GaussianPair1D, ax: plt.Axes | None = None, legend: bool = True) -> Figure:
    """p_data, p_g and the optimal discriminator D*, titled with V(D*, G) and -log 4."""
    c = gaussian_pair_curves(pair)
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 3.2))
    ax.fill_between(c["x"], c["p_data"], alpha=0.25, color="C0")
    ax.plot(c["x"], c["p_data"], color="C0", label="$p_{data}(x)$")
    ax.fill_between(c["x"], c["p_g"], alpha=0.25, color="C1")
    ax.plot(c["x"], c["p_g"], color="C1", label="$p_g(x)$")
    ax.plot(c["x"], c["d_star"], color="k", ls="--", label="$D^*(x)$")
    ax.axhline(0.5, color="grey", lw=0.6, ls=":")
    ax.set_xlim(-6, 6)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("x")
    ax.set_title(f"V(D*, G) = {c['value']:.3f}   (minimum -log 4 = {-np.log(4):.3f})", fontsize=9)
    if legend:
        ax.legend(fontsize=8, loc="upper left")
    ax.figure.tight_layout()
    return ax.figure


def plot_mixture(
    mixture: GaussianMixture2D, samples: torch.Tensor | None = None, ax: plt.Axes | None = None, title: str = ""
) -> Figure:
    """A 2-D mixture: its centres (red circles) and, if given, samples (blue dots)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(3.2, 3.2))
    if samples is not None:
        pts = samples.detach().cpu().numpy()
        ax.scatter(pts[:, 0], pts[:, 1], s=3, alpha=0.4, color="C0")
    centres = mixture.centers.numpy()
    ax.scatter(centres[:, 0], centres[:, 1], s=90, facecolors="none", edgecolors="C3", lw=1)
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    return ax.figure


def sweep_row(
    results: Sequence[Any],
    draw: Callable[[plt.Axes, Any], None],
    titles: Sequence[str] | None = None,
    ncols: int | None = None,
    width: float = 3.2,
) -> Figure:
    """One panel per result, in rows of ``ncols``: the static stand-in for a slider in the HTML book.

    ``draw(ax, result)`` fills a panel; ``titles``, when given, replace the panels' own titles.
    By default up to three panels share a row, and four or more are laid out two per row so
    that they stay legible in the book's narrow text column.
    """
    n = len(results)
    ncols = ncols or (n if n <= 3 else 2)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, width * 0.8 * nrows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i >= n:
            ax.set_axis_off()
            continue
        draw(ax, results[i])
        if titles is not None:
            ax.set_title(titles[i], fontsize=9)
    fig.tight_layout()
    return fig
