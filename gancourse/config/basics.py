"""Configs of the foundations: chapter 1's two densities, chapter 3's regressor, image data sets."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

from gancourse.config.base import Config, param

#: The MNIST family (``gancourse.data.SPECS``): 28 px grey, ten classes; the domain classifier's data sets.
DATASETS = ("mnist", "fashion_mnist")
#: Every image data set a GAN config can name (``gancourse.data.DATASETS`` gives channels and classes):
#: ``emoji`` is both designers, ``emoji_twemoji`` / ``emoji_noto`` one; ``cifar10`` and ``celeba`` need the
#: network the first time; ``folder`` reads ``image_folder``.
IMAGE_DATASETS = (*DATASETS, "emoji", "emoji_twemoji", "emoji_noto", "cifar10", "celeba", "folder")
#: The data sets with class labels (a conditional GAN needs them).
LABELLED_DATASETS = (*DATASETS, "emoji", "emoji_twemoji", "emoji_noto", "cifar10")


def check_image_folder(cfg: Config) -> None:
    """``dataset='folder'`` needs ``image_folder``; any other data set must leave it empty."""
    name = type(cfg).__name__
    if cfg.dataset == "folder" and not cfg.image_folder:
        raise ValueError(f"{name}.image_folder = '' but dataset = 'folder': give the folder of images")
    if cfg.dataset != "folder" and cfg.image_folder:
        raise ValueError(
            f"{name}.image_folder = {cfg.image_folder!r} is used only with dataset = 'folder' (got {cfg.dataset!r})"
        )


@dataclasses.dataclass(frozen=True)
class GaussianPair1D(Config):
    """Chapter 1: a data density and a generator density on the real line.

    Both are normal distributions; the figure derives the optimal discriminator
    and the value of the minimax game from them (Goodfellow et al. 2014, Prop. 1, Thm. 1).
    """

    data_mean: float = param(0.0, -4.0, 4.0, step=0.1, help="mean of p_data")
    data_std: float = param(1.0, 0.2, 3.0, step=0.05, help="standard deviation of p_data")
    gen_mean: float = param(2.0, -4.0, 4.0, step=0.1, help="mean of p_g")
    gen_std: float = param(0.7, 0.2, 3.0, step=0.05, help="standard deviation of p_g")


@dataclasses.dataclass(frozen=True)
class RegressionConfig(Config):
    """Chapter 3: the 3 -> 20 -> 1 network fitted with Adam on a synthetic target.

    Adam's defaults are Kingma & Ba 2015 (lr 1e-3, betas (0.9, 0.999)); we use a
    larger step because the problem is tiny and well conditioned.
    """

    QUICK: ClassVar[Mapping[str, Any]] = {"steps": 300}
    #: a smoke run keeps quick mode's steps and batch: the tiny regressor trains in a second, and chapter 3
    #: checks that its loss falls
    SMOKE: ClassVar[Mapping[str, Any]] = {"steps": 300, "batch_size": 64}

    hidden: int = param(20, 1, 512, help="width of the hidden layer")
    lr: float = param(1e-2, 1e-5, 1.0, log=True, help="Adam learning rate (paper default 1e-3)")
    beta1: float = param(0.9, 0.0, 0.999, step=0.01, help="Adam beta1 (paper default 0.9)")
    batch_size: int = param(64, 1, 4096, help="examples per step")
    steps: int = param(1000, 1, 100_000, help="optimizer steps")
    n_train: int = param(2048, 16, 1_000_000, help="training examples")
    noise_std: float = param(0.1, 0.0, 2.0, step=0.05, help="standard deviation of the label noise")
    seed: int = param(0, 0, 2**31 - 1, help="random seed")


@dataclasses.dataclass(frozen=True)
class DataConfig(Config):
    """An image data set and how it is served: size, batch and augmentation.

    Images are scaled to [-1, 1] to match a generator's tanh output (Radford et al. 2015).
    MNIST-family images are 28x28; 32x32 (padding-free resize) suits strided
    convolutions that halve the size down to 4x4.
    """

    QUICK: ClassVar[Mapping[str, Any]] = {"limit": 10_000}

    dataset: str = param("mnist", choices=IMAGE_DATASETS, help="which data set ('folder': image_folder)")
    image_folder: str = param("", help="with dataset='folder': a folder of images (any size, centre-cropped, RGB)")
    image_size: int = param(32, 8, 256, help="side of the (square) images after resizing")
    batch_size: int = param(64, 1, 4096, help="images per batch")
    augment: bool = param(False, help="random affine augmentation (train split only)")
    limit: int = param(0, 0, 10_000_000, help="use only the first N images (0 = all)")
    num_workers: int = param(0, 0, 64, help="DataLoader worker processes")
    seed: int = param(0, 0, 2**31 - 1, help="seed of the shuffling order")

    def check(self) -> None:
        check_image_folder(self)
