"""Argument checks shared by the package: bad input gets an error naming the parameter and its range.

The configs validate their fields themselves (:mod:`gancourse.config.base`); these helpers serve the
functions and modules that take plain arguments (network sizes, sample counts, batch sizes).
This module imports nothing of the package, so every other module may use it.
"""

from __future__ import annotations

import numbers

import torch


def check_int(name: str, value: object, low: int = 1, high: int | None = None, note: str = "") -> int:
    """``value`` if it is an integer with ``low <= value <= high`` (no upper bound for ``high=None``).

    Raises ``ValueError`` naming ``name``, the value and the allowed range, followed by ``note``
    (e.g. ``"paper: 4"``). Any integral number is accepted (``int``, NumPy's integers) and returned
    as an ``int``; ``True``/``False`` are rejected: ``bool`` is a subclass of ``int`` in Python, but
    a flag passed as a size is a mistake.
    """
    integral = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if not integral or value < low or (high is not None and value > high):
        allowed = f"{name} >= {low}" if high is None else f"{low} <= {name} <= {high}"
        suffix = f", {note}" if note else ""
        raise ValueError(f"{name} = {value!r} is out of range: allowed {allowed} (an integer{suffix})")
    return int(value)


def check_positive_int(name: str, value: object, note: str = "") -> int:
    """``value`` if it is an integer >= 1, else a ``ValueError`` naming ``name`` (see :func:`check_int`)."""
    return check_int(name, value, 1, note=note)


def check_positive_ints(**values: object) -> None:
    """:func:`check_positive_int` for each keyword: ``check_positive_ints(in_channels=3, hidden=0)``."""
    for name, value in values.items():
        check_positive_int(name, value)


def check_images(name: str, images: object, channels: int | None = None, tolerance: float = 1e-4) -> torch.Tensor:
    """``images`` if it is a float tensor (N, C, H, W) of finite values in [-1, 1] (the generators' range).

    A NaN or infinite input would give NaN outputs without an error (a translation of
    NaN is NaN): a ``ValueError`` names ``name``, how many values are bad and the range.
    ``tolerance`` admits rounding just outside [-1, 1].
    """
    if not isinstance(images, torch.Tensor) or not images.dtype.is_floating_point or images.ndim != 4:
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"{name} must be a float tensor (N, C, H, W) in [-1, 1], got {shape}")
    if channels is not None and images.shape[1] != channels:
        raise ValueError(f"{name} must have {channels} channel(s), got shape {tuple(images.shape)}")
    finite = torch.isfinite(images)
    if not bool(finite.all()):
        raise ValueError(f"{name} holds {int((~finite).sum())} NaN or infinite value(s): images must lie in [-1, 1]")
    if images.numel() == 0:
        return images
    low, high = float(images.min()), float(images.max())
    if low < -1 - tolerance or high > 1 + tolerance:
        raise ValueError(f"{name} holds values in [{low:.3g}, {high:.3g}], outside [-1, 1]: scale images to [-1, 1]")
    return images
