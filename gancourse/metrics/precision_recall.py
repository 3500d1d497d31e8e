"""Improved precision and recall of a generator (Kynkäänniemi et al. 2019): fidelity and diversity apart.

FID is one number for two failures: samples that look unlike the data (low *fidelity*)
and samples that cover only part of it (low *diversity*) both raise it. Kynkäänniemi et al.
2019 separate them by estimating each distribution's support, its *manifold*, from samples:
in a feature space (here the same features as FID), the manifold of a set Φ is the union
of balls around its points, each ball's radius the distance to the point's k-th nearest
neighbour in Φ (Eq. 1-2; the paper's k = 3):

    f(φ, Φ) = 1  if  ||φ - φ'||_2 <= ||φ' - NN_k(φ', Φ)||_2  for some φ' in Φ,  else 0.

Then, with Φ_r the real features and Φ_g the generated ones (Eq. 3-4),

    precision(Φ_r, Φ_g) = 1/|Φ_g| Σ_{φ_g} f(φ_g, Φ_r)   (share of samples on the real manifold),
    recall(Φ_r, Φ_g)    = 1/|Φ_r| Σ_{φ_r} f(φ_r, Φ_g)   (share of real images on the generated one).

A generator that draws a few perfect images has precision near 1 and recall near 0; one
whose samples spread over the data but look wrong has the reverse. Both depend on k and
on the sample count (more samples, smaller balls): compare values at the same n and k.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from gancourse.checks import check_int
from gancourse.metrics.arrays import ArrayLike


class PrecisionRecall(NamedTuple):
    """Precision and recall of one generated set against a real one, with the k of the k-NN radii."""

    precision: float
    recall: float
    k: int

    def __str__(self) -> str:
        return f"precision {self.precision:.3f}, recall {self.recall:.3f} (k = {self.k})"


def _rows(x: ArrayLike, name: str) -> torch.Tensor:
    x = torch.as_tensor(x).detach().cpu().double()
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"{name} must be features of shape (N, d) with N >= 2, got {tuple(x.shape)}")
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} holds NaN or infinite values")
    return x


def knn_radii(features: torch.Tensor, k: int = 3, batch_size: int = 1024) -> torch.Tensor:
    """(N,): each point's distance to its k-th nearest neighbour among the *other* points of the set (Eq. 1)."""
    radii = []
    for start in range(0, len(features), batch_size):
        chunk = features[start : start + batch_size]  # (B, d)
        distances = torch.cdist(chunk, features)  # (B, N), float64
        own = torch.arange(start, start + len(chunk))
        distances[torch.arange(len(chunk)), own] = float("inf")  # a point is not its own neighbour
        radii.append(distances.topk(k, dim=1, largest=False).values[:, -1])
    return torch.cat(radii)


def in_manifold(
    queries: torch.Tensor, points: torch.Tensor, radii: torch.Tensor, batch_size: int = 1024
) -> torch.Tensor:
    """(Q,) bool: f(φ, Φ) of Eq. 2, whether each query lies in some ball B(φ', r(φ')) of the set."""
    inside = []
    for chunk in queries.split(batch_size):  # (B, d)
        inside.append((torch.cdist(chunk, points) <= radii).any(dim=1))  # (B, N) against the radii (N,)
    return torch.cat(inside)


def precision_recall(real_features: ArrayLike, fake_features: ArrayLike, k: int = 3) -> PrecisionRecall:
    """Improved precision and recall of ``fake_features`` against ``real_features`` (Kynkäänniemi et al. 2019).

    Both are (N, d) features from one extractor (those of FID). ``k`` (paper: 3) is the
    neighbour that sets each ball's radius; it must be below each set's size. Distances are
    computed in float64, 1024 rows at a time (memory O(1024 N)).
    """
    real, fake = _rows(real_features, "real_features"), _rows(fake_features, "fake_features")
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"real features have {real.shape[1]} dimensions, fake features {fake.shape[1]}: one extractor")
    check_int("k", k, 1, min(len(real), len(fake)) - 1, note="the k-th neighbour must exist in both sets")
    precision = in_manifold(fake, real, knn_radii(real, k)).double().mean()
    recall = in_manifold(real, fake, knn_radii(fake, k)).double().mean()
    return PrecisionRecall(float(precision), float(recall), k)
