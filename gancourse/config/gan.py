"""Configs of chapters 4 and 5: what every GAN run shares, the toy GAN, the MLP GAN, DCGAN."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

from gancourse.config.base import Config, param, run_mode
from gancourse.config.basics import IMAGE_DATASETS, check_image_folder

#: The DiffAugment policies a GAN config accepts (Zhao et al. 2020): "" (off) and every combination of
#: its three ops, in the order they are applied (the names of :data:`gancourse.augment.POLICIES`).
DIFF_AUGMENT_POLICIES = (
    "",
    "color",
    "translation",
    "cutout",
    "color,translation",
    "color,cutout",
    "translation,cutout",
    "color,translation,cutout",
)


@dataclasses.dataclass(frozen=True)
class GANConfig(Config):
    """What every GAN run shares: the optimisation schedule, the losses' options, logging.

    The stabilisation options of chapter 12 live here too: ``objective``, ``feature_matching``,
    ``minibatch_kernels`` and ``historical_averaging``. A recipe whose GAN cannot use one
    (a conditional discriminator has no minibatch discrimination) refuses it by name.
    So do the regularisers every GAN can take: the R1 penalty on D (``r1_gamma``, lazily every
    ``r1_every`` D steps; Mescheder et al. 2018, Karras et al. 2020) and DiffAugment
    (``diff_augment``, Zhao et al. 2020), built around the objective by
    :func:`gancourse.train.make_objective`.

    Defaults follow Radford et al. 2015 (Adam, lr 2e-4, beta1 0.5, batch 128) unless a
    subclass says otherwise. ``steps`` counts generator updates; each is preceded by
    ``n_critic`` discriminator updates (Goodfellow et al. 2014, Alg. 1: k = 1).
    The batch size and the size of z are declared by the configs that use them
    (ProGAN's batch size depends on the resolution; pix2pix has no z).

    ``reuse_fake`` (default False): with ``n_critic = 1`` the generator's update goes
    through the same fake batch the discriminator step has just used, as the
    ``dcgan/main.py`` of pytorch/examples and the pix2pix code of Isola et al. do,
    instead of a fresh minibatch of noise as Alg. 1 writes it. G has not changed since
    the batch was drawn, so it is a sample of the current generator; the difference is
    that D has just taken one step on this very batch, which correlates the generator's
    gradient with D's last update (a small effect at k = 1, and the setting most DCGAN
    code trains with). Reusing saves one generator forward (and its batch-norm update)
    per step (measured in ``python -m gancourse.bench.train``). It changes which noise is drawn,
    so a run with ``reuse_fake=False`` is a different (equally reproducible) run: the
    flag is part of the config, and so of the checkpoint's key. With ``n_critic > 1``
    (WGAN, WGAN-GP: their Alg. 1 draws fresh noise for the generator) it has no effect.
    The default is Alg. 1 as chapter 4 teaches it, the algorithm the chapters' quick
    settings were tuned with; ``reuse_fake=True`` is the speed lever (the results page
    compares both with the pytorch/examples loop, and chapter 4 says what it changes).
    pix2pix reuses by default, as its authors' code does.

    ``ema_decay`` (default 0, off): keep an exponential moving average of the
    generator's weights, theta_ema <- beta theta_ema + (1 - beta) theta, after every
    generator update, and sample and evaluate with it (Karras et al. 2018, App. A.1,
    decay 0.999; Yazici et al. 2019 show that it helps GANs in general: the average
    smooths the generator's oscillation around the equilibrium). beta is warmed up as
    min(ema_decay, (1 + t) / (10 + t)) after t updates, so that the average of a short
    run is not dominated by the random initialisation. Batch-norm running statistics are
    not weights: before the average samples they are recomputed for its own weights on
    fixed-seed noise (:meth:`gancourse.train.GeneratorAverage.recompute_batch_norm`).
    """

    steps: int = param(5000, 1, 10_000_000, help="generator updates")
    optimizer: str = param("adam", choices=("adam", "rmsprop"), help="Adam (DCGAN, WGAN-GP) or RMSprop (WGAN)")
    lr_g: float = param(2e-4, 1e-6, 1.0, log=True, help="generator learning rate (DCGAN: 2e-4)")
    lr_d: float = param(2e-4, 1e-6, 1.0, log=True, help="discriminator learning rate (DCGAN: 2e-4)")
    beta1: float = param(0.5, 0.0, 0.999, step=0.05, help="Adam beta1 (DCGAN: 0.5; Adam's default 0.9)")
    beta2: float = param(0.999, 0.0, 0.9999, step=0.001, help="Adam beta2")
    n_critic: int = param(1, 1, 100, help="discriminator updates per generator update (k in Alg. 1)")
    generator_loss: str = param(
        "non_saturating",
        choices=("non_saturating", "saturating"),
        help="G maximises log D(G(z)), or minimises log(1 - D(G(z)))",
    )
    label_smoothing: float = param(
        0.0, 0.0, 0.5, step=0.05, help="one-sided: real targets 1 - s (Salimans et al. 2016); 0 = off"
    )
    objective: str = param(
        "minimax",
        choices=("minimax", "least_squares", "hinge"),
        help="the losses: minimax (Goodfellow et al. 2014), least squares (LSGAN, Mao et al. 2017: a = 0, b = c = 1) "
        "or hinge (Lim & Ye 2017; SNGAN, Miyato et al. 2018, Eq. 16-17)",
    )
    r1_gamma: float = param(
        0.0,
        0.0,
        1000.0,
        step=0.1,
        help="gamma of the R1 penalty gamma/2 E_real ||grad_x D(x)||^2 on D (Mescheder et al. 2018, Eq. 9; "
        "StyleGAN2: 10 at 1024 px); 0 = off",
    )
    r1_every: int = param(
        1,
        1,
        1000,
        help="lazy R1: the penalty, times this factor, only every N discriminator steps (Karras et al. 2020, "
        "Sec. 3.1: 16); 1 = every step",
    )
    diff_augment: str = param(
        "",
        choices=DIFF_AUGMENT_POLICIES,
        help="DiffAugment policy: the same random colour, translation and/or cutout on every image D sees, real and "
        "fake, in D's and G's steps (Zhao et al. 2020: all three for small data); '' = off",
    )
    feature_matching: bool = param(
        False, help="G matches the mean of D's last hidden layer on real data (Salimans et al. 2016, Sec. 3.1)"
    )
    minibatch_kernels: int = param(
        0, 0, 1024, help="B, minibatch-discrimination kernels on D's last hidden layer (Salimans et al.: 100); 0 = off"
    )
    minibatch_kernel_dims: int = param(
        5, 1, 256, help="C, the dimensions of each minibatch-discrimination kernel (Salimans et al.: 5)"
    )
    historical_averaging: float = param(
        0.0,
        0.0,
        10.0,
        step=0.001,
        help="weight of ||theta - mean of past theta||^2 in both players' losses (Salimans et al., Sec. 3.3); 0 = off",
    )
    ema_decay: float = param(
        0.0,
        0.0,
        0.9999,
        step=0.0001,
        help="decay of the exponential moving average of G's weights that samples and metrics use (Karras et al. "
        "2018, App. A.1: 0.999), warmed up as min(decay, (1 + t) / (10 + t)); 0 = off",
    )
    freeze_d_in_g_step: bool = param(True, help="requires_grad_(False) on D while G is updated (saves work)")
    reuse_fake: bool = param(
        False,
        help="n_critic = 1: G's update goes through the fake batch D was just trained on (pytorch/examples DCGAN, "
        "pix2pix; one G forward fewer) instead of fresh z (Alg. 1); n_critic > 1 always draws fresh z",
    )
    log_every: int = param(10, 1, 100_000, help="record losses every N steps")
    sample_every: int = param(250, 1, 10_000_000, help="generate the fixed-noise grid every N steps")
    checkpoint_every: int = param(500, 0, 10_000_000, help="save a checkpoint every N steps (0: only at the end)")
    amp: bool = param(
        False, help="mixed precision: bf16 (else fp16) autocast on CUDA, bf16 on CPU (fast only with AMX/AVX512-BF16)"
    )
    channels_last: bool = param(False, help="channels_last (NHWC) memory format on CUDA and CPU (not MPS)")
    seed: int = param(0, 0, 2**31 - 1, help="random seed")


@dataclasses.dataclass(frozen=True)
class ToyGANConfig(GANConfig):
    """The first GAN: MLPs on a 2-D mixture of Gaussians (ring: Metz et al. 2017; grid: Dumoulin et al. 2017)."""

    QUICK: ClassVar[Mapping[str, Any]] = {"steps": 2000}

    mixture: str = param("ring", choices=("ring", "grid"), help="8 Gaussians on a ring or a 5 x 5 grid")
    hidden: int = param(128, 4, 1024, help="units per hidden layer")
    steps: int = param(5000, 1, 10_000_000, help="generator updates")
    batch_size: int = param(256, 1, 4096, help="samples per update")
    latent_dim: int = param(8, 1, 256, help="size of z")
    lr_g: float = param(1e-3, 1e-6, 1.0, log=True, help="generator Adam learning rate")
    lr_d: float = param(1e-3, 1e-6, 1.0, log=True, help="discriminator Adam learning rate")
    sample_every: int = param(100, 1, 10_000_000, help="snapshot the fixed-noise samples every N steps")
    checkpoint_every: int = param(0, 0, 10_000_000, help="save a checkpoint every N steps (0: only at the end)")
    objective: str = param(
        "minimax",
        choices=("minimax", "least_squares", "hinge", "wasserstein_gp"),
        help="minimax GAN, least squares (LSGAN), hinge (SNGAN) or WGAN-GP (Gulrajani et al. 2017 trained on this "
        "ring too)",
    )
    gp_weight: float = param(
        10.0, 0.0, 1000.0, step=0.5, help="lambda, the penalty's weight with objective='wasserstein_gp' (WGAN-GP: 10)"
    )
    diff_augment: str = param(
        "", choices=("",), help="off: DiffAugment transforms images, the toy GAN's data are points"
    )


@dataclasses.dataclass(frozen=True)
class MLPGANConfig(GANConfig):
    """Goodfellow et al. 2014's setting on MNIST: fully connected G and D (ours: LeakyReLU, no maxout)."""

    QUICK: ClassVar[Mapping[str, Any]] = {"steps": 1500, "data_limit": 10_000, "hidden": 256, "batch_size": 64}
    SMOKE: ClassVar[Mapping[str, Any]] = {"hidden": 16}

    batch_size: int = param(128, 1, 4096, help="real and fake samples per update")
    latent_dim: int = param(100, 1, 1024, help="size of z")
    dataset: str = param("mnist", choices=IMAGE_DATASETS, help="training images ('folder': image_folder)")
    image_folder: str = param("", help="with dataset='folder': a folder of images (any size, centre-cropped, RGB)")
    image_size: int = param(32, 8, 128, help="side of the images")
    data_limit: int = param(0, 0, 10_000_000, help="use the first N training images (0 = all)")
    hidden: int = param(512, 16, 4096, help="units of the widest hidden layer")

    def check(self) -> None:
        check_image_folder(self)


#: The quick-mode width and data of the DCGAN networks, shared by the configs built on them (WGAN,
#: WGAN-GP, the ResNet GAN, the conditional GAN); each adds its own quick steps and rates.
DCGAN_QUICK_NETWORKS: Mapping[str, Any] = {
    "base_channels": 32,  # the narrowest width that draws digits within the quick budget (book/results.md)
    "batch_size": 64,
    "data_limit": 20_000,
    "sample_every": 100,
}


@dataclasses.dataclass(frozen=True)
class DCGANConfig(GANConfig):
    """Radford et al. 2015: strided convolutions, batch norm, Adam 2e-4 / beta1 0.5, batch 128, z in R^100."""

    QUICK: ClassVar[Mapping[str, Any]] = {
        **DCGAN_QUICK_NETWORKS,
        "steps": 800,
        # a short run learns faster at a larger rate, and its moving average (chapter 9) smooths the
        # oscillation that rate brings; 0.99 remembers the last ~100 steps (tuning notes: book/results.md)
        "lr_g": 5e-4,
        "lr_d": 5e-4,
        "ema_decay": 0.99,
    }
    #: full mode: the paper's networks and rates with G's moving average (Karras et al. 2018; Yazici et al. 2019),
    #: 4,000 steps so that chapter 5's four runs fit a T4's 15 minutes (gancourse.config.budget)
    FULL: ClassVar[Mapping[str, Any]] = {"steps": 4000, "ema_decay": 0.999}
    SMOKE: ClassVar[Mapping[str, Any]] = {"base_channels": 8}

    batch_size: int = param(128, 1, 4096, help="real and fake samples per update (DCGAN: 128)")
    latent_dim: int = param(100, 1, 1024, help="size of z (DCGAN: 100)")
    dataset: str = param("mnist", choices=IMAGE_DATASETS, help="training images ('folder': image_folder)")
    image_folder: str = param("", help="with dataset='folder': a folder of images (any size, centre-cropped, RGB)")
    image_size: int = param(32, 16, 128, help="side of the images: a power of two (32 for MNIST, 64 option)")
    data_limit: int = param(0, 0, 10_000_000, help="use the first N training images (0 = all)")
    base_channels: int = param(64, 4, 512, help="channels of the widest-resolution layer (paper: 128 at 64 px)")
    channels_last: bool = param(
        True, help="channels_last (NHWC) memory format on CUDA and CPU: faster convolutions (bench.train), same math"
    )
    spectral_norm: bool = param(
        False,
        help="spectral normalisation of every weight of D, by one power-iteration step per forward (Miyato et al. "
        "2018); the DCGAN discriminator then has no batch norm, as SNGAN's has none",
    )

    @classmethod
    def diff_augment_runs(cls, mode: str | None = None, train_images: int = 0) -> "DCGANConfig":
        """Chapter 5's DiffAugment runs (Zhao et al. 2020) on the emoji, before the policy is set.

        Full and paper mode train on the first tenth of the ``train_images`` training emoji, the
        regime of the paper's 10 % experiments: paper mode at 64 x 64 for the class's steps, full
        mode at the emoji's 32 x 32 for 2,000 steps, so that three runs fit the chapter's T4 minutes
        (:mod:`gancourse.config.budget`). Quick mode: all emoji, 100 steps of batch 32.
        """
        if run_mode(mode) == "quick":
            return cls.for_mode(mode, dataset="emoji", steps=100, batch_size=32)
        tenth = {"dataset": "emoji", "data_limit": max(1, train_images // 10)}
        if run_mode(mode) == "full":
            return cls.for_mode(mode, image_size=32, steps=2000, **tenth)
        return cls.for_mode(mode, image_size=64, **tenth)

    def check(self) -> None:
        check_image_folder(self)
        if self.image_size & (self.image_size - 1):
            raise ValueError(
                f"DCGANConfig.image_size = {self.image_size} is not supported: the architecture doubles "
                "4 x 4 up to the image size, so allowed values are 16, 32, 64, 128"
            )


@dataclasses.dataclass(frozen=True)
class LatentArithmeticConfig(Config):
    """Which samples of a fixed noise batch enter ``z_a - z_b + z_c`` (Radford et al. 2015, Sec. 6.3)."""

    a: int = param(0, 0, 63, help="index of z_a in the fixed batch")
    b: int = param(1, 0, 63, help="index of z_b (subtracted)")
    c: int = param(2, 0, 63, help="index of z_c (added)")
