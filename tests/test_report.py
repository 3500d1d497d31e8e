"""gancourse.metrics.report: evaluate, the chapters' one evaluation call."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gancourse import metrics


def test_evaluate_ranks_real_images_above_noise_and_reports_the_floor(real_root, untrained_classifier):
    extractor = metrics.ClassifierFeatures(untrained_classifier())
    from gancourse.config import EvalConfig

    cfg = EvalConfig(n=200, features="classifier", kid_subsets=10, kid_subset_size=50)
    real_train = metrics.real_images("mnist", "train", 400, seed=7)
    noise = torch.rand(400, 1, 32, 32) * 2 - 1
    result = metrics.evaluate(
        {"real train": real_train, "noise": lambda n: noise[:n]}, cfg, extractor=extractor, mode="quick"
    )
    assert result.features == extractor.name and result.config.n == 200
    assert result.scores["real train"].fid < result.scores["noise"].fid
    assert result.scores["real train"].kid.mean < result.scores["noise"].kid.mean
    # the floor is a real-vs-real score at the same n: close to real train images, far from noise
    assert result.floor.fid < result.scores["noise"].fid / 5
    shares = result.class_shares()
    assert list(shares) == ["real test images", "real train", "noise"]
    assert all(abs(float(np.sum(s)) - 1) < 1e-6 for s in shares.values())
    text = str(result)
    assert "n = 200 generated and 200 real images each" in text and "real floor" in text
    noise_row = next(line for line in text.splitlines() if line.startswith("noise"))
    assert "KID x 10^3" in text and noise_row.endswith(metrics.kid_per_mille(result.scores["noise"].kid))


def test_evaluate_conditional_asks_for_balanced_labels(real_root, untrained_classifier):
    extractor = metrics.ClassifierFeatures(untrained_classifier())
    from gancourse.config import EvalConfig

    cfg = EvalConfig(n=100, features="classifier", kid_subsets=5, kid_subset_size=20)
    asked = []

    def sample(n, labels):
        asked.append(labels)
        return torch.rand(n, 1, 32, 32) * 2 - 1

    result = metrics.evaluate({"cGAN": sample}, cfg, conditional=True, extractor=extractor, mode="quick")
    assert torch.equal(asked[0], torch.arange(10).repeat_interleave(10))
    accuracy = result.scores["cGAN"].accuracy
    assert accuracy is not None and accuracy.confusion.sum() == 100


def test_evaluate_refuses_too_few_or_no_samples(untrained_classifier):
    extractor = metrics.ClassifierFeatures(untrained_classifier())
    from gancourse.config import EvalConfig

    cfg = EvalConfig(n=100, features="classifier")
    with pytest.raises(ValueError, match="samples is empty"):
        metrics.evaluate({}, cfg, extractor=extractor)
    with pytest.raises(ValueError, match=r"samples\['G'\] returned 3 images for n = 100"):
        metrics.evaluate({"G": lambda n: torch.zeros(3, 1, 32, 32)}, cfg, extractor=extractor)
