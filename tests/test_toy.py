"""gancourse.data.toy: the ring and grid of Gaussians, the regression data of chapter 3."""

from __future__ import annotations

import pytest
import torch

from gancourse import data
from gancourse.config import RegressionConfig


def test_ring_and_grid():
    ring = data.ring_of_gaussians(8, radius=2.0, std=0.02)
    assert ring.centers.shape == (8, 2)
    assert torch.allclose(ring.centers.norm(dim=1), torch.full((8,), 2.0))
    grid = data.grid_of_gaussians(5, spacing=2.0)
    assert grid.centers.shape == (25, 2) and torch.allclose(grid.centers.mean(0), torch.zeros(2), atol=1e-6)
    g = torch.Generator().manual_seed(0)
    points = ring.sample(4000, g)
    assert points.shape == (4000, 2)
    mode, distance = ring.nearest_mode(points)
    assert distance.max() < 0.02 * 6  # every sample within 6 std of its mode
    assert torch.bincount(mode, minlength=8).min() > 400  # modes drawn uniformly
    assert torch.equal(
        ring.sample(5, torch.Generator().manual_seed(1)), ring.sample(5, torch.Generator().manual_seed(1))
    )


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: data.ring_of_gaussians(0), "n_modes = 0 is out of range"),
        (lambda: data.ring_of_gaussians(8, std=0), "both must be > 0"),
        (lambda: data.grid_of_gaussians(0), "side = 0 is out of range"),
        (lambda: data.ring_of_gaussians().sample(0), "n = 0 is out of range"),
    ],
)
def test_toy_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_regression_data_is_seeded_and_noisy():
    cfg = RegressionConfig(n_train=100, noise_std=0.1)
    a, b = data.regression_data(cfg), data.regression_data(cfg)
    assert torch.equal(a.tensors[0], b.tensors[0])
    x, y = a.tensors
    residual = y - data.regression_target(x)
    assert 0.05 < residual.std() < 0.2
    test_x = data.regression_data(cfg, n=10, seed_offset=1).tensors[0]
    assert not torch.equal(test_x, x[:10])
