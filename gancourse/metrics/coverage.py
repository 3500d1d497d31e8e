"""Mode coverage: how many modes a generator reaches, and how many of its samples are good.

**2-D mixtures.** On the ring and grid mixtures of :mod:`gancourse.data` the
modes are known, so mode collapse can be counted directly. We follow the
protocol of Srivastava et al. (2017, VEEGAN, Sec. 5.1) on the ring of Metz et al.
(2017) and the grid of Dumoulin et al. (2017): a sample is *high quality* if it lies within
``quality_std`` = 3 standard deviations of the nearest mode centre; a mode is
*captured* if it receives enough high-quality samples. "Enough" is
``min_share`` of all samples, by default 20 of 2,500 (0.8 %), the threshold of
Lin et al. (2018, PacGAN), who used the same protocol. We also report the KL
divergence from the high-quality samples' mode histogram to the uniform one
(the mixtures weight their modes equally), which is 0 for a perfectly balanced
generator and log K for one that puts everything in one mode.

**Labelled image data.** For MNIST and Fashion-MNIST the ten classes play the
role of modes: the domain classifier labels each generated image, and the class
histogram and its KL divergence from uniform (both data sets are balanced)
show which digits or garments a collapsed generator no longer draws.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch

from gancourse.data import GaussianMixture2D
from gancourse.metrics.arrays import ArrayLike, as_numpy, check_finite
from gancourse.metrics.inception_score import check_probabilities

#: Lin et al. (2018): a mode counts as captured with at least 20 of 2,500 samples.
DEFAULT_MIN_SHARE = 20 / 2500


def kl_from_uniform(counts: ArrayLike) -> float:
    """KL(p || uniform) = sum_k p_k log(K p_k) of a histogram (K,); ``nan`` if it is empty."""
    c = as_numpy(counts, "counts")
    check_finite(c, "counts")
    if c.ndim != 1 or len(c) < 1 or (c < 0).any():
        raise ValueError(f"counts must be a 1-D histogram of non-negative counts, got shape {c.shape}")
    total = c.sum()
    if total == 0:
        return math.nan
    p = c / total
    nonzero = p > 0  # 0 log 0 = 0
    return float((p[nonzero] * np.log(len(c) * p[nonzero])).sum())


@dataclasses.dataclass(frozen=True)
class ModeCoverage:
    """Mode-collapse figures for samples of a known 2-D mixture."""

    modes_captured: int  # modes with at least min_share of the samples as high-quality samples
    n_modes: int
    high_quality_share: float  # share of samples within quality_std standard deviations of a centre
    counts: np.ndarray  # (K,) high-quality samples per mode
    captured: np.ndarray  # (K,) bool
    kl_from_uniform: float  # of the high-quality histogram; nan if there are no high-quality samples

    def __str__(self) -> str:
        return (
            f"{self.modes_captured}/{self.n_modes} modes, {100 * self.high_quality_share:.1f}% high-quality samples, "
            f"KL from uniform {self.kl_from_uniform:.3f}"
        )


def mode_coverage(
    points: ArrayLike,
    mixture: GaussianMixture2D,
    quality_std: float = 3.0,
    min_share: float = DEFAULT_MIN_SHARE,
) -> ModeCoverage:
    """Modes captured and the share of high-quality samples of ``points`` (N, 2) from a generator.

    ``quality_std``: a sample is high quality within this many standard deviations
    of its nearest centre (VEEGAN: 3). ``min_share``: a mode is captured when its
    high-quality samples are at least this share of all N samples, and at least one
    (PacGAN: 20 of 2,500).
    """
    x = as_numpy(points, "points")
    if x.ndim != 2 or x.shape[1] != mixture.centers.shape[1] or len(x) < 1:
        raise ValueError(f"points must have shape (N, {mixture.centers.shape[1]}) with N >= 1, got {x.shape}")
    check_finite(x, "points")
    if not quality_std > 0:
        raise ValueError(f"quality_std = {quality_std} is out of range: allowed quality_std > 0")
    if not 0 <= min_share <= 1:
        raise ValueError(f"min_share = {min_share} is out of range: allowed 0 <= min_share <= 1")
    index, distance = mixture.nearest_mode(torch.as_tensor(x, dtype=mixture.centers.dtype))  # (N,), (N,)
    good = (distance <= quality_std * mixture.std).numpy()
    n_modes = len(mixture.centers)
    counts = np.bincount(index.numpy()[good], minlength=n_modes)
    captured = (counts >= min_share * len(x)) & (counts >= 1)
    return ModeCoverage(
        modes_captured=int(captured.sum()),
        n_modes=n_modes,
        high_quality_share=float(good.mean()),
        counts=counts,
        captured=captured,
        kl_from_uniform=kl_from_uniform(counts),
    )


@dataclasses.dataclass(frozen=True)
class ClassCoverage:
    """The class histogram of generated images under a classifier."""

    counts: np.ndarray  # (K,) images assigned to each class (argmax of p(y|x))
    shares: np.ndarray  # (K,) counts / N
    kl_from_uniform: float  # KL(shares || uniform): 0 balanced, log K all one class
    classes_present: int  # classes with at least one image

    def __str__(self) -> str:
        return f"{self.classes_present}/{len(self.counts)} classes present, KL from uniform {self.kl_from_uniform:.3f}"


def class_coverage(probabilities: ArrayLike) -> ClassCoverage:
    """Histogram of the predicted classes of N generated images from their probabilities (N, K)."""
    p = check_probabilities(probabilities)
    counts = np.bincount(p.argmax(axis=1), minlength=p.shape[1])
    return ClassCoverage(
        counts=counts,
        shares=counts / counts.sum(),
        kl_from_uniform=kl_from_uniform(counts),
        classes_present=int((counts > 0).sum()),
    )


# --------------------------------------------------------------------------------------
# Conditional generators: is the sample of the class that was asked for?
# --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ConditionalAccuracy:
    """Share of conditional samples that the domain classifier assigns to the requested class."""

    accuracy: float  # over all samples, in [0, 1]
    per_class: np.ndarray  # (K,) accuracy among the samples requested for each class (nan if none)
    confusion: np.ndarray  # (K, K) counts: row = requested class, column = predicted class

    def __str__(self) -> str:
        worst = int(np.nanargmin(self.per_class))
        return (
            f"conditional accuracy {100 * self.accuracy:.1f}% over {int(self.confusion.sum())} samples "
            f"(worst class {worst}: {100 * self.per_class[worst]:.1f}%)"
        )


def conditional_accuracy(probabilities: ArrayLike, labels: ArrayLike) -> ConditionalAccuracy:
    """How often arg max_k p(k | G(z, y)) = y, from class probabilities (N, K) and the requested labels (N,).

    ``probabilities`` is what :func:`gancourse.metrics.class_probabilities` returns for the
    generated images (the domain classifier's softmax); a perfect conditional generator
    scores the classifier's own test accuracy, an unconditional one 1/K.
    """
    p = check_probabilities(as_numpy(probabilities, "probabilities"))
    y = np.asarray(torch.as_tensor(labels).cpu().numpy() if isinstance(labels, torch.Tensor) else labels)
    if y.ndim != 1 or len(y) != len(p):
        raise ValueError(f"labels must have shape ({len(p)},), one per row of probabilities; got {y.shape}")
    if not np.issubdtype(y.dtype, np.integer) or (len(y) and (y.min() < 0 or y.max() >= p.shape[1])):
        raise ValueError(f"labels must be integers in [0, {p.shape[1]}), the columns of probabilities")
    k = p.shape[1]
    predicted = p.argmax(axis=1)
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (y, predicted), 1)
    requested = confusion.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = np.where(requested > 0, np.diag(confusion) / requested, np.nan)
    return ConditionalAccuracy(float((predicted == y).mean()), per_class, confusion)
