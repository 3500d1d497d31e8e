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

from gancourse.alt_text import set_alt
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
    _check_grid(images, nrow, value_range)
    grid = make_grid(images, nrow=nrow, padding=2, normalize=True, value_range=value_range, pad_value=1.0)
    return grid.permute(1, 2, 0).numpy()  # make_grid repeats 1 channel to 3


def _check_grid(images: torch.Tensor, nrow: int, value_range: tuple[float, float]) -> None:
    """ValueError for what would crash make_grid or draw a misleading picture."""
    if len(images) == 0:
        raise ValueError("images is empty (0 images): nothing to show")
    if isinstance(nrow, bool) or not isinstance(nrow, int) or nrow < 1:
        raise ValueError(f"nrow = {nrow!r} is out of range: allowed an integer >= 1")
    low, high = value_range
    if not low < high:
        raise ValueError(f"value_range = {value_range}: the low end must be below the high end")
    if not bool(torch.isfinite(images).all()):
        bad = int((~torch.isfinite(images)).sum())
        raise ValueError(
            f"images hold {bad} NaN or infinite value(s): a diverged generator? (they would show as a flat colour)"
        )


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
        _check_grid(torch.as_tensor(images).detach().float().cpu(), nrow, value_range)
        cols, rows = min(nrow, n), -(-n // nrow)
        _, ax = plt.subplots(figsize=(max(2.0, cols * size), max(1.0, rows * size) + 0.3))
    ax.imshow(_grid_image(images, nrow, value_range), interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=10)
    grid = f"a grid of {len(images)} images, {min(nrow, len(images))} per row"
    return set_alt(ax.figure, f"{title}: {grid}" if title else grid) if len(ax.figure.axes) == 1 else ax.figure


def compare_rows(rows: Mapping[str, torch.Tensor], value_range: tuple[float, float] = (-1.0, 1.0)) -> Figure:
    """One labelled row of images per entry, for before/after comparisons."""
    if not rows:
        raise ValueError("rows is empty: give at least one {label: images} entry")
    fig, axes = plt.subplots(len(rows), 1, figsize=(8, 1.1 * len(rows) + 0.2), squeeze=False)
    for ax, (label, images) in zip(axes[:, 0], rows.items(), strict=True):
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
    reference: Mapping[str, float] | None = None,
    logy: bool = False,
) -> Figure:
    """Curves sharing one x axis, by name; a curve given as ``(x, values)`` has its own x.

    ``reference``: ``{name: value}`` drawn as dashed horizontal lines (the real-data floor)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3))
    if logy:
        ax.set_yscale("log")
    for name, values in curves.items():
        ax.plot(*(values if isinstance(values, tuple) else (x, values)), label=name)
    for i, (name, value) in enumerate((reference or {}).items()):
        ax.axhline(value, color="grey", ls=("--", ":", "-.")[i % 3], lw=1, label=f"{name}: {value:.4g}")
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


def show_row(
    images: Sequence[torch.Tensor],
    titles: Sequence[str] | None = None,
    ncols: int | None = None,
    width: float = 3.2,
    value_range: tuple[float, float] = (-1.0, 1.0),
) -> Figure:
    """One panel per image batch (each (N, C, H, W), usually N = 1), laid out as :func:`sweep_row` does.

    ``value_range`` is the range of the pixel values: (-1, 1) for the GANs' tanh outputs, (0, 1) for
    the images of style transfer.
    """
    return sweep_row(images, lambda ax, image: show_images(image, value_range=value_range, ax=ax), titles, ncols, width)


def plot_against_n(
    ns: Sequence[int],
    curves: Mapping[str, Sequence[Any]],
    ylabel: str = "",
    title: str = "",
    ax: plt.Axes | None = None,
) -> Figure:
    """A metric against the sample count n (log x axis), one curve per name.

    A curve's values are numbers, or ``(mean, std)`` pairs (e.g. KID's
    :class:`~gancourse.metrics.MeanStd`), drawn as the mean with a band of one std.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3))
    for name, values in curves.items():
        values = list(values)
        if values and isinstance(values[0], (tuple, list)):
            mean, std = (np.array([float(v[i]) for v in values]) for i in (0, 1))
            line = ax.plot(ns, mean, marker="o", ms=3, label=name)[0]
            ax.fill_between(ns, mean - std, mean + std, color=line.get_color(), alpha=0.2)
        else:
            ax.plot(ns, np.asarray(values, dtype=float), marker="o", ms=3, label=name)
    ax.axhline(0.0, color="grey", lw=0.6, ls=":")
    ax.set_xscale("log")
    ax.set_xticks(list(ns), [f"{n:,}" for n in ns])  # the n that were measured, not powers of ten
    ax.minorticks_off()
    return _label_line_plot(ax, "n (samples per set)", ylabel, title)


def plot_seed_spread(
    values: Mapping[str, Sequence[float]],
    xlabel: str = "",
    title: str = "",
    reference: float | None = None,
    ax: plt.Axes | None = None,
) -> Figure:
    """One row per name: a dot per seed and a bar at their mean, so the spread is as visible as the mean.

    ``reference`` (the real-data floor) is drawn as a dashed vertical line. Rows read
    top to bottom in the order of ``values``.
    """
    names = list(values)
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 0.35 * len(names) + 1.0))
    for row, name in enumerate(names):
        v = np.asarray(values[name], dtype=float)
        offsets = np.linspace(-0.15, 0.15, len(v)) if len(v) > 1 else np.zeros(1)  # identical values stay visible
        ax.scatter(v, row + offsets, s=18, color="C0", alpha=0.8, zorder=3)
        ax.plot([v.mean()] * 2, [row - 0.3, row + 0.3], color="C3", lw=2, zorder=2)
    if reference is not None:
        ax.axvline(reference, color="grey", ls="--", lw=1, label=f"real data: {reference:g}")
        ax.legend(fontsize=8, loc="lower left")
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3, axis="x")
    ax.figure.tight_layout()
    return ax.figure


def show_neighbours(
    queries: torch.Tensor,
    neighbours: torch.Tensor,
    distances: torch.Tensor | None = None,
    title: str = "",
    value_range: tuple[float, float] = (-1.0, 1.0),
    size: float = 0.8,
) -> Figure:
    """One row per query (N, C, H, W): the query, then its k nearest neighbours (N, k, C, H, W), nearest first.

    ``distances`` (N, k), when given, label each neighbour.
    """
    if neighbours.ndim != queries.ndim + 1 or len(neighbours) != len(queries):
        raise ValueError(
            f"neighbours must have shape (N, k, C, H, W) for queries (N, C, H, W), got {tuple(neighbours.shape)} "
            f"for {tuple(queries.shape)}"
        )
    n, k = neighbours.shape[:2]
    fig, axes = plt.subplots(n, k + 1, figsize=((k + 1) * size + 0.4, n * (size + 0.15) + 0.3), squeeze=False)
    for row in range(n):
        images = [queries[row], *neighbours[row]]
        for col, (ax, image) in enumerate(zip(axes[row], images, strict=False)):
            ax.imshow(_grid_image(image.unsqueeze(0), 1, value_range), interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if col == 0:
                for spine in ax.spines.values():
                    spine.set_color("C3")
                    spine.set_linewidth(2)
            elif distances is not None:
                ax.set_title(f"{float(distances[row, col - 1]):.1f}", fontsize=7, pad=2)
    axes[0, 0].set_title("sample", fontsize=8, color="C3", pad=2 if distances is None else 10)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def growth_rows(
    rows: Mapping[str, torch.Tensor], size: int | None = None, value_range: tuple[float, float] = (-1.0, 1.0)
) -> Figure:
    """:func:`compare_rows` for images of different resolutions (ProGAN's snapshots as it grows).

    Every row is enlarged by nearest-neighbour upsampling to ``size`` (default: the
    largest), so a 4 x 4 sample shows as 4 x 4 blocks rather than shrinking to a dot.
    """
    size = size or max(images.shape[-1] for images in rows.values())
    enlarged = {}
    for label, images in rows.items():
        if size % images.shape[-1]:
            raise ValueError(f"row {label!r} is {images.shape[-1]} px, which does not divide size = {size}")
        enlarged[label] = torch.nn.functional.interpolate(images.float(), size=(size, size), mode="nearest")
    return compare_rows(enlarged, value_range)


def plot_progressive_growth(resolutions: Sequence[int], channels: int = 1) -> Figure:
    """ProGAN's growing networks (Karras et al. 2018, Fig. 1): one panel per stage.

    In each panel the generator's blocks (left, 4 x 4 at the top) mirror the
    discriminator's (right); the block being faded in is orange, the 1 x 1
    toRGB/fromRGB layers are drawn as thin bars next to the image.
    """
    n = len(resolutions)
    fig, axes = plt.subplots(1, n, figsize=(2.4 * n, 3.2), squeeze=False)
    for stage, ax in enumerate(axes[0]):
        grown = resolutions[: stage + 1]
        for i, r in enumerate(grown):
            new = stage > 0 and i == stage
            color = "C1" if new else "C0"
            width = 0.25 + 0.55 * (i + 1) / n  # wider boxes for larger resolutions
            y = -i
            ax.add_patch(plt.Rectangle((-1.05 - width / 2, y - 0.35), width, 0.7, color=color, alpha=0.8))
            ax.add_patch(plt.Rectangle((1.05 - width / 2, y - 0.35), width, 0.7, color=color, alpha=0.8))
            ax.text(-1.05, y, f"{r}²", ha="center", va="center", fontsize=8, color="white")
            ax.text(1.05, y, f"{r}²", ha="center", va="center", fontsize=8, color="white")
        bottom = -len(grown) + 1
        ax.add_patch(plt.Rectangle((-0.35, bottom - 0.35), 0.7, 0.7, color="0.6"))
        ax.text(0, bottom, f"{resolutions[stage]}²\n×{channels}", ha="center", va="center", fontsize=7)
        ax.annotate("", xy=(-0.38, bottom), xytext=(-0.6, bottom), arrowprops={"arrowstyle": "->", "lw": 0.8})
        ax.annotate("", xy=(0.6, bottom), xytext=(0.38, bottom), arrowprops={"arrowstyle": "->", "lw": 0.8})
        ax.text(-1.05, 0.7, "G", ha="center", fontsize=10, weight="bold")
        ax.text(1.05, 0.7, "D", ha="center", fontsize=10, weight="bold")
        ax.set_xlim(-1.7, 1.7)
        ax.set_ylim(-n + 0.3, 1.2)
        ax.set_axis_off()
        ax.set_title("start" if stage == 0 else f"grow to {resolutions[stage]}² (fade in)", fontsize=9)
    fig.tight_layout()
    return fig


def plot_weight_histogram(
    weights: Mapping[str, Any],
    clip_value: float | None = None,
    bins: int = 80,
    title: str = "",
    ax: plt.Axes | None = None,
) -> Figure:
    """Histograms of network weights, one per name (WGAN: the critic's weights piling up at ±c).

    A value is an ``nn.Module`` (all its parameters) or a tensor. ``clip_value`` c draws
    dashed lines at -c and +c. The y axis is logarithmic, so a few weights stay visible
    next to a pile-up.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3))
    flat = {}
    for name, w in weights.items():
        tensors = list(w.parameters()) if isinstance(w, torch.nn.Module) else [torch.as_tensor(w)]
        if not tensors:
            raise ValueError(f"weights[{name!r}] has no parameters: give a module with weights or a tensor")
        flat[name] = torch.cat([t.detach().float().flatten().cpu() for t in tensors]).numpy()
    everything = np.concatenate(list(flat.values()))
    low, high = float(everything.min()), float(everything.max())
    if clip_value is not None:
        low, high = min(low, -clip_value), max(high, clip_value)
    edges = np.linspace(low, high, bins + 1) if high > low else bins
    for name, values in flat.items():
        ax.hist(values, bins=edges, histtype="stepfilled", alpha=0.5, label=f"{name} ({values.size:,} weights)")
    if clip_value is not None:
        for sign in (-1, 1):
            ax.axvline(sign * clip_value, color="C3", ls="--", lw=1, label="±c" if sign > 0 else None)
    ax.set_yscale("log")
    ax.ticklabel_format(axis="x", style="sci", scilimits=(-2, 2))  # -0.0005 -> -0.5 with a x 1e-3 offset
    return _label_line_plot(ax, "weight value", "count", title)


def weights_and_samples(
    critic: torch.nn.Module, images: torch.Tensor, clip_value: float | None = None, title: str = ""
) -> Figure:
    """Two panels of one WGAN run: the critic's weight histogram (with ±c) and the generator's images."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3), gridspec_kw={"width_ratios": [3, 2]})
    plot_weight_histogram({"critic": critic}, clip_value=clip_value, ax=left)
    show_images(images, nrow=4, ax=right, title="samples")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
