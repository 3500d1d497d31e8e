"""Shared fixtures: the real data root (skipped when absent) and a non-interactive matplotlib."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


@pytest.fixture
def real_root() -> Path:
    """The data root with real MNIST/Fashion-MNIST: $GANCOURSE_DATA, else ../shared/data."""
    root = Path(os.environ.get("GANCOURSE_DATA") or SHARED)
    if not (root / "MNIST" / "raw").is_dir():
        pytest.skip(f"no MNIST files under {root}")
    return root


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
