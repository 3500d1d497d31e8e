"""Comparing ways of stabilising GAN training on one budget: tricks x seeds, mode coverage on a toy mixture.

Short GAN runs vary a lot from seed to seed, so a trick is judged by the spread of
its results over several seeds, never by one run. :func:`compare_tricks` trains the
toy GAN of chapter 4 once per trick and seed, all with the same number of generator
and discriminator updates, and measures mode coverage (Srivastava et al. 2017;
:func:`gancourse.metrics.mode_coverage`) on ``n_samples`` samples of each generator;
:func:`summarise` turns the runs into one row per trick, and :func:`floor` gives the
same figures for samples of the data itself.

The tricks (:func:`stabilisation_tricks`) are config changes of :class:`ToyGANConfig`,
so each can also be tried alone from the config form or the command line.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from gancourse.config import StabilisationConfig, ToyGANConfig
from gancourse.data import grid_of_gaussians, ring_of_gaussians
from gancourse.metrics.coverage import ModeCoverage, mode_coverage
from gancourse.train import toy_gan


@dataclasses.dataclass(frozen=True)
class Trick:
    """One way of training: a name, the config fields it changes, and where it comes from."""

    name: str
    changes: Mapping[str, Any]
    source: str


def stabilisation_tricks(cfg: ToyGANConfig) -> tuple[Trick, ...]:
    """The tricks compared in chapter 12, as changes to ``cfg`` (the first is the baseline: no change).

    The baseline is chapter 4's GAN with the non-saturating loss (chapter 4 compares it with
    the saturating loss).
    Settings are the papers' where they give one; the others are stated here:
    TTUR's discriminator learns 4x faster than the generator (the 1e-4 / 4e-4 of
    Zhang et al. 2019's SAGAN, which uses TTUR); minibatch discrimination has B = 8 kernels of
    C = 3 dimensions on D's last hidden layer (the paper's 100 x 5 is for CIFAR-10's larger
    features, and its cost grows with B C n^2); the historical-averaging weight is 0.01.
    """
    return (
        Trick("baseline (non-saturating)", {}, "Goodfellow et al. 2014, Sec. 3"),
        Trick("label smoothing 0.1", {"label_smoothing": 0.1}, "Salimans et al. 2016, Sec. 3.4"),
        Trick("TTUR (lr_d = 4 lr_g)", {"lr_d": 4 * cfg.lr_g}, "Heusel et al. 2017"),
        Trick("least squares (LSGAN)", {"objective": "least_squares"}, "Mao et al. 2017"),
        Trick("WGAN-GP (lambda = 10)", {"objective": "wasserstein_gp", "gp_weight": 10.0}, "Gulrajani et al. 2017"),
        Trick("feature matching", {"feature_matching": True}, "Salimans et al. 2016, Sec. 3.1"),
        Trick(
            "minibatch discrimination",
            {"minibatch_kernels": 8, "minibatch_kernel_dims": 3},
            "Salimans et al. 2016, Sec. 3.2",
        ),
        Trick("historical averaging", {"historical_averaging": 0.01}, "Salimans et al. 2016, Sec. 3.3"),
    )


@dataclasses.dataclass(frozen=True)
class TrickRun:
    """One trained run: the trick, the seed, its mode coverage and a few of its samples to plot."""

    trick: str
    seed: int
    coverage: ModeCoverage
    samples: torch.Tensor  # (1000, 2) generator samples, on the CPU


def base_config(cfg: StabilisationConfig) -> ToyGANConfig:
    """The toy GAN every trick starts from: chapter 4's defaults with ``cfg``'s budget and mixture."""
    return ToyGANConfig().replace(
        steps=cfg.steps, batch_size=cfg.batch_size, mixture=cfg.mixture, checkpoint_every=0, sample_every=cfg.steps
    )


def compare_tricks(
    cfg: StabilisationConfig,
    tricks: Sequence[Trick] | None = None,
    device: torch.device | None = None,
    progress: bool = True,
) -> list[TrickRun]:
    """Train the toy GAN once per trick and seed (seeds 0, ..., ``cfg.seeds`` - 1) and measure mode coverage.

    Every run has ``cfg.steps`` generator updates, each after one discriminator update;
    nothing is cached, since a run takes seconds.
    """
    base = base_config(cfg)
    tricks = stabilisation_tricks(base) if tricks is None else tricks
    runs: list[TrickRun] = []
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(tricks) * cfg.seeds, desc="tricks x seeds", leave=False, mininterval=1.0)
    for trick in tricks:
        for seed in range(cfg.seeds):
            trainer = toy_gan(base.replace(seed=seed, **trick.changes), device=device)
            # a few seconds, never checkpointed: nothing to undo after a Ctrl-C, so no per-step copy
            # of the state (the same numbers, about a quarter less time on this toy)
            trainer.atomic_steps = False
            trainer.train(progress=False)
            points = trainer.generate(cfg.n_samples)  # (n_samples, 2)
            runs.append(TrickRun(trick.name, seed, mode_coverage(points, trainer.data.mixture), points[:1000]))
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    return runs


def floor(cfg: StabilisationConfig) -> ModeCoverage:
    """Mode coverage of ``cfg.n_samples`` samples of the mixture itself: what a perfect generator scores."""
    mixture = ring_of_gaussians() if cfg.mixture == "ring" else grid_of_gaussians()
    return mode_coverage(mixture.sample(cfg.n_samples, torch.Generator().manual_seed(0)), mixture)


def summarise(runs: Sequence[TrickRun], reference: ModeCoverage | None = None):
    """One row per trick (in the order of ``runs``): modes captured, high-quality share and KL, mean ± std over seeds.

    Returns a ``pandas.DataFrame``; "modes per seed" lists the individual runs, because
    with three to five seeds the spread says as much as the mean. ``reference`` (the
    :func:`floor`) adds a last row for real samples.
    """
    import pandas as pd

    names = list(dict.fromkeys(run.trick for run in runs))
    rows = []
    for name in names:
        mine = [run for run in runs if run.trick == name]
        modes = np.array([run.coverage.modes_captured for run in mine], dtype=float)
        quality = 100 * np.array([run.coverage.high_quality_share for run in mine])
        kl = np.array([run.coverage.kl_from_uniform for run in mine])
        rows.append(
            {
                "trick": name,
                "modes (of 8)" if mine[0].coverage.n_modes == 8 else f"modes (of {mine[0].coverage.n_modes})": (
                    f"{modes.mean():.1f} ± {modes.std(ddof=1) if len(modes) > 1 else 0:.1f}"
                ),
                "modes per seed": " ".join(str(int(m)) for m in modes),
                "high-quality %": f"{quality.mean():.0f} ± {quality.std(ddof=1) if len(quality) > 1 else 0:.0f}",
                "KL from uniform": _mean_std(kl),
            }
        )
    if reference is not None:
        key = next(k for k in rows[0] if k.startswith("modes ("))
        rows.append(
            {
                "trick": "real samples (floor)",
                key: f"{reference.modes_captured}",
                "modes per seed": "",
                "high-quality %": f"{100 * reference.high_quality_share:.0f}",
                "KL from uniform": f"{reference.kl_from_uniform:.3f}",
            }
        )
    return pd.DataFrame(rows).set_index("trick")


def _mean_std(values: np.ndarray) -> str:
    finite = values[np.isfinite(values)]
    if len(finite) == 0:
        return "n/a"
    spread = finite.std(ddof=1) if len(finite) > 1 else 0.0
    lost = len(values) - len(finite)
    missing = f" ({lost} run{'s' if lost > 1 else ''} without high-quality samples)" if lost else ""
    return f"{finite.mean():.2f} ± {spread:.2f}{missing}"
