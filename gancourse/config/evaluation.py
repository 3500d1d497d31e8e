"""Configs of the evaluation tools: the domain classifier whose features FID and KID use offline."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

from gancourse.config.base import Config, param
from gancourse.config.basics import DATASETS


@dataclasses.dataclass(frozen=True)
class ClassifierConfig(Config):
    """The domain classifier and its training: full mode reaches >= 99 % (MNIST) / >= 91 % (Fashion-MNIST).

    Quick mode trains one epoch on the first 30,000 images: under a minute on a
    2-core CPU, >= 98 % on MNIST.
    """

    QUICK: ClassVar[Mapping[str, Any]] = {"epochs": 1, "limit": 30_000}

    dataset: str = param("mnist", choices=DATASETS, help="the data set it learns to classify")
    epochs: int = param(8, 1, 1000, help="passes over the training images")
    limit: int = param(0, 0, 10_000_000, help="train on the first N training images (0 = all)")
    batch_size: int = param(64, 1, 4096, help="images per step")
    lr: float = param(1e-3, 1e-6, 1.0, log=True, help="initial Adam learning rate (Kingma & Ba's default), cosine-decayed to 0")
    channels: int = param(32, 4, 256, help="channels of the first conv layer (the second has twice as many)")
    feature_dim: int = param(128, 8, 2048, help="size of the penultimate layer: the FID/KID features")
    seed: int = param(0, 0, 2**31 - 1, help="seed of the initial weights and the shuffling order")
