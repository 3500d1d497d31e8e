"""gancourse.metrics.arrays: the array checks every metric shares."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gancourse.metrics import arrays


def test_metric_helpers_live_in_one_shared_module():
    import importlib

    arrays = importlib.import_module("gancourse.metrics.arrays")
    for name in ("fid", "kid", "coverage", "inception_score"):
        module = importlib.import_module(f"gancourse.metrics.{name}")
        assert module.as_numpy is arrays.as_numpy and module.check_finite is arrays.check_finite


def test_as_numpy_detaches_tensors_to_float64_and_names_bad_input():
    x = torch.tensor([[1.5, -2.0]], requires_grad=True)
    out = arrays.as_numpy(x * 2, "features")
    assert isinstance(out, np.ndarray) and out.dtype == np.float64 and out.tolist() == [[3.0, -4.0]]
    assert arrays.as_numpy([1, 2], "counts", dtype=np.int64).dtype == np.int64
    with pytest.raises(ValueError, match="features must be a NumPy array or a tensor of numbers, got str"):
        arrays.as_numpy("abc", "features")
    with pytest.raises(ValueError, match="counts must be a NumPy array or a tensor of numbers, got dict"):
        arrays.as_numpy({"a": 1}, "counts")


def test_check_finite_counts_the_bad_values_by_name():
    arrays.check_finite(np.array([0.0, -1e300, 1e300]), "real")  # large but finite: accepted
    with pytest.raises(ValueError, match=r"fake holds 3 NaN or infinite value\(s\)"):
        arrays.check_finite(np.array([np.nan, np.inf, -np.inf, 1.0]), "fake")


def test_symmetric_averages_rounding_and_refuses_a_non_covariance():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 4))
    sigma = a @ a.T
    nudged = sigma.copy()
    nudged[0, 1] += 1e-9 * np.abs(sigma).max()  # rounding: below SYMMETRY_TOLERANCE
    out = arrays.symmetric(nudged, "sigma1")
    assert np.array_equal(out, out.T)
    np.testing.assert_allclose(out, (nudged + nudged.T) / 2, rtol=0, atol=0)
    skewed = sigma.copy()
    skewed[0, 1] += 1e-3 * np.abs(sigma).max()
    with pytest.raises(ValueError, match=r"sigma2 is not symmetric \(largest \|sigma2 - sigma2\^T\| = "):
        arrays.symmetric(skewed, "sigma2")
    assert arrays.symmetric(np.zeros((0, 0)), "sigma1").shape == (0, 0)
    assert np.array_equal(arrays.symmetric(np.zeros((2, 2)), "sigma1"), np.zeros((2, 2)))  # all zero: no division
