"""Config of chapter 13: StyleGAN2's networks, regularisers and sampling."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

from gancourse.config.base import param
from gancourse.config.basics import IMAGE_DATASETS, check_image_folder
from gancourse.config.gan import GANConfig


@dataclasses.dataclass(frozen=True)
class StyleGAN2Config(GANConfig):
    """Karras et al. 2020 (config F, App. B), at the data's resolution: the defaults are the paper's.

    Mapping network of 8 layers with lr multiplier 0.01 (Karras et al. 2019, App. C), style
    mixing with probability 0.9 (2019, Sec. 3.1), the non-saturating logistic loss with lazy
    R1 (gamma 10, every 16 D steps; 2020, Sec. 3.1), Adam lr 0.002, betas (0, 0.99), batch 32,
    and a moving average of G for samples and metrics (``ema_decay``; the official code's
    half-life of 10k images is 0.9978 per step at batch 32, here 0.999). Not followed: the
    paper scales Adam's rate and betas by k / (k + 1) for lazy R1 and has path-length
    regularisation; neither is implemented. ``truncation_psi`` is the psi of samples drawn for
    looking at (the chapter's figures); FID is computed at psi = 1, as in the paper.
    """

    QUICK: ClassVar[Mapping[str, Any]] = {
        # emoji at 32 px on narrow networks (32 channels at 4 and 8, 16 at 16, 8 at 32), about a minute
        # on a CPU; R1's gamma shrinks with the resolution (StyleGAN2-ADA uses 0.01 on CIFAR-10 at 32 px)
        "latent_dim": 32,
        "w_dim": 32,
        "fmap_base": 128,
        "fmap_max": 32,
        "batch_size": 16,
        "steps": 300,
        "r1_gamma": 0.05,
        "ema_decay": 0.99,
        "data_limit": 4000,
        "sample_every": 50,
        "log_every": 10,
    }

    #: full mode: config F's layers and schedule at 128 channels (config F has 512: 16 x the FLOPs, about 1.3 s a
    #: step on a T4) for 6,000 steps, R1's gamma of StyleGAN2-ADA's CIFAR-10 setting (0.01 at 32 px)
    FULL: ClassVar[Mapping[str, Any]] = {"fmap_max": 128, "steps": 6000, "r1_gamma": 0.01}

    dataset: str = param("emoji", choices=IMAGE_DATASETS, help="training images ('folder': image_folder)")
    image_folder: str = param("", help="with dataset='folder': a folder of images (any size, centre-cropped, RGB)")
    image_size: int = param(32, 8, 1024, help="resolution: a power of two (paper: 1024 on FFHQ)")
    data_limit: int = param(0, 0, 10_000_000, help="use the first N training images (0 = all)")
    batch_size: int = param(32, 1, 4096, help="real and fake images per update (paper, config F: 32)")
    latent_dim: int = param(512, 1, 1024, help="size of z (paper: 512)")
    w_dim: int = param(512, 1, 1024, help="size of w, the mapping network's output (paper: 512)")
    mapping_layers: int = param(8, 1, 16, help="fully connected layers of the mapping network (StyleGAN: 8)")
    mapping_lr_multiplier: float = param(
        0.01, 1e-4, 1.0, log=True, help="learning-rate multiplier of the mapping network (StyleGAN, App. C: 0.01)"
    )
    fmap_base: int = param(
        16384, 16, 65536, help="channels at resolution r: min(fmap_max, fmap_base / (r/2)) (config F: 16384)"
    )
    fmap_max: int = param(512, 4, 1024, help="most channels of any layer (paper: 512)")
    mixing_prob: float = param(
        0.9, 0.0, 1.0, step=0.05, help="share of batches generated from two codes switched at a random layer (0.9)"
    )
    w_avg_beta: float = param(
        0.995, 0.0, 0.99999, step=0.0001, help="decay of the tracked average w that truncation pulls towards (0.995)"
    )
    truncation_psi: float = param(
        0.7, 0.0, 2.0, step=0.05, help="psi of the chapter's samples: w' = w_avg + psi (w - w_avg); 1 = none"
    )
    group_size: int = param(4, 1, 64, help="samples per minibatch-stddev group in D (paper: 4)")
    lr_g: float = param(0.002, 1e-6, 1.0, log=True, help="generator Adam learning rate (StyleGAN2: 0.002)")
    lr_d: float = param(0.002, 1e-6, 1.0, log=True, help="discriminator Adam learning rate (StyleGAN2: 0.002)")
    beta1: float = param(0.0, 0.0, 0.999, step=0.05, help="Adam beta1 (StyleGAN2: 0)")
    beta2: float = param(0.99, 0.0, 0.9999, step=0.001, help="Adam beta2 (StyleGAN2: 0.99)")
    objective: str = param(
        "minimax", choices=("minimax",), help="the non-saturating logistic loss (StyleGAN2's; with R1 below)"
    )
    r1_gamma: float = param(
        10.0, 0.0, 1000.0, step=0.01, help="gamma of R1 on D (StyleGAN2: 10 at 1024 px, less at low resolution)"
    )
    r1_every: int = param(16, 1, 1000, help="lazy R1: every N discriminator steps, times N (StyleGAN2: 16)")
    ema_decay: float = param(
        0.999, 0.0, 0.9999, step=0.0001, help="decay of the moving average of G used for samples and metrics"
    )
    steps: int = param(20_000, 1, 10_000_000, help="generator updates")
    sample_every: int = param(1000, 1, 10_000_000, help="generate the fixed-noise grid every N steps")
    checkpoint_every: int = param(2000, 0, 10_000_000, help="save a checkpoint every N steps (0: only at the end)")

    def check(self) -> None:
        check_image_folder(self)
        if self.image_size & (self.image_size - 1):
            raise ValueError(
                f"StyleGAN2Config.image_size = {self.image_size} is not a power of two: the synthesis network "
                "doubles 4 x 4, so allowed values are 8, 16, 32, 64, 128, 256, 512, 1024"
            )
        if self.batch_size % min(self.group_size, self.batch_size):
            raise ValueError(
                f"StyleGAN2Config.batch_size = {self.batch_size} is not divisible by group_size = {self.group_size}: "
                "the minibatch-stddev layer needs whole groups"
            )
