"""Tests of gancourse.metrics.diversity: closed forms and the collapse it exists to see."""

from __future__ import annotations

import math

import pytest
import torch

from gancourse.metrics.diversity import mean_pairwise_distance, within_class_diversity


def test_mean_pairwise_distance_closed_form():
    # three points on a line at 0, 3, 4: distances 3, 4, 1 (each ordered pair twice) -> mean 8/3
    points = torch.tensor([[0.0], [3.0], [4.0]])
    assert mean_pairwise_distance(points) == pytest.approx(8 / 3)
    # the corners of a unit square: 4 sides of 1 and 2 diagonals of sqrt 2 over 6 pairs
    square = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    assert mean_pairwise_distance(square) == pytest.approx((4 + 2 * math.sqrt(2)) / 6)


def test_mean_pairwise_distance_refuses_one_image():
    with pytest.raises(ValueError, match="at least 2 images"):
        mean_pairwise_distance(torch.zeros(1, 3))


def test_data_against_itself_is_one_and_a_collapsed_class_is_zero():
    rng = torch.Generator().manual_seed(0)
    real = torch.randn(200, 1, 4, 4, generator=rng)
    labels = torch.arange(200) % 4
    same = within_class_diversity(real, labels, real, labels)
    assert same.ratios == pytest.approx((1.0,) * 4)
    collapsed = real.clone()
    collapsed[labels == 2] = real[labels == 2][0]  # class 2: one image drawn 50 times
    result = within_class_diversity(collapsed, labels, real, labels)
    assert result.worst == (2, 0.0)
    assert result.ratios[0] == pytest.approx(1.0)
    assert "lowest 0.00 (class 2)" in str(result)


def test_half_the_spread_gives_half_the_ratio():
    rng = torch.Generator().manual_seed(1)
    real = torch.randn(100, 8, generator=rng)
    labels = torch.zeros(100, dtype=torch.long)
    assert within_class_diversity(0.5 * real, labels, real, labels).ratios[0] == pytest.approx(0.5)


def test_refuses_a_class_without_two_images_and_mismatched_shapes():
    real, labels = torch.randn(10, 4), torch.zeros(10, dtype=torch.long)
    with pytest.raises(ValueError, match="class 1 has 1 generated and 0 real"):
        within_class_diversity(torch.randn(3, 4), torch.tensor([0, 0, 1]), real, labels)
    with pytest.raises(ValueError, match="differ in shape"):
        within_class_diversity(torch.randn(3, 5), torch.zeros(3, dtype=torch.long), real, labels)


def test_conditional_diversity_sees_a_generator_that_draws_one_image_per_class():
    from gancourse.data import load_images, transform_images
    from gancourse.metrics.diversity import conditional_diversity

    images, labels, _ = load_images("mnist", "test")
    real = transform_images(images[:2000], 32)
    labels = torch.as_tensor(labels[:2000].copy())

    def copies_real(z, asked):  # real test digits of the class asked for: the data's own variety
        return torch.stack([real[labels == c][i % 100] for i, c in enumerate(asked.tolist())])

    def collapsed(z, asked):  # one image per class, whatever z
        return torch.stack([real[labels == c][0] for c in asked.tolist()])

    varied = conditional_diversity(copies_real, 8, "mnist", 32, per_class=40)
    assert len(varied.ratios) == 10 and min(varied.ratios) > 0.8
    assert conditional_diversity(collapsed, 8, "mnist", 32, per_class=40).ratios == pytest.approx((0.0,) * 10, abs=1e-6)
