"""The Inception Score (Salimans et al. 2016, Sec. 4).

A classifier gives each generated image x a distribution over classes p(y | x).
Good samples are classified confidently (p(y | x) has low entropy) and all
classes appear (the marginal p(y) = E_x p(y | x) has high entropy); the score
rewards both at once:

    IS = exp( E_x KL( p(y | x) || p(y) ) ).

It lies between 1 (every image gets the same prediction) and the number of
classes K (every image is classified with certainty and the classes are used
equally). As in Salimans et al.'s code the samples are cut into ``splits``
groups, the score is computed within each, and the mean and standard deviation
over the groups are reported (they used 10 splits of 5,000 images).

The score never looks at real data: it cannot see whether samples look like the
training set, only whether the classifier is sure of them, and it depends on the
classifier (Barratt & Sharma 2018). With the book's domain classifier it is an
"MNIST score" comparable only among models scored by the same classifier.
"""

from __future__ import annotations

import numpy as np
from scipy.special import rel_entr

from gancourse.checks import check_positive_int
from gancourse.metrics.arrays import ArrayLike, as_numpy, check_finite
from gancourse.metrics.kid import MeanStd

#: How far a row of probabilities may sum from 1 before it is rejected (float32 softmax rounding is ~1e-6).
SUM_TOLERANCE = 1e-3


def check_probabilities(probabilities: ArrayLike, name: str = "probabilities") -> np.ndarray:
    """``probabilities`` as a float64 (N, K) array whose rows are distributions, else ``ValueError``."""
    p = as_numpy(probabilities, name)
    if p.ndim != 2 or p.shape[0] < 1 or p.shape[1] < 1:
        raise ValueError(f"{name} must have shape (N, K) with N, K >= 1, got {p.shape}")
    check_finite(p, name)
    if (p < 0).any():
        raise ValueError(f"{name} holds negative values: pass softmax outputs, not logits")
    sums = p.sum(axis=1)
    worst = np.abs(sums - 1.0).max()
    if worst > SUM_TOLERANCE:
        raise ValueError(
            f"{name} rows must sum to 1 but one sums to {sums[np.abs(sums - 1.0).argmax()]:.4g}: "
            "pass softmax outputs (softmax(logits, dim=1)), not logits"
        )
    return p


def inception_score(probabilities: ArrayLike, splits: int = 10) -> MeanStd:
    """exp(E_x KL(p(y|x) || p(y))) of class probabilities (N, K): mean and std over ``splits`` groups."""
    p = check_probabilities(probabilities)
    check_positive_int("splits", splits)
    if splits > len(p):
        raise ValueError(
            f"splits = {splits} is larger than the number of samples ({len(p)}): allowed splits <= {len(p)}"
        )
    scores = []
    for group in np.array_split(p, splits):  # (n_s, K) each, sizes differ by at most 1
        marginal = group.mean(axis=0, keepdims=True)  # p(y) within the group, (1, K)
        kl = rel_entr(group, marginal).sum(axis=1)  # KL(p(y|x) || p(y)) per image; 0 log 0 = 0
        scores.append(np.exp(kl.mean()))
    scores = np.array(scores)
    return MeanStd(float(scores.mean()), float(scores.std()))
