"""gancourse.metrics.inception_score: its bounds (1 and K) and closed forms, the checks of its input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gancourse import metrics


def test_inception_score_bounds():
    confident_uniform = np.eye(10)[np.arange(1000) % 10]
    assert metrics.inception_score(confident_uniform).mean == pytest.approx(10.0)
    constant = np.tile(np.full(10, 0.1), (1000, 1))
    assert metrics.inception_score(constant).mean == pytest.approx(1.0)
    one_class = np.eye(10)[np.zeros(1000, dtype=int)]
    assert metrics.inception_score(one_class, splits=5).mean == pytest.approx(1.0)
    rng = np.random.default_rng(9)
    random = torch.softmax(torch.tensor(rng.standard_normal((1000, 10)) * 3), dim=1)
    score = metrics.inception_score(random, splits=10)
    assert 1.0 < score.mean < 10.0 and score.std > 0


def test_inception_score_half_the_classes():
    # confident predictions spread over 5 of 10 classes: exp(log 5) = 5
    five = np.eye(10)[np.arange(1000) % 5]
    assert metrics.inception_score(five, splits=1).mean == pytest.approx(5.0)


@pytest.mark.parametrize(
    "probabilities, splits, message",
    [
        (np.full((10, 4), 0.25), 0, "splits = 0 is out of range"),
        (np.full((10, 4), 0.25), 11, "splits = 11 is larger than the number of samples"),
        (np.full((10, 4), 0.3), 1, "rows must sum to 1 but one sums to 1.2"),
        (np.full((10, 4), -0.25), 1, "negative values: pass softmax outputs, not logits"),
        (np.full(4, 0.25), 1, r"must have shape \(N, K\)"),
    ],
)
def test_inception_score_bad_inputs(probabilities, splits, message):
    with pytest.raises(ValueError, match=message):
        metrics.inception_score(probabilities, splits=splits)
