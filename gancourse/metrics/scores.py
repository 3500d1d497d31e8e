"""FID and KID from images or features, and the real-data floor every score should be shown next to.

:func:`frechet_inception_distance` and :func:`kernel_inception_distance` take
either images (anything :func:`~gancourse.metrics.features.image_batches`
accepts, plus a feature extractor) or features already extracted: a 2-D array
(N, d), or for FID a :class:`~gancourse.metrics.fid.FeatureStatistics`, so the
statistics of the real set can be computed once and reused for every checkpoint
of a run.

**The floor.** Even two samples of the *same* distribution have a positive FID
(its estimator is biased, Bińkowski et al. 2018) and a KID that
scatters around 0. :func:`real_floor` computes a metric between n images of the
real training split and n images of the real test split, the best score a
generator could hope for at that sample count; a model's score means little
without it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import torch

from gancourse.data import load_images, transform_images
from gancourse.metrics.classifier import held_out_rows
from gancourse.metrics.features import extract_features, feature_statistics
from gancourse.metrics.fid import FeatureStatistics, fid_from_statistics
from gancourse.metrics.kid import MeanStd, kid_from_features
from gancourse.metrics.precision_recall import precision_recall

T = TypeVar("T")


def _is_features(x: Any) -> bool:
    return isinstance(x, (np.ndarray, torch.Tensor)) and x.ndim == 2


def _first(x: Any, name: str, n: int | None) -> Any:
    """The first ``n`` rows of a feature array; ``ValueError`` if ``n`` is not an integer within its rows."""
    if n is None:
        return x
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n = {n!r} is out of range: allowed an integer >= 1, or None for all samples")
    if n > len(x):
        raise ValueError(f"n = {n} samples were asked for but {name} holds only {len(x)} feature rows")
    return x[:n]


def _statistics(x: Any, name: str, extractor, n: int | None, batch_size: int) -> FeatureStatistics:
    if isinstance(x, FeatureStatistics):
        if n is not None and n != x.n:
            raise ValueError(
                f"n = {n} but the statistics {name} were accumulated from {x.n} samples: pass n=None or n={x.n}"
            )
        return x
    if _is_features(x):
        return FeatureStatistics.of(_first(x, name, n))
    if extractor is None:
        raise ValueError(f"{name} holds images but extractor is None: pass a feature extractor, or features (N, d)")
    return feature_statistics(extractor, x, n, batch_size)


def _features(x: Any, name: str, extractor, n: int | None, batch_size: int) -> Any:
    if _is_features(x):
        return _first(x, name, n)
    if extractor is None:
        raise ValueError(f"{name} holds images but extractor is None: pass a feature extractor, or features (N, d)")
    return extract_features(extractor, x, n, batch_size)


def frechet_inception_distance(
    real: Any, fake: Any, extractor: Callable | None = None, n: int | None = None, batch_size: int = 250
) -> float:
    """FID (Heusel et al. 2017) between the first ``n`` real and fake images (or their features, or statistics).

    Images are streamed through ``extractor`` ``batch_size`` at a time; only the
    running mean and covariance are kept. Compare FIDs only at equal ``n`` and
    with the same extractor, and next to :func:`real_floor`.
    """
    real_stats = _statistics(real, "real", extractor, n, batch_size)
    fake_stats = _statistics(fake, "fake", extractor, n, batch_size)
    return fid_from_statistics(real_stats, fake_stats)


def kernel_inception_distance(
    real: Any,
    fake: Any,
    extractor: Callable | None = None,
    n: int | None = None,
    batch_size: int = 250,
    subsets: int = 100,
    subset_size: int = 1000,
    seed: int = 0,
) -> MeanStd:
    """KID (Bińkowski et al. 2018): unbiased cubic-kernel MMD^2, mean and std over ``subsets`` random subsets.

    Unbiased, so usable at small sample counts where FID is not (see
    :mod:`gancourse.metrics.kid`). ``subset_size`` must not exceed the number of samples.
    """
    x = _features(real, "real", extractor, n, batch_size)
    y = _features(fake, "fake", extractor, n, batch_size)
    return kid_from_features(x, y, subsets=subsets, subset_size=subset_size, seed=seed)


def split_size(dataset: str = "mnist", split: str = "test", root: str | os.PathLike | None = None) -> int:
    """How many images a split holds where the data came from (10,000 MNIST test images, 742 emoji; offline, fewer)."""
    return len(load_images(dataset, split, root)[0])


def real_images(
    dataset: str = "mnist",
    split: str = "train",
    n: int | None = None,
    seed: int = 0,
    root: str | os.PathLike | None = None,
    image_size: int = 32,
    rows: np.ndarray | None = None,
) -> torch.Tensor:
    """``n`` images (n, C, S, S) in [-1, 1] drawn at random without replacement from a split (all if None).

    ``C`` follows the data set (1 grey, 3 colour); ``S = image_size``: score a 64 px
    generator against 64 px real images (the emoji are resized from their 64 px sheets).
    ``rows``: a boolean mask over the split; only those images are drawn from.
    """
    images, _, _ = load_images(dataset, split, root, image_size=image_size)  # uint8 (N, C, H, W)
    if rows is not None:
        images = images[rows]
    if n is None:
        return transform_images(images, image_size)
    if isinstance(n, bool) or not isinstance(n, int) or not 2 <= n <= len(images):
        raise ValueError(f"n = {n!r} is out of range: the {split} split of {dataset} allows 2 <= n <= {len(images)}")
    pick = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))[:n].numpy()
    return transform_images(images[pick], image_size)  # only the chosen images are transformed


def real_floor(
    metric_fn: Callable[[torch.Tensor, torch.Tensor], T],
    dataset: str = "mnist",
    n: int = 1000,
    seed: int = 0,
    root: str | os.PathLike | None = None,
    image_size: int = 32,
) -> T:
    """``metric_fn(train, test)`` for n random real training and n random real test images (n, C, S, S).

    The score of a perfect generator at this sample count: show every model's
    score next to it. ``n`` is at most the size of the test split (10,000 MNIST, 742 emoji).
    For emoji the training images come from the emoji the domain classifier never saw
    (:func:`~gancourse.metrics.classifier.held_out_rows`): its features of the images it
    trained on are not those of unseen images, as a generator's are.
    """
    train = real_images(dataset, "train", n, seed, root, image_size, held_out_rows(dataset, root))
    test = real_images(dataset, "test", n, seed + 1, root, image_size)
    return metric_fn(train, test)


def fid_kid_floor(
    extractor: Callable,
    dataset: str = "mnist",
    n: int = 1000,
    subsets: int = 100,
    subset_size: int | None = None,
    batch_size: int = 250,
    seed: int = 0,
    root: str | os.PathLike | None = None,
    image_size: int = 32,
    pr_k: int = 3,
) -> dict[str, Any]:
    """``{"fid": float, "kid": MeanStd, "precision_recall": PrecisionRecall}`` between real train and real test
    images, n of each, one feature pass (precision: test images on the training manifold, k = ``pr_k``).

    ``subset_size`` defaults to min(1000, n); images are ``image_size`` px, as the generator's.
    """
    size = min(1000, n) if subset_size is None else subset_size

    def both(train: torch.Tensor, test: torch.Tensor) -> dict[str, Any]:
        x = extract_features(extractor, train, batch_size=batch_size)
        y = extract_features(extractor, test, batch_size=batch_size)
        return {
            "fid": frechet_inception_distance(x, y),
            "kid": kid_from_features(x, y, subsets=subsets, subset_size=size, seed=seed),
            "precision_recall": precision_recall(x, y, pr_k),
        }

    return real_floor(both, dataset, n, seed, root, image_size)
