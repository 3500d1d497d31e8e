"""gancourse.metrics.coverage: modes of the toy mixtures, classes, the KL divergence from uniform."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gancourse import metrics
from gancourse.data import grid_of_gaussians, ring_of_gaussians


def test_mode_coverage_all_modes():
    ring = ring_of_gaussians()
    points = ring.sample(2500, generator=torch.Generator().manual_seed(0))
    result = metrics.mode_coverage(points, ring)
    assert result.modes_captured == 8 and result.n_modes == 8
    assert result.high_quality_share > 0.98  # 3 std in 2-D holds 1 - exp(-4.5) = 98.9 %
    assert result.kl_from_uniform < 0.01
    assert "8/8 modes" in str(result)


def test_mode_coverage_some_modes_and_threshold():
    grid = grid_of_gaussians()
    g = torch.Generator().manual_seed(1)
    centres = grid.centers[:5]  # a generator collapsed onto 5 of 25 modes
    points = centres[torch.randint(5, (2000,), generator=g)] + grid.std * torch.randn(2000, 2, generator=g)
    stray = grid.centers[5] + grid.std * torch.randn(10, 2, generator=g)  # 10 of 2,010 samples: below 0.8 %
    result = metrics.mode_coverage(torch.cat([points, stray]), grid)
    assert result.modes_captured == 5
    assert result.captured[:5].all() and not result.captured[5:].any()
    assert result.counts[5] == 10
    assert metrics.mode_coverage(torch.cat([points, stray]), grid, min_share=0.001).modes_captured == 6
    assert result.kl_from_uniform == pytest.approx(np.log(25 / 5), abs=0.05)


def test_mode_coverage_garbage():
    ring = ring_of_gaussians()
    far = torch.randn(1000, 2) * 0.1 + torch.tensor([10.0, 10.0])  # nowhere near the ring
    result = metrics.mode_coverage(far, ring)
    assert result.modes_captured == 0 and result.high_quality_share == 0.0
    assert np.isnan(result.kl_from_uniform)
    between = torch.zeros(500, 2)  # the centre of the ring: 2 = 100 std from every mode
    assert metrics.mode_coverage(between, ring).high_quality_share == 0.0


def test_mode_coverage_bad_inputs():
    ring = ring_of_gaussians()
    with pytest.raises(ValueError, match=r"points must have shape \(N, 2\)"):
        metrics.mode_coverage(torch.zeros(5, 3), ring)
    with pytest.raises(ValueError, match="points holds 1 NaN"):
        metrics.mode_coverage(torch.tensor([[0.0, float("nan")]]), ring)
    with pytest.raises(ValueError, match="quality_std = 0"):
        metrics.mode_coverage(torch.zeros(5, 2), ring, quality_std=0)


def test_class_coverage():
    balanced = np.eye(10)[np.arange(100) % 10]
    result = metrics.class_coverage(balanced)
    assert result.classes_present == 10 and result.kl_from_uniform == pytest.approx(0.0)
    collapsed = np.eye(10)[np.array([3] * 90 + [4] * 10)]
    result = metrics.class_coverage(collapsed)
    assert result.classes_present == 2
    assert list(result.counts[3:5]) == [90, 10]
    assert result.kl_from_uniform == pytest.approx(0.9 * np.log(9) + 0.1 * np.log(1.0))
    assert metrics.kl_from_uniform([5, 0, 0, 0]) == pytest.approx(np.log(4))


def test_kl_from_uniform_refuses_nan_counts():
    with pytest.raises(ValueError, match="counts holds 1 NaN or infinite"):
        metrics.kl_from_uniform(np.array([1.0, np.nan, 2.0]))
