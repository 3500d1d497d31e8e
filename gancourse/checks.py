"""Argument checks shared by the package: bad input gets an error naming the parameter and its range.

The configs validate their fields themselves (:mod:`gancourse.config.base`); these helpers serve the
functions and modules that take plain arguments (network sizes, sample counts, batch sizes).
This module imports nothing of the package, so every other module may use it.
"""

from __future__ import annotations

import numbers


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
