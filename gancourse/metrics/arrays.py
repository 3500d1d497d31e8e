"""Input checks shared by every metric: arrays in, NumPy float64 out, NaN and inf refused by name."""

from __future__ import annotations

import numpy as np
import torch

ArrayLike = np.ndarray | torch.Tensor


def as_numpy(x: ArrayLike, name: str, dtype=np.float64) -> np.ndarray:
    """``x`` as a NumPy array of ``dtype``; tensors are detached and moved to the CPU."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().double().numpy()
    try:
        return np.asarray(x, dtype=dtype)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be a NumPy array or a tensor of numbers, got {type(x).__name__}") from err


def check_finite(x: np.ndarray, name: str) -> None:
    """Raise ``ValueError`` naming ``name`` if ``x`` holds a NaN or an infinity."""
    if not np.isfinite(x).all():
        bad = int((~np.isfinite(x)).sum())
        raise ValueError(
            f"{name} holds {bad} NaN or infinite value(s): a diverged generator or a broken feature extractor?"
        )


#: Largest |S - S^T| relative to max |S| still treated as rounding in a covariance matrix S.
SYMMETRY_TOLERANCE = 1e-6


def symmetric(sigma: np.ndarray, name: str) -> np.ndarray:
    """``sigma`` made exactly symmetric, ``(S + S^T) / 2``, if it is symmetric up to rounding; else ``ValueError``.

    A covariance matrix is symmetric; one that is not (a transposed block, a
    cross-covariance passed by mistake) would give a meaningless distance.
    """
    scale = float(np.abs(sigma).max()) if sigma.size else 0.0
    gap = float(np.abs(sigma - sigma.T).max()) if sigma.size else 0.0
    if gap > SYMMETRY_TOLERANCE * max(scale, np.finfo(float).tiny):
        raise ValueError(
            f"{name} is not symmetric (largest |{name} - {name}^T| = {gap:.3g}, largest entry {scale:.3g}): "
            "it must be a covariance matrix"
        )
    return (sigma + sigma.T) / 2
