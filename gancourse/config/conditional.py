"""Configs of chapter 8: the class-conditional GAN and pix2pix."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

from gancourse.config.base import Config, param
from gancourse.config.basics import DATASETS, LABELLED_DATASETS
from gancourse.config.gan import DCGAN_QUICK_NETWORKS, DCGANConfig, GANConfig


@dataclasses.dataclass(frozen=True)
class ConditionalGANConfig(DCGANConfig):
    """Class-conditional DCGAN (Mirza & Osindero 2014): G(z, y) and D(x, y), y one of the 10 classes.

    Optimisation as DCGAN (Adam 2e-4, beta1 0.5, batch 128). The label enters G as a
    learnt embedding concatenated with z, and D either by concatenation (Mirza &
    Osindero) or by projection (Miyato & Koyama 2018). MNIST-family data sets have
    10 classes; real batches carry their true labels, so the label marginal p(y) is the data's.
    """

    # 400 steps at batch 32 fit the quick budget. embed_dim 20: at 50 the label takes over G's input
    # and every sample of a class is the same image; at 10 it steers too weakly (tuning notes:
    # book/results.md, within-class diversity against conditional accuracy)
    QUICK: ClassVar[Mapping[str, Any]] = {
        **DCGAN_QUICK_NETWORKS,
        "steps": 400,
        "batch_size": 32,
        "sample_every": 50,
        "embed_dim": 20,
    }
    #: full mode: DCGAN's settings with G's moving average, 3,000 steps: chapter 8's three cGANs beside pix2pix
    FULL: ClassVar[Mapping[str, Any]] = {"steps": 3000, "ema_decay": 0.999}
    SMOKE: ClassVar[Mapping[str, Any]] = {"base_channels": 8}

    embed_dim: int = param(
        50, 1, 512, help="size of the label embedding e(y) (Mirza & Osindero map y to 1000 units, z to 200)"
    )
    projection: bool = param(False, help="projection discriminator (Miyato & Koyama 2018) instead of concatenation")

    def check(self) -> None:
        super().check()
        if self.spectral_norm:
            raise ValueError(
                "ConditionalGANConfig.spectral_norm = True is not supported: the conditional discriminator has no "
                "spectral-norm option (the DCGAN and ResNet discriminators have); leave it False"
            )
        if self.dataset not in LABELLED_DATASETS:
            raise ValueError(
                f"ConditionalGANConfig.dataset = {self.dataset!r} has no class labels: choose one of "
                f"{', '.join(map(repr, LABELLED_DATASETS))}"
            )


@dataclasses.dataclass(frozen=True)
class ConditionalSampleConfig(Config):
    """What the chapter-8 widget draws: ``n`` samples of class ``label`` from noise seeded by ``seed``."""

    label: int = param(7, 0, 9, help="the class y asked for (digit, garment or emoji category index)")
    seed: int = param(0, 0, 999, help="seed of the noise z: same seed, same z for every class")
    n: int = param(8, 1, 32, help="how many samples")


@dataclasses.dataclass(frozen=True)
class Pix2PixConfig(GANConfig):
    """pix2pix (Isola et al. 2017): U-Net G, PatchGAN D, conditional GAN loss + lambda L1 (lambda = 100).

    Paper settings: Adam 2e-4, beta1 0.5, batch size 1 with batch norm (which then
    normalises each image by its own statistics: instance norm), dropout 0.5 in the first
    three decoder layers at train and test time, no z, D's objective divided by 2, a
    70 x 70 PatchGAN (``d_layers`` = 3). The task here: Sobel edges -> Fashion-MNIST
    garments at 32 x 32, where a 70 x 70 patch already covers the whole image; quick
    mode uses a 16 x 16 PatchGAN (``d_layers`` = 1). It has no z.
    """

    QUICK: ClassVar[Mapping[str, Any]] = {
        "steps": 300,
        "batch_size": 16,
        "base_channels": 16,
        "d_layers": 1,
        "data_limit": 10_000,
        "sample_every": 100,
    }
    #: full mode: 20,000 pairs at batch 4 (the paper's batch 1 launches one tiny step per image; batch norm at
    #: batch 4 is no longer instance norm), so that chapter 8's six pix2pix runs fit a T4's minutes
    FULL: ClassVar[Mapping[str, Any]] = {"steps": 5000, "batch_size": 4}
    SMOKE: ClassVar[Mapping[str, Any]] = {"base_channels": 8}

    dataset: str = param(
        "fashion_mnist",
        choices=(*DATASETS, "emoji", "paired_folder"),
        help="pairs: Sobel edges -> MNIST-family image; 'emoji': Twemoji -> Noto; "
        "'paired_folder': A|B files in image_folder",
    )
    image_folder: str = param("", help="with dataset='paired_folder': a folder of A|B images (facades, maps layout)")
    direction: str = param(
        "AtoB", choices=("AtoB", "BtoA"), help="with 'paired_folder': A -> B or B -> A (facades labels -> photo: BtoA)"
    )
    image_size: int = param(
        32, choices=(16, 32, 64, 128, 256), help="side of the images (paper: 256); U-Net depth log2(size)"
    )
    data_limit: int = param(0, 0, 10_000_000, help="use the first N training images (0 = all)")
    steps: int = param(60_000, 1, 10_000_000, help="generator updates (60,000 at batch 1: one epoch of Fashion-MNIST)")
    batch_size: int = param(1, 1, 4096, help="pairs per update (pix2pix: 1)")
    base_channels: int = param(64, 4, 512, help="channels of the first G and D layers (pix2pix: 64)")
    d_layers: int = param(
        3, 1, 6, help="stride-2 layers of the PatchGAN: 3 = 70 x 70 (paper), 1 = 16 x 16, 2 = 34 x 34"
    )
    norm: str = param(
        "batch", choices=("batch", "instance"), help="normalisation (pix2pix: batch norm at batch 1 = instance norm)"
    )
    dropout: float = param(0.5, 0.0, 0.9, step=0.05, help="dropout of the first three decoder layers (pix2pix: 0.5)")
    test_dropout: bool = param(True, help="keep dropout on when generating (pix2pix: yes, it is the noise)")
    objective: str = param(
        "pix2pix", choices=("pix2pix",), help="cGAN loss + lambda L1 (this recipe's own, Isola et al. 2017, Eq. 4)"
    )
    l1_weight: float = param(100.0, 0.0, 10_000.0, step=1.0, help="lambda, the weight of the L1 term (pix2pix: 100)")
    adversarial: bool = param(True, help="include the cGAN term in G's loss (False: the L1-only ablation)")
    d_loss_factor: float = param(0.5, 0.01, 1.0, step=0.05, help="D's loss multiplied by this (pix2pix: 1/2)")
    reuse_fake: bool = param(True, help="G's update goes through the output D was just trained on (pix2pix's own code)")
    edge_threshold: float = param(
        0.25, 0.0, 4.0, step=0.05, help="Sobel magnitude (on [0, 1] pixels) above which a pixel is an edge"
    )

    def check(self) -> None:
        if self.diff_augment:
            raise ValueError(
                f"Pix2PixConfig.diff_augment = {self.diff_augment!r} is not supported: D sees the input and the output "
                "image together, and augmenting the output alone would break the pair; leave it ''"
            )
        if self.dataset == "paired_folder" and not self.image_folder:
            raise ValueError(
                "Pix2PixConfig.image_folder = '' but dataset = 'paired_folder': give the folder of A|B images"
            )
        if self.dataset != "paired_folder" and self.image_folder:
            raise ValueError(
                f"Pix2PixConfig.image_folder is used only with dataset = 'paired_folder' (got {self.dataset!r})"
            )
        if not self.adversarial and self.l1_weight == 0:
            raise ValueError("Pix2PixConfig: adversarial = False and l1_weight = 0 leave G with no loss: enable one")
