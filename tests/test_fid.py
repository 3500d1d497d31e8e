"""gancourse.metrics.fid: the Fréchet distance against closed forms and scipy, streaming statistics."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch

from gancourse import metrics


def random_covariance(rng, d, rank=None):
    a = rng.standard_normal((d, rank or d))
    return a @ a.T / d


def trace_sqrt_product(s1, s2):
    """Tr (S1 S2)^{1/2} = Tr (S1^{1/2} S2 S1^{1/2})^{1/2}: symmetric eigendecompositions only, no sqrtm."""
    w, v = np.linalg.eigh(s1)
    root1 = v @ np.diag(np.sqrt(np.clip(w, 0, None))) @ v.T
    inner = np.linalg.eigvalsh(root1 @ s2 @ root1)
    return np.sqrt(np.clip(inner, 0, None)).sum()


def test_frechet_distance_diagonal_closed_form():
    rng = np.random.default_rng(0)
    mu1, mu2 = rng.standard_normal(6), rng.standard_normal(6)
    std1, std2 = rng.uniform(0.1, 3, 6), rng.uniform(0.1, 3, 6)
    expected = ((mu1 - mu2) ** 2).sum() + ((std1 - std2) ** 2).sum()
    got = metrics.frechet_distance(mu1, np.diag(std1**2), mu2, np.diag(std2**2))
    assert isinstance(got, float)
    assert got == pytest.approx(expected, rel=1e-10)


def test_frechet_distance_matches_eigendecomposition():
    rng = np.random.default_rng(1)
    d = 20
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d)
    s1, s2 = random_covariance(rng, d), random_covariance(rng, d)
    expected = ((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * trace_sqrt_product(s1, s2)
    assert metrics.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-8)


def test_frechet_distance_identical_symmetric_and_tensors():
    rng = np.random.default_rng(2)
    mu, s = rng.standard_normal(8), random_covariance(rng, 8)
    assert metrics.frechet_distance(mu, s, mu, s) == pytest.approx(0.0, abs=1e-9)
    mu2, s2 = rng.standard_normal(8), random_covariance(rng, 8)
    forward = metrics.frechet_distance(mu, s, mu2, s2)
    assert forward > 0
    assert metrics.frechet_distance(mu2, s2, mu, s) == pytest.approx(forward, rel=1e-9)
    as_tensors = metrics.frechet_distance(torch.tensor(mu), torch.tensor(s), torch.tensor(mu2), torch.tensor(s2))
    assert as_tensors == pytest.approx(forward, rel=1e-9)


def test_frechet_distance_singular_covariances():
    # diagonal with zeros: the product is singular, the closed form still holds
    s1, s2 = np.diag([1.0, 0.0, 4.0]), np.diag([0.0, 9.0, 1.0])
    assert metrics.frechet_distance(np.zeros(3), s1, np.zeros(3), s2) == pytest.approx(11.0, abs=1e-2)
    # rank-deficient dense covariances (fewer samples than dimensions), as with few real images
    rng = np.random.default_rng(3)
    d = 30
    s1, s2 = random_covariance(rng, d, rank=5), random_covariance(rng, d, rank=7)
    mu = np.zeros(d)
    expected = np.trace(s1) + np.trace(s2) - 2 * trace_sqrt_product(s1, s2)
    got = metrics.frechet_distance(mu, s1, mu, s2)
    assert np.isfinite(got)
    assert got == pytest.approx(expected, rel=1e-3, abs=1e-3)


def test_frechet_distance_is_what_scipy_gives_for_full_rank():
    rng = np.random.default_rng(4)
    s1, s2 = random_covariance(rng, 5), random_covariance(rng, 5)
    mu = np.zeros(5)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    expected = np.trace(s1 + s2 - 2 * covmean)
    assert metrics.frechet_distance(mu, s1, mu, s2) == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize(
    "args, message",
    [
        ((np.zeros(3), np.eye(3), np.zeros(4), np.eye(4)), "mu1 has 3 feature dimensions but mu2 has 4"),
        ((np.zeros(3), np.eye(4), np.zeros(3), np.eye(3)), r"sigma1 has shape \(4, 4\)"),
        ((np.array([0, np.nan, 0]), np.eye(3), np.zeros(3), np.eye(3)), "mu1 holds 1 NaN or infinite"),
        ((np.zeros(3), np.eye(3), np.zeros(3), np.full((3, 3), np.inf)), "sigma2 holds 9 NaN or infinite"),
    ],
)
def test_frechet_distance_bad_inputs(args, message):
    with pytest.raises(ValueError, match=message):
        metrics.frechet_distance(*args)


def test_frechet_distance_rejects_non_covariance():
    # a negative "variance": the square root of the product is imaginary
    with pytest.raises(ValueError, match="imaginary part of 2 on its diagonal: .* positive semi-definite"):
        metrics.frechet_distance(np.zeros(2), np.diag([-1.0, -4.0]), np.zeros(2), np.eye(2))


def test_frechet_distance_rejects_a_non_symmetric_covariance():
    # a rotation-like matrix: the old code returned -0.70 for it
    with pytest.raises(ValueError, match=r"sigma1 is not symmetric \(largest \|sigma1 - sigma1\^T\| = 6"):
        metrics.frechet_distance(np.zeros(2), np.array([[2.0, -3.0], [3.0, 2.0]]), np.zeros(2), np.eye(2))
    # asymmetry at rounding level is symmetrised away, not refused
    rng = np.random.default_rng(0)
    s = random_covariance(rng, 4)
    nudged = s + 1e-12 * np.triu(np.ones((4, 4)), 1)
    assert metrics.frechet_distance(np.zeros(4), nudged, np.zeros(4), s) == pytest.approx(0.0, abs=1e-6)


def test_fid_of_a_set_with_itself_is_never_negative_with_fewer_samples_than_dimensions():
    for seed in range(5):
        x = np.random.default_rng(seed).normal(size=(20, 64))  # n < d: a singular covariance
        assert metrics.frechet_inception_distance(x, x) == 0.0  # was about -2e-6


def test_frechet_distance_far_below_zero_raises():
    # symmetric but not positive semi-definite with a real root of the product: not a covariance
    s1 = np.array([[0.0, 1.0], [1.0, 0.0]])
    with pytest.raises(ValueError, match="(< 0, beyond rounding|imaginary part)"):
        metrics.frechet_distance(np.zeros(2), s1, np.zeros(2), s1)


def test_streaming_statistics_equal_numpy():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((1003, 7)) * rng.uniform(0.1, 10, 7) + 1000.0  # large offset: tests cancellation
    stats = metrics.FeatureStatistics()
    for chunk in np.array_split(x, [1, 50, 51, 700]):  # uneven batches, one of size 1
        stats.update(torch.tensor(chunk, dtype=torch.float64))
    assert stats.n == 1003 and stats.dim == 7
    np.testing.assert_allclose(stats.mean, x.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(stats.cov, np.cov(x, rowvar=False), rtol=1e-9)


def test_statistics_bad_inputs():
    stats = metrics.FeatureStatistics().update(np.zeros((1, 4)))
    with pytest.raises(ValueError, match="n = 1 sample.* too few for a covariance: need n >= 2"):
        _ = stats.cov
    with pytest.raises(ValueError, match="features have 3 dimensions but earlier batches had 4"):
        stats.update(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="features holds 1 NaN"):
        stats.update(np.array([[0, 0, np.nan, 0]]))
    a = metrics.FeatureStatistics.of(np.random.randn(10, 4))
    b = metrics.FeatureStatistics.of(np.random.randn(10, 5))
    with pytest.raises(ValueError, match="real features have 4 dimensions but fake features have 5"):
        metrics.fid_from_statistics(a, b)
