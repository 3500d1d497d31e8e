"""Configs of chapters 6 and 7: WGAN (weight clipping), WGAN-GP (gradient penalty), the ResNet GAN."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

from gancourse.config.base import param, run_mode, smoke
from gancourse.config.gan import DCGAN_QUICK_NETWORKS, DCGANConfig


def check_spectral_critic(cfg: DCGANConfig) -> None:
    """A spectrally normalised critic has no normalisation layer: ``spectral_norm`` needs ``critic_norm = 'none'``."""
    if cfg.spectral_norm and cfg.critic_norm != "none":
        raise ValueError(
            f"{type(cfg).__name__}.spectral_norm = True with critic_norm = {cfg.critic_norm!r}: a normalisation layer "
            "rescales by 1/std and undoes the spectral bound; set critic_norm = 'none' (Miyato et al. 2018)"
        )


@dataclasses.dataclass(frozen=True)
class WGANConfig(DCGANConfig):
    """WGAN with weight clipping, Arjovsky et al. 2017, Alg. 1: RMSprop, alpha = 5e-5, c = 0.01, m = 64, n_critic = 5.

    The critic is the DCGAN discriminator without its sigmoid (ours never had one).
    """

    QUICK: ClassVar[Mapping[str, Any]] = {
        **DCGAN_QUICK_NETWORKS,
        # A generator step costs n_critic critic steps, and the paper's small RMSprop rate needs
        # thousands of generator steps: to fit the quick budget the critic is narrower, the batch
        # smaller, n_critic lower and the rate larger (tuning notes: book/results.md); full mode: Alg. 1.
        "steps": 500,
        "base_channels": 16,
        "batch_size": 32,
        "n_critic": 2,
        "lr_g": 2e-4,
        "lr_d": 2e-4,
    }

    optimizer: str = param(
        "rmsprop", choices=("adam", "rmsprop"), help="RMSprop (WGAN: momentum-based optimisers were unstable)"
    )
    lr_g: float = param(5e-5, 1e-6, 1.0, log=True, help="generator learning rate (WGAN: 5e-5)")
    lr_d: float = param(5e-5, 1e-6, 1.0, log=True, help="critic learning rate (WGAN: 5e-5)")
    #: full mode: Alg. 1 with G's moving average, 8,000 generator steps (chapter 6 with WGAN-GP: ~12 T4 minutes)
    FULL: ClassVar[Mapping[str, Any]] = {"steps": 8000, "ema_decay": 0.999}
    SMOKE: ClassVar[Mapping[str, Any]] = {"base_channels": 8}

    batch_size: int = param(64, 1, 4096, help="samples per update (WGAN: 64)")
    n_critic: int = param(5, 1, 100, help="critic updates per generator update (WGAN: 5)")
    objective: str = param(
        "wasserstein", choices=("wasserstein",), help="the Wasserstein critic's losses (this recipe's own)"
    )
    clip_value: float = param(0.01, 1e-4, 1.0, log=True, help="critic weights clipped to [-c, c] (WGAN: 0.01)")
    critic_norm: str = param(
        "batch", choices=("batch", "layer", "none"), help="normalisation in the critic (WGAN: DCGAN's batch norm)"
    )

    def check(self) -> None:
        super().check()
        check_spectral_critic(self)


@dataclasses.dataclass(frozen=True)
class WGANGPConfig(DCGANConfig):
    """WGAN-GP, Gulrajani et al. 2017, Alg. 1: lambda = 10, n_critic = 5, Adam 1e-4 with betas (0, 0.9), m = 64.

    No batch norm in the critic (Sec. 4: it would make the penalty per-batch instead of
    per-sample); layer norm is the paper's suggested drop-in.
    """

    QUICK: ClassVar[Mapping[str, Any]] = {
        **DCGAN_QUICK_NETWORKS,
        # The penalty's double backward makes a critic step several times a plain one: the quick
        # run shrinks width, batch and n_critic as for WGAN, and Adam's rate is raised to learn in
        # a few hundred steps (tuning notes: book/results.md); full mode keeps the paper's settings.
        "steps": 500,
        "base_channels": 16,
        "batch_size": 32,
        "n_critic": 2,
        "lr_g": 5e-4,
        "lr_d": 5e-4,
    }

    lr_g: float = param(1e-4, 1e-6, 1.0, log=True, help="generator Adam learning rate (WGAN-GP: 1e-4)")
    lr_d: float = param(1e-4, 1e-6, 1.0, log=True, help="critic Adam learning rate (WGAN-GP: 1e-4)")
    beta1: float = param(0.0, 0.0, 0.999, step=0.05, help="Adam beta1 (WGAN-GP: 0)")
    beta2: float = param(0.9, 0.0, 0.9999, step=0.001, help="Adam beta2 (WGAN-GP: 0.9)")
    #: full mode: Alg. 1 with G's moving average, 8,000 generator steps (chapter 6 with WGAN: ~12 T4 minutes)
    FULL: ClassVar[Mapping[str, Any]] = {"steps": 8000, "ema_decay": 0.999}
    SMOKE: ClassVar[Mapping[str, Any]] = {"base_channels": 8}

    batch_size: int = param(64, 1, 4096, help="samples per update (WGAN-GP: 64)")
    n_critic: int = param(5, 1, 100, help="critic updates per generator update (WGAN-GP: 5)")
    gp_weight: float = param(10.0, 0.0, 1000.0, step=0.5, help="lambda, the gradient penalty's weight (WGAN-GP: 10)")
    objective: str = param(
        "wasserstein", choices=("wasserstein",), help="the Wasserstein critic's losses (this recipe's own)"
    )
    critic_norm: str = param(
        "layer", choices=("layer", "none"), help="normalisation in the critic (no batch norm with GP)"
    )

    def check(self) -> None:
        super().check()
        check_spectral_critic(self)


@dataclasses.dataclass(frozen=True)
class ResNetGANConfig(WGANGPConfig):
    """The CIFAR-10 ResNet of Gulrajani et al. 2017 (App. F), trained with WGAN-GP's Alg. 1 settings.

    Width 128 in every block, z in R^128, no normalisation in the critic. The released
    CIFAR script also used lr 2e-4 decayed linearly to 0 over 100k steps; the default keeps
    Alg. 1's constant 1e-4 so that the ResNet and the DCGAN it is compared with share one
    optimiser, and :meth:`cifar10` gives the CIFAR-10 setting itself (``lr_decay_steps``).
    """

    QUICK: ClassVar[Mapping[str, Any]] = {
        **WGANGPConfig.QUICK,
        # A ResNet critic step with the gradient penalty costs more than a DCGAN one (3x3 convs at
        # full resolution, a double backward through all of them), so the quick run takes one critic
        # step per generator step and a smaller batch, which leaves time for enough generator steps
        # (tuning notes: book/results.md); full mode keeps the paper's n_critic = 5 and lr 1e-4.
        "steps": 400,
        "base_channels": 16,
        "batch_size": 16,
        "n_critic": 1,
        "lr_g": 3e-4,
        "lr_d": 3e-4,
        "sample_every": 50,
    }

    #: full mode: half the width (a quarter of the FLOPs), 1,200 steps, G's moving average: chapter 7's
    #: ResNet, its WGAN-GP comparison and the CIFAR-10 setting within a T4's ~15 minutes (gancourse.config.budget)
    FULL: ClassVar[Mapping[str, Any]] = {"steps": 1200, "base_channels": 64, "ema_decay": 0.999}

    objective: str = param(
        "wasserstein",
        choices=("wasserstein", "hinge"),
        help="WGAN-GP's losses (Gulrajani et al. 2017), or the hinge loss of SNGAN (Miyato et al. 2018, Eq. 16-17; "
        "with gp_weight = 0 and spectral_norm: :meth:`sngan`)",
    )
    latent_dim: int = param(128, 1, 1024, help="size of z (WGAN-GP CIFAR ResNet: 128)")
    base_channels: int = param(128, 4, 512, help="channels of every residual block (WGAN-GP CIFAR ResNet: 128)")
    critic_norm: str = param("none", choices=("layer", "none"), help="normalisation in the critic (CIFAR ResNet: none)")
    lr_decay_steps: int = param(
        0,
        0,
        10_000_000,
        help="decay both learning rates linearly to 0 over this many generator steps (WGAN-GP CIFAR script: "
        "100,000); 0 = constant (Alg. 1)",
    )

    @classmethod
    def cifar10(cls, mode: str | None = None, **overrides: Any) -> "ResNetGANConfig":
        """The CIFAR-10 setting of Gulrajani et al. 2017 (App. F and their released ``gan_cifar_resnet.py``).

        ResNet of width 128, z in R^128, WGAN-GP with lambda = 10 and n_critic = 5, Adam
        2e-4 with betas (0, 0.9) for G and critic, both rates decayed linearly to 0 over
        100,000 generator steps, batch 64, 32 x 32 colour images. It needs the network
        the first time (CIFAR-10 through torchvision) and a GPU (100k steps of five critic
        updates each). This is the paper-mode setting: no QUICK values are applied. With
        ``mode="full"`` it takes the class's ``FULL`` changes (width 64, 1,200 steps, the decay
        over those steps) to fit a T4's minutes; in full and paper mode ``$GANCOURSE_SMOKE`` caps it.
        Not followed from the released script: G's batch of 2 x 64 (here the critic's 64)
        and the U(0, 1/128) dequantisation noise added to the real images (none here).
        """
        paper = dict(
            dataset="cifar10",
            image_size=32,
            base_channels=128,
            latent_dim=128,
            n_critic=5,
            gp_weight=10.0,
            lr_g=2e-4,
            lr_d=2e-4,
            beta1=0.0,
            beta2=0.9,
            batch_size=64,
            steps=100_000,
            lr_decay_steps=100_000,
            critic_norm="none",
            sample_every=2_000,
            checkpoint_every=2_000,
        )
        if mode is not None and run_mode(mode) == "full":  # the same FULL changes, the decay over the shorter run
            paper.update(cls.FULL, lr_decay_steps=cls.FULL["steps"])
        cfg = cls(**{**paper, **overrides})
        return cfg.smoked() if mode is not None and run_mode(mode) != "quick" and smoke() else cfg

    @classmethod
    def sngan(cls, mode: str | None = None, **overrides: Any) -> "ResNetGANConfig":
        """SN-ResNet with the hinge loss (Miyato et al. 2018): this config in ``mode`` with a spectrally normalised
        critic, the hinge objective and no gradient penalty; everything else (Adam, n_critic, widths) as the
        WGAN-GP ResNet, so that the two differ only in how D is kept Lipschitz and in its loss. Miyato et al.
        train their ResNets with the same Adam settings as Gulrajani et al. (2e-4, betas (0, 0.9), n_dis = 5).
        """
        sngan = {"objective": "hinge", "spectral_norm": True, "gp_weight": 0.0, "critic_norm": "none"}
        return cls.for_mode(mode, **{**sngan, **overrides})

    def check(self) -> None:
        super().check()
        if self.objective == "hinge" and self.gp_weight:
            raise ValueError(
                f"ResNetGANConfig.objective = 'hinge' with gp_weight = {self.gp_weight}: the gradient penalty belongs "
                "to the Wasserstein objective; set gp_weight = 0 (SNGAN keeps D Lipschitz with spectral_norm = True)"
            )
        if self.lr_decay_steps and self.lr_decay_steps < self.steps:
            raise ValueError(
                f"ResNetGANConfig.lr_decay_steps = {self.lr_decay_steps} is below steps = {self.steps}: the learning "
                "rates would reach 0 before the end; allowed 0 (constant) or lr_decay_steps >= steps"
            )
