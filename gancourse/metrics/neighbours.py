"""Nearest real neighbours of generated samples: the visual check for memorisation.

A generator that copies its training images would score well on FID, KID and
the Inception Score, which compare distributions, not individual images.
Goodfellow et al. (2014, Fig. 2) therefore show, next to each sample, the
training image closest to it: if the two are nearly identical the model has
memorised. :func:`nearest_neighbours` finds the ``k`` closest references of
every query by Euclidean distance on the flattened arrays: pixels for images,
or features (N, d) from a feature extractor.

The test is one-sided (Theis et al. 2016, on nearest-neighbour tests): a near-copy shows
memorisation, but a far neighbour does not prove novelty, because Euclidean
distance in pixel space is a poor measure of perceptual similarity (an image
shifted by one pixel can be far from itself). Compare the distances with the
floor: how far real *test* images lie from their nearest training image.
"""

from __future__ import annotations

import torch

from gancourse.checks import check_int, check_positive_int
from gancourse.metrics.fid import ArrayLike


def _as_rows(x: ArrayLike, name: str) -> torch.Tensor:
    x = torch.as_tensor(x).detach().cpu()
    if x.ndim < 2 or len(x) < 1:
        raise ValueError(
            f"{name} must have shape (N, ...) with N >= 1 and at least one value each, got {tuple(x.shape)}"
        )
    x = x.reshape(len(x), -1).float()  # (N, D)
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} holds NaN or infinite values")
    return x


def nearest_neighbours(
    queries: ArrayLike, reference: ArrayLike, k: int = 1, batch_size: int = 256
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(distances, indices)``, both (N, k): the ``k`` rows of ``reference`` nearest to each query, nearest first.

    ``queries`` (N, ...) and ``reference`` (M, ...) are flattened to vectors
    (images (N, C, H, W) compare pixel by pixel; features (N, d) as they are) and
    must have the same number of values per row. Distances are Euclidean; the
    search runs in float32, ``batch_size`` queries at a time so memory stays
    O(batch_size x M), and the k distances found are then recomputed exactly in
    float64 (so a copy is at distance 0, not at float32 rounding noise).
    """
    q, r = _as_rows(queries, "queries"), _as_rows(reference, "reference")
    if q.shape[1] != r.shape[1]:
        raise ValueError(
            f"queries have {q.shape[1]} values per row but reference rows have {r.shape[1]}: compare like with like"
        )
    check_int("k", k, 1, len(r), note=f"the reference has {len(r)} rows")
    check_positive_int("batch_size", batch_size)
    r_sq = (r * r).sum(dim=1)  # (M,)
    distances, indices = [], []
    for chunk in q.split(batch_size):  # (B, D)
        # ||a - b||^2 = ||a||^2 - 2 a.b + ||b||^2: one matrix product instead of B x M differences
        sq = (chunk * chunk).sum(dim=1, keepdim=True) - 2.0 * chunk @ r.T + r_sq  # (B, M)
        _, i = torch.topk(sq, k, dim=1, largest=False)  # (B, k), nearest first
        exact = (chunk.double().unsqueeze(1) - r[i].double()).norm(dim=2)  # (B, k): the k distances, directly
        exact, order = exact.sort(dim=1)  # rounding may have swapped near-ties
        distances.append(exact)
        indices.append(i.gather(1, order))
    return torch.cat(distances), torch.cat(indices)
