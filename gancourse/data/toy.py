"""Toy data: 2-D Gaussian mixtures (the mode-collapse benchmarks) and a regression problem.

The 2-D mixtures are the standard mode-collapse benchmarks: eight Gaussians on
a ring (Metz et al. 2017, unrolled GANs) and a 5 x 5 grid (Dumoulin et al. 2017, ALI).
"""

from __future__ import annotations

import dataclasses
import math

import torch
from torch.utils.data import TensorDataset

from gancourse.checks import check_int, check_positive_int
from gancourse.config import RegressionConfig


@dataclasses.dataclass(frozen=True)
class GaussianMixture2D:
    """An equal-weight mixture of isotropic 2-D Gaussians: the toy target of the first GAN."""

    centers: torch.Tensor  # (K, 2)
    std: float

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` points, shape (n, 2); each picks a mode uniformly at random."""
        check_positive_int("n", n)
        mode = torch.randint(len(self.centers), (n,), generator=generator)
        return self.centers[mode] + self.std * torch.randn(n, 2, generator=generator)

    def nearest_mode(self, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(index of the nearest centre, distance to it) for points of shape (n, 2)."""
        distance = torch.cdist(points, self.centers)  # (n, K)
        return distance.argmin(dim=1), distance.min(dim=1).values


def ring_of_gaussians(n_modes: int = 8, radius: float = 2.0, std: float = 0.02) -> GaussianMixture2D:
    """``n_modes`` Gaussians evenly spaced on a circle (Metz et al. 2017 use 8, radius 2, std 0.02)."""
    check_int("n_modes", n_modes, 1, 1000)
    if not (radius > 0 and std > 0):
        raise ValueError(f"radius = {radius}, std = {std}: both must be > 0")
    angle = torch.arange(n_modes) * (2 * math.pi / n_modes)
    return GaussianMixture2D(radius * torch.stack([angle.cos(), angle.sin()], dim=1), std)


def grid_of_gaussians(side: int = 5, spacing: float = 2.0, std: float = 0.05) -> GaussianMixture2D:
    """A ``side`` x ``side`` grid of Gaussians centred on the origin (Dumoulin et al. 2017: 5 x 5, spacing 2)."""
    check_int("side", side, 1, 100)
    if not (spacing > 0 and std > 0):
        raise ValueError(f"spacing = {spacing}, std = {std}: both must be > 0")
    axis = (torch.arange(side) - (side - 1) / 2) * spacing
    gy, gx = torch.meshgrid(axis, axis, indexing="ij")
    return GaussianMixture2D(torch.stack([gx.flatten(), gy.flatten()], dim=1), std)


def regression_target(x: torch.Tensor) -> torch.Tensor:
    """The function the chapter-3 network learns: y = sin(2 x0) + x1 x2, shape (N, 1)."""
    return (torch.sin(2 * x[:, 0]) + x[:, 1] * x[:, 2]).unsqueeze(1)


def regression_data(cfg: RegressionConfig, n: int | None = None, seed_offset: int = 0) -> TensorDataset:
    """``(x, y)`` pairs with x ~ N(0, I_3) and y = target(x) + noise; a new seed offset draws a test set."""
    generator = torch.Generator().manual_seed(cfg.seed + seed_offset)
    n = cfg.n_train if n is None else n
    x = torch.randn(n, 3, generator=generator)  # (N, 3)
    y = regression_target(x) + cfg.noise_std * torch.randn(n, 1, generator=generator)  # (N, 1)
    return TensorDataset(x, y)
