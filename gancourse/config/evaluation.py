"""Configs of the evaluation tools: the domain classifier whose features FID and KID use offline."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

from gancourse.config.base import Config, param, run_mode
from gancourse.config.basics import DATASETS, LABELLED_DATASETS

#: The data sets a domain classifier is trained on: the MNIST family, emoji (both designers:
#: one classifier serves ``emoji``, ``emoji_twemoji`` and ``emoji_noto``) and CIFAR-10.
CLASSIFIER_DATASETS = (*DATASETS, "emoji", "cifar10")


@dataclasses.dataclass(frozen=True)
class ClassifierConfig(Config):
    """The domain classifier and its training: full mode reaches >= 99 % (MNIST) / >= 91 % (Fashion-MNIST).

    Quick mode trains one epoch on the first 30,000 images: under a minute on a
    2-core CPU, >= 98 % on MNIST.

    The emoji classifier learns from a small set (3,018 images: the training emoji it
    does not hold out for the floor, by two designers, see
    :func:`gancourse.metrics.classifier.held_out_rows`), so one pass over it is too few
    steps: :meth:`for_dataset` applies the per-data-set epochs of ``DATASET_EPOCHS``
    (8 in quick mode: tens of seconds on a CPU; the full-mode 40 are untested).
    CIFAR-10's epochs are a guess, untested offline (it needs the network).
    """

    QUICK: ClassVar[Mapping[str, Any]] = {"epochs": 1, "limit": 30_000}
    #: epochs per data set and mode where the default above does not fit the data set's size
    DATASET_EPOCHS: ClassVar[Mapping[str, Mapping[str, int]]] = {
        "emoji": {"quick": 8, "full": 40},
        "cifar10": {"quick": 1, "full": 20},
    }

    dataset: str = param("mnist", choices=CLASSIFIER_DATASETS, help="the data set it learns to classify")
    epochs: int = param(8, 1, 1000, help="passes over the training images")
    limit: int = param(0, 0, 10_000_000, help="train on the first N training images (0 = all)")
    batch_size: int = param(64, 1, 4096, help="images per step")
    lr: float = param(
        1e-3, 1e-6, 1.0, log=True, help="initial Adam learning rate (Kingma & Ba's default), cosine-decayed to 0"
    )
    channels: int = param(32, 4, 256, help="channels of the first conv layer (the second has twice as many)")
    feature_dim: int = param(128, 8, 2048, help="size of the penultimate layer: the FID/KID features")
    seed: int = param(0, 0, 2**31 - 1, help="seed of the initial weights and the shuffling order")

    @classmethod
    def for_dataset(cls, dataset: str, mode: str | None = None, **overrides: Any) -> ClassifierConfig:
        """The config of ``dataset``'s classifier in ``mode``: :meth:`for_mode` with the data set's epochs."""
        mode = run_mode(mode)
        epochs = cls.DATASET_EPOCHS.get(dataset, {}).get("full" if mode == "paper" else mode)
        extra = {} if epochs is None else {"epochs": epochs}
        return cls.for_mode(mode, dataset=dataset, **{**extra, **overrides})


@dataclasses.dataclass(frozen=True)
class EvalConfig(Config):
    """How the GAN chapters score their generators (:func:`gancourse.metrics.evaluate`).

    FID and KID are computed on ``n`` generated and ``n`` real test images, next to the
    real-data floor at the same ``n`` (real training vs real test images). FID is biased
    upwards at small ``n`` (chapter 11), so only scores at the same ``n`` and with the same
    features are comparable. Heusel et al. 2017 recommend n >= 10,000 (full mode);
    quick mode uses 1,000 and the domain classifier, since InceptionV3 at 299 px is
    slow on a CPU. KID is unbiased and averaged over subsets of ``kid_subset_size``
    (Bińkowski et al. 2018: 100 subsets of 1,000). ``n`` cannot exceed the test split:
    the emoji test split holds 742 images (371 emoji by two designers), so emoji
    evaluations set ``n`` to at most that. Improved precision and recall (Kynkäänniemi et al.
    2019) are computed in the same features with k = ``pr_k``; they too depend on ``n``.
    """

    QUICK: ClassVar[Mapping[str, Any]] = {"n": 1000, "features": "classifier"}
    #: a smoke run is offline: 'auto' would fall back to the domain classifier there, so it uses that directly
    SMOKE: ClassVar[Mapping[str, Any]] = {"features": "classifier"}

    dataset: str = param("mnist", choices=LABELLED_DATASETS, help="the real images the samples are compared with")
    n: int = param(10_000, 20, 10_000, help="generated and real images per score (Heusel et al.: >= 10,000)")
    features: str = param(
        "auto",
        choices=("auto", "inception", "classifier"),
        help="InceptionV3 (full and paper mode: pytorch-fid's FID Inception; 'auto': if its weights load, else "
        "the domain classifier) or the domain classifier",
    )
    kid_subsets: int = param(100, 1, 1000, help="KID: random subsets averaged (Bińkowski et al.: 100)")
    kid_subset_size: int = param(1000, 10, 10_000, help="KID: images per subset, at most n / 2 is used")
    pr_k: int = param(
        3, 1, 100, help="precision and recall: the k-th neighbour sets each ball's radius (Kynkäänniemi et al.: 3)"
    )
    class_histogram: bool = param(True, help="also classify every image (mode-collapse check, conditional accuracy)")
    seed: int = param(0, 0, 2**31 - 1, help="seed of the real images drawn and of the KID subsets")


@dataclasses.dataclass(frozen=True)
class CurveConfig(Config):
    """How FID is followed during training (:func:`gancourse.metrics.fid_curve`): an FID every ``every``
    generator steps on ``n`` samples, until ``seconds`` of training (evaluation not counted) or the run's end.

    A wall-clock budget compares methods whose steps cost different amounts (a gradient
    penalty's double backward against spectral normalisation's one matrix-vector product);
    its step counts depend on the machine, so such runs are not reproducible step for step.
    Quick mode: 12 s per run and 500 samples; full mode 120 s and 1,000; paper mode 600 s and 2,000.
    """

    QUICK: ClassVar[Mapping[str, Any]] = {"seconds": 12.0, "every": 50, "n": 500}
    #: full mode: two minutes a run, so that chapter 7's comparison fits its T4 minutes (gancourse.config.budget)
    FULL: ClassVar[Mapping[str, Any]] = {"seconds": 120.0, "every": 100, "n": 1000}

    seconds: float = param(600.0, 1.0, 86_400.0, step=1.0, help="training seconds per run (evaluation not counted)")
    every: int = param(250, 1, 1_000_000, help="generator steps between two FIDs")
    n: int = param(2000, 20, 10_000, help="generated and real test images per FID (same n for every point)")
