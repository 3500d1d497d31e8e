"""The Fréchet distance between two Gaussians, and streaming feature statistics for FID.

Heusel et al. (2017, Eq. 6) fit a Gaussian to the features of real
images, N(mu_r, Sigma_r), and one to the features of generated images,
N(mu_g, Sigma_g), and report the Fréchet (2-Wasserstein) distance between them
(closed form for Gaussians: Dowson & Landau 1982),

    FID = ||mu_r - mu_g||^2 + Tr(Sigma_r + Sigma_g - 2 (Sigma_r Sigma_g)^{1/2}).

Lower is better, 0 only for identical statistics. The matrix square root is
computed with ``scipy.linalg.sqrtm`` as in the reference implementations
(Heusel et al.'s TTUR code, pytorch-fid): when the product is singular (fewer
samples than feature dimensions, or dead features) ``eps * I`` is added to both
covariances and the root is taken again, and a negligible imaginary part that
rounding leaves in the root is dropped.

FID is a *biased* estimator: with n samples per set its expected value exceeds the
true distance by a term that shrinks roughly like 1/n (Bińkowski et al. 2018;
Chong & Forsyth 2020). FIDs are therefore comparable only at the same
sample count and with the same feature extractor.

:class:`FeatureStatistics` accumulates the mean and covariance batch by batch in
float64 (Chan et al.'s pairwise update of the mean and the scatter matrix), so
the memory used is O(d^2) whatever the number of samples.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg

from gancourse.metrics.arrays import ArrayLike, as_numpy, check_finite, symmetric

#: Largest imaginary part (on the diagonal of the root) still treated as rounding noise (pytorch-fid's value).
IMAGINARY_TOLERANCE = 1e-3
#: Negative distance, relative to Tr(sigma1) + Tr(sigma2), still treated as rounding of a zero distance.
NEGATIVE_TOLERANCE = 1e-6
#: Relative residual ||X X - A||_F / ||A||_F above which a square root is taken again with eps * I added.
RESIDUAL_TOLERANCE = 1e-6


def frechet_distance(mu1: ArrayLike, sigma1: ArrayLike, mu2: ArrayLike, sigma2: ArrayLike, eps: float = 1e-6) -> float:
    """||mu1 - mu2||^2 + Tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^{1/2}) (Heusel et al. 2017, Eq. 6).

    ``mu1``, ``mu2`` have shape (d,), ``sigma1``, ``sigma2`` (d, d); NumPy arrays or
    tensors. ``eps`` is added to both diagonals when the product is singular.
    Returns a float >= 0; raises ``ValueError`` for mismatched shapes, non-finite inputs,
    a covariance that is not symmetric (up to rounding, which is symmetrised away),
    or a square root whose imaginary part is not negligible. A result below 0 by no
    more than rounding (``NEGATIVE_TOLERANCE``, plus what ``eps * I`` shifts when the
    product is singular, e.g. FID(x, x) with fewer samples than dimensions) is
    returned as 0, the true distance; one further below 0 raises ``ValueError``.
    """
    mu1, mu2 = np.atleast_1d(as_numpy(mu1, "mu1")), np.atleast_1d(as_numpy(mu2, "mu2"))
    sigma1, sigma2 = np.atleast_2d(as_numpy(sigma1, "sigma1")), np.atleast_2d(as_numpy(sigma2, "sigma2"))
    if mu1.ndim != 1 or mu2.ndim != 1:
        raise ValueError(f"mu1 and mu2 must be vectors (d,), got shapes {mu1.shape} and {mu2.shape}")
    if mu1.shape != mu2.shape:
        raise ValueError(
            f"mu1 has {mu1.shape[0]} feature dimensions but mu2 has {mu2.shape[0]}: "
            "both sets must come from the same feature extractor"
        )
    d = mu1.shape[0]
    for name, sigma in (("sigma1", sigma1), ("sigma2", sigma2)):
        if sigma.shape != (d, d):
            raise ValueError(f"{name} has shape {sigma.shape} but the means have {d} dimensions: expected ({d}, {d})")
    for name, value in (("mu1", mu1), ("sigma1", sigma1), ("mu2", mu2), ("sigma2", sigma2)):
        check_finite(value, name)
    sigma1, sigma2 = symmetric(sigma1, "sigma1"), symmetric(sigma2, "sigma2")
    if not eps > 0:
        raise ValueError(f"eps = {eps} is out of range: allowed eps > 0")

    diff = mu1 - mu2
    covmean = _sqrtm(sigma1 @ sigma2)
    shift = 0.0  # how far eps * I can move the trace of the root
    if covmean is None:  # singular product: regularise both covariances and try again
        offset = eps * np.eye(d)
        covmean = _sqrtm((sigma1 + offset) @ (sigma2 + offset), accept_inaccurate=True)
        shift = 2.0 * eps * d
    if np.iscomplexobj(covmean):
        largest = np.abs(np.diagonal(covmean).imag).max()
        if largest > IMAGINARY_TOLERANCE:
            raise ValueError(
                f"(sigma1 sigma2)^(1/2) has an imaginary part of {largest:.3g} on its diagonal: sigma1 and sigma2 "
                "must be symmetric positive semi-definite covariance matrices"
            )
        covmean = covmean.real
    traces = np.trace(sigma1) + np.trace(sigma2)
    distance = float(diff @ diff + traces - 2.0 * np.trace(covmean))
    if distance < 0:
        # The true distance between two Gaussians is >= 0. Rounding in the square root, and
        # the eps * I added for a singular product (fewer samples than dimensions), can push
        # the estimate of a (near) zero distance slightly below 0: that is reported as 0.
        # Anything further below 0 means the inputs are not covariance matrices.
        allowed = NEGATIVE_TOLERANCE * max(traces, 1.0) + 2.0 * shift
        if -distance > allowed:
            raise ValueError(
                f"the Fréchet distance came out at {distance:.3g} < 0, beyond rounding ({allowed:.3g}): "
                "sigma1 and sigma2 must be positive semi-definite covariance matrices"
            )
        distance = 0.0
    return distance


def _sqrtm(a: np.ndarray, accept_inaccurate: bool = False) -> np.ndarray | None:
    """scipy's square root of ``a``; ``None`` when it is non-finite or inaccurate (a singular ``a``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)  # "matrix is singular": handled below
        root = scipy.linalg.sqrtm(a)
    if not np.isfinite(root).all():
        if accept_inaccurate:
            raise ValueError("the product of the covariances has no finite square root even with eps * I added")
        return None
    scale = np.linalg.norm(a)
    residual = np.linalg.norm(root @ root - a) / scale if scale > 0 else 0.0
    if residual > RESIDUAL_TOLERANCE and not accept_inaccurate:
        return None
    return root


class FeatureStatistics:
    """Running mean and covariance of feature vectors, updated one batch at a time in float64.

    Memory is one (d,) mean and one (d, d) scatter matrix whatever the number of
    samples. ``update`` merges a batch with the pairwise formulas of Chan et al.
    (1979): for sets a and b with means m_a, m_b and scatter matrices M_a, M_b,

        M = M_a + M_b + (m_b - m_a)(m_b - m_a)^T n_a n_b / (n_a + n_b),

    which avoids the cancellation of sum(x x^T) - n m m^T.
    """

    def __init__(self, dim: int | None = None) -> None:
        self.n = 0
        self.dim = dim
        self._mean: np.ndarray | None = None  # (d,)
        self._scatter: np.ndarray | None = None  # (d, d): sum of (x - mean)(x - mean)^T

    def update(self, features: ArrayLike) -> FeatureStatistics:
        """Add a batch of features, shape (B, d); returns ``self``."""
        x = as_numpy(features, "features")
        if x.ndim != 2:
            raise ValueError(f"features must have shape (B, d), got {x.shape}")
        if self.dim is not None and x.shape[1] != self.dim:
            raise ValueError(
                f"features have {x.shape[1]} dimensions but earlier batches had {self.dim}: "
                "use one feature extractor for the whole set"
            )
        check_finite(x, "features")
        if len(x) == 0:
            return self
        self.dim = x.shape[1]
        mean_b = x.mean(axis=0)
        centred = x - mean_b
        scatter_b = centred.T @ centred
        if self.n == 0:
            self._mean, self._scatter, self.n = mean_b, scatter_b, len(x)
            return self
        n_a, n_b = self.n, len(x)
        delta = mean_b - self._mean
        self._scatter = self._scatter + scatter_b + np.outer(delta, delta) * (n_a * n_b / (n_a + n_b))
        self._mean = self._mean + delta * (n_b / (n_a + n_b))
        self.n = n_a + n_b
        return self

    @property
    def mean(self) -> np.ndarray:
        """The sample mean, (d,)."""
        if self.n == 0:
            raise ValueError("features: no samples yet, so there is no mean")
        return self._mean

    @property
    def cov(self) -> np.ndarray:
        """The unbiased sample covariance, (d, d) (divides by n - 1, as ``np.cov`` does)."""
        if self.n < 2:
            raise ValueError(f"features: n = {self.n} sample(s) is too few for a covariance: need n >= 2")
        return self._scatter / (self.n - 1)

    @classmethod
    def of(cls, features: ArrayLike) -> FeatureStatistics:
        """Statistics of a whole (N, d) array at once."""
        return cls().update(features)

    def __repr__(self) -> str:
        return f"FeatureStatistics(n={self.n}, dim={self.dim})"


def fid_from_statistics(real: FeatureStatistics, fake: FeatureStatistics) -> float:
    """:func:`frechet_distance` between two sets of accumulated statistics."""
    if real.dim != fake.dim:
        raise ValueError(
            f"real features have {real.dim} dimensions but fake features have {fake.dim}: "
            "both sets must come from the same feature extractor"
        )
    for name, stats in (("real", real), ("fake", fake)):
        if stats.n < 2:
            raise ValueError(f"{name}: n = {stats.n} sample(s) is too few for a covariance: need n >= 2")
    return frechet_distance(real.mean, real.cov, fake.mean, fake.cov)
