"""gancourse.metrics.arrays: the array checks every metric shares."""

from __future__ import annotations


def test_metric_helpers_live_in_one_shared_module():
    import importlib

    arrays = importlib.import_module("gancourse.metrics.arrays")
    for name in ("fid", "kid", "coverage", "inception_score"):
        module = importlib.import_module(f"gancourse.metrics.{name}")
        assert module.as_numpy is arrays.as_numpy and module.check_finite is arrays.check_finite
