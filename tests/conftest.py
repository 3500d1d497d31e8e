"""Shared fixtures: the real data root (skipped when absent), offline downloads, a non-interactive matplotlib.

Tests mirror modules: the tests of ``gancourse/[package/]<stem>.py`` live in ``tests/test_<stem>.py``
(metrics/fid.py -> test_fid.py). Where two modules share a stem, one file holds both (models/ and
config/ progan.py -> test_progan.py; models/ and metrics/ classifier.py -> test_classifier.py). The
packages whose stems repeat other modules' names keep one file each: bench/ -> test_bench.py,
config/ -> test_config.py, pretrained/ -> test_pretrained.py, style/ -> test_style.py, assets/ ->
test_assets.py; a package's own ``__init__.py`` -> test_<package>.py (models -> test_models.py).
``tests/datafiles.py`` holds the data-file writers several test files share. Tests over ~2 s are
``@pytest.mark.slow``: ``pytest -m "not slow"`` leaves them out, plain ``pytest`` runs all.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest
from datafiles import no_network

matplotlib.use("Agg")

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


@pytest.fixture
def real_root() -> Path:
    """The data root with real MNIST/Fashion-MNIST: $GANCOURSE_DATA, else ../shared/data."""
    root = Path(os.environ.get("GANCOURSE_DATA") or SHARED)
    if not (root / "MNIST" / "raw").is_dir():
        pytest.skip(f"no MNIST files under {root}")
    return root


@pytest.fixture
def assert_same_networks():
    """Asserts that two trainers' G and D hold identical state (weights and batch-norm buffers)."""

    def check(a, b) -> None:
        import torch

        for net in ("generator", "discriminator"):
            mine, theirs = getattr(a, net).state_dict(), getattr(b, net).state_dict()
            assert mine.keys() == theirs.keys()
            for name in mine:
                assert torch.equal(mine[name], theirs[name]), f"{net}.{name} differs"

    return check


@pytest.fixture
def untrained_classifier():
    """``untrained_classifier(dataset)``: a domain classifier with random weights (features of the right shape)."""

    def make(dataset="mnist"):
        from gancourse import metrics
        from gancourse.models.classifier import DomainClassifier

        cfg = metrics.ClassifierConfig(dataset=dataset, channels=4, feature_dim=8)
        model = DomainClassifier(cfg.channels, cfg.feature_dim).eval()
        return metrics.TrainedClassifier(model, cfg, 0.1, 0, 0.0, "test")

    return make


@pytest.fixture
def no_downloads(monkeypatch):
    """Every download fails as with no network (nothing here may reach the network)."""
    from gancourse import data

    monkeypatch.setattr(data.mnist, "_download", no_network)

    def refuse(*args, **kwargs):
        raise data.DataError("could not download (no network)")

    monkeypatch.setattr(data.emoji, "_download_emoji", refuse)
    monkeypatch.setattr(data.files.urllib.request, "urlopen", refuse)
    monkeypatch.setenv("XDG_CACHE_HOME", "/nonexistent-cache-for-tests")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
