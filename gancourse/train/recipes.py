"""Recipes: the models, data and objective of each chapter's GAN, built into a trainer.

Each builder takes its config and returns a ready :class:`~gancourse.train.loop.GANTrainer`
(or a subclass) whose ``data`` (:class:`~gancourse.train.loop.RunData`) holds what
the chapter needs besides the trainer. :func:`load_or_train` runs a recipe through
the checkpoint cache, so a finished run is loaded instead of retrained.

=====================  ==========  ==============================================
builder                chapter     paper
=====================  ==========  ==============================================
``toy_gan``            4           Goodfellow et al. 2014, on a 2-D mixture
``mlp_gan``            4           Goodfellow et al. 2014, on MNIST
``dcgan``              5           Radford et al. 2015
``wgan`` / ``wgan_gp`` 6           Arjovsky et al. 2017 / Gulrajani et al. 2017
``resnet_gan``         7           Gulrajani et al. 2017, App. F
``conditional_gan``    8           Mirza & Osindero 2014; Miyato & Koyama 2018
``pix2pix``            8           Isola et al. 2017
``progan``             9           Karras et al. 2018
=====================  ==========  ==============================================
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import torch

from gancourse.checkpoints import checkpoint_dir, config_key
from gancourse.config import (
    ConditionalGANConfig,
    DataConfig,
    DCGANConfig,
    GANConfig,
    MLPGANConfig,
    Pix2PixConfig,
    ProGANConfig,
    ResNetGANConfig,
    ToyGANConfig,
    WGANConfig,
    WGANGPConfig,
)
from gancourse.data import SPECS, ImageFiles, edge_pairs, grid_of_gaussians, preload, ring_of_gaussians
from gancourse.device import seed_everything
from gancourse.losses import Pix2PixObjective, WassersteinObjective
from gancourse.models import (
    ConditionalDiscriminator,
    ConditionalGenerator,
    DCGANDiscriminator,
    DCGANGenerator,
    MLPDiscriminator,
    MLPGenerator,
    PatchDiscriminator,
    ProDiscriminator,
    ProGenerator,
    ResNetCritic,
    ResNetGenerator,
    UNetGenerator,
)
from gancourse.train.loop import GANTrainer, RunData, TensorSampler
from gancourse.train.paired import Pix2PixTrainer
from gancourse.train.progressive import ProgressiveTrainer


def load_or_train(
    name: str,
    cfg: GANConfig,
    build: Callable[..., GANTrainer],
    force: bool = False,
    directory: str | os.PathLike | None = None,
    device: torch.device | None = None,
    progress: bool = True,
) -> GANTrainer:
    """A trained trainer for ``cfg``: loaded from the checkpoint cache when one exists, else trained.

    A finished checkpoint is loaded and not retrained (``force=True`` retrains from
    scratch); an unfinished one, left by an interrupted run, is resumed from its step.
    This is how full-mode results trained once on a GPU reach a reader on a CPU.
    """
    path = Path(directory or checkpoint_dir()) / f"{name}-{config_key(cfg)}.pt"
    trainer = build(cfg, device=device, checkpoint_path=path)
    if force:
        path.unlink(missing_ok=True)
    if path.exists():
        step = trainer.load()
        verb = "loaded the finished run" if step >= cfg.steps else f"resuming the interrupted run from step {step}"
        print(f"{name}: {verb} ({path})")
    else:
        print(f"{name}: training {cfg.steps} steps on {trainer.device} (checkpoint: {path})")
    trainer.train(progress=progress)
    return trainer


# Chapter 4: the first GANs


def toy_gan(cfg: ToyGANConfig, device: torch.device | None = None, checkpoint_path=None, **kwargs) -> GANTrainer:
    """MLP generator and discriminator on a 2-D mixture of Gaussians."""
    mixture = ring_of_gaussians() if cfg.mixture == "ring" else grid_of_gaussians()
    seed_everything(cfg.seed)
    generator = MLPGenerator(cfg.latent_dim, cfg.hidden, out_shape=(2,), n_hidden=3, image_output=False)
    discriminator = MLPDiscriminator((2,), cfg.hidden, n_hidden=3, **_minibatch(cfg))
    kwargs.setdefault("n_fixed", 1000)  # enough points to see the modes in a scatter plot
    return GANTrainer(
        generator, discriminator, mixture.sample, cfg, device=device, checkpoint_path=checkpoint_path,
        data=RunData(mixture=mixture), **kwargs,
    )


def _minibatch(cfg: GANConfig) -> dict[str, int]:
    """Minibatch discrimination's B and C for a discriminator (Salimans et al. 2016, Sec. 3.2); B = 0: off."""
    return {"minibatch_kernels": cfg.minibatch_kernels, "minibatch_kernel_dims": cfg.minibatch_kernel_dims}


def _images(cfg: MLPGANConfig | DCGANConfig) -> TensorSampler:
    images, _ = preload(DataConfig(dataset=cfg.dataset, image_size=cfg.image_size, limit=cfg.data_limit))
    return TensorSampler(images)


def mlp_gan(cfg: MLPGANConfig, device: torch.device | None = None, checkpoint_path=None, **kwargs) -> GANTrainer:
    """Fully connected G and D on MNIST-family images."""
    seed_everything(cfg.seed)
    shape = (1, cfg.image_size, cfg.image_size)
    generator = MLPGenerator(cfg.latent_dim, cfg.hidden, out_shape=shape, n_hidden=3)
    discriminator = MLPDiscriminator(shape, cfg.hidden, n_hidden=2, **_minibatch(cfg))
    return GANTrainer(generator, discriminator, _images(cfg), cfg, device=device, checkpoint_path=checkpoint_path, **kwargs)


def dcgan(cfg: DCGANConfig, device: torch.device | None = None, checkpoint_path=None, **kwargs) -> GANTrainer:
    """The DCGAN of Radford et al. 2015 on MNIST-family images."""
    seed_everything(cfg.seed)
    generator = DCGANGenerator(cfg.latent_dim, cfg.base_channels, cfg.image_size)
    discriminator = DCGANDiscriminator(cfg.base_channels, cfg.image_size, **_minibatch(cfg))
    return GANTrainer(generator, discriminator, _images(cfg), cfg, device=device, checkpoint_path=checkpoint_path, **kwargs)


# Chapters 6 and 7: WGAN, WGAN-GP, ResNet GAN


def wgan(cfg: WGANConfig | WGANGPConfig, device: torch.device | None = None, checkpoint_path=None, **kwargs) -> GANTrainer:
    """WGAN (Arjovsky et al. 2017, Alg. 1) or, for a WGANGPConfig, WGAN-GP (Gulrajani et al. 2017, Alg. 1).

    The DCGAN networks; the discriminator, read without a sigmoid, is the critic.
    WGAN clips every critic weight to [-c, c] after each critic step; WGAN-GP
    instead adds lambda * E[(||grad f(x^)|| - 1)^2] to the critic's loss, and its
    critic has layer norm (or none) instead of batch norm (``cfg.critic_norm``).
    """
    seed_everything(cfg.seed)
    generator = DCGANGenerator(cfg.latent_dim, cfg.base_channels, cfg.image_size)
    critic = DCGANDiscriminator(cfg.base_channels, cfg.image_size, norm=cfg.critic_norm)
    if isinstance(cfg, WGANGPConfig):
        objective = WassersteinObjective(gp_weight=cfg.gp_weight)
    else:
        objective = WassersteinObjective(clip_value=cfg.clip_value)
    return GANTrainer(
        generator, critic, _images(cfg), cfg, objective=objective, device=device, checkpoint_path=checkpoint_path, **kwargs
    )


def wgan_gp(cfg: WGANGPConfig, device: torch.device | None = None, checkpoint_path=None, **kwargs) -> GANTrainer:
    """WGAN-GP with the DCGAN networks: :func:`wgan` with a WGANGPConfig."""
    if not isinstance(cfg, WGANGPConfig):
        raise TypeError(f"wgan_gp needs a WGANGPConfig, got {type(cfg).__name__}")
    return wgan(cfg, device, checkpoint_path, **kwargs)


def resnet_gan(cfg: ResNetGANConfig, device: torch.device | None = None, checkpoint_path=None, **kwargs) -> GANTrainer:
    """The WGAN-GP CIFAR ResNet (Gulrajani et al. 2017, App. F) on MNIST-family images, ``cfg``: ResNetGANConfig."""
    seed_everything(cfg.seed)
    generator = ResNetGenerator(cfg.latent_dim, cfg.base_channels, cfg.image_size)
    critic = ResNetCritic(cfg.base_channels, cfg.image_size, norm=cfg.critic_norm)
    objective = WassersteinObjective(gp_weight=cfg.gp_weight)
    return GANTrainer(
        generator, critic, _images(cfg), cfg, objective=objective, device=device, checkpoint_path=checkpoint_path, **kwargs
    )


def seconds_per_step(
    build: Callable[..., GANTrainer], cfg: GANConfig, device: torch.device | None = None, steps: int = 3
) -> float:
    """Wall-clock seconds per generator update (its ``n_critic`` critic updates included) of a fresh run.

    Equal steps are not equal compute: this is the price of one step on ``device``,
    averaged over ``steps`` steps after one warm-up step, with no checkpoint written.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps = {steps!r} is out of range: allowed steps >= 1 (an integer)")
    trainer = build(cfg, device=device)
    trainer.train_step()  # warm-up: first-call allocations and kernel selection
    sync = torch.cuda.synchronize if trainer.device.type == "cuda" else (lambda: None)
    sync()
    start = time.perf_counter()
    for _ in range(steps):
        trainer.train_step()
    sync()
    return (time.perf_counter() - start) / steps


# Chapter 8: conditional GAN, pix2pix


def class_rows(n_classes: int, per_class: int) -> torch.Tensor:
    """Labels 0, ..., 0, 1, ..., 1, ...: ``per_class`` of each, so an ``nrow=per_class`` grid has one row per class."""
    return torch.arange(n_classes).repeat_interleave(per_class)  # (n_classes * per_class,)


def conditional_gan(cfg: ConditionalGANConfig, device: torch.device | None = None, checkpoint_path=None, **kwargs) -> GANTrainer:
    """Class-conditional DCGAN (Mirza & Osindero 2014; projection D of Miyato & Koyama 2018) on MNIST-family data.

    Real batches are ``(images, labels)``; G draws the fakes of a batch for the same
    labels. The fixed sample grid has 8 samples of each class (``trainer.samples``
    images in class order: ``nrow=8`` shows one row per class); ``trainer.data.classes``
    names the classes.
    """
    n_classes = len(SPECS[cfg.dataset].classes)
    images, labels = preload(DataConfig(dataset=cfg.dataset, image_size=cfg.image_size, limit=cfg.data_limit))
    seed_everything(cfg.seed)
    generator = ConditionalGenerator(cfg.latent_dim, n_classes, cfg.base_channels, cfg.image_size, embed_dim=cfg.embed_dim)
    discriminator = ConditionalDiscriminator(
        n_classes, cfg.base_channels, cfg.image_size, projection=cfg.projection, embed_dim=cfg.embed_dim
    )
    per_class = kwargs.pop("per_class", 8)
    kwargs.setdefault("n_fixed", n_classes * per_class)
    kwargs.setdefault("fixed_condition", class_rows(n_classes, kwargs["n_fixed"] // n_classes))
    return GANTrainer(
        generator, discriminator, TensorSampler(images, labels), cfg, device=device, checkpoint_path=checkpoint_path,
        data=RunData(classes=tuple(SPECS[cfg.dataset].classes)), **kwargs,
    )


def pix2pix(cfg: Pix2PixConfig, device: torch.device | None = None, checkpoint_path=None, **kwargs) -> Pix2PixTrainer:
    """pix2pix (Isola et al. 2017) on edges -> images: Sobel edges of MNIST-family images as input, the image as target.

    The fixed batch is the first ``n_fixed`` (16) test pairs: ``trainer.fixed_condition``
    holds their edges and ``trainer.data.fixed_target`` their images.
    """
    data_cfg = DataConfig(dataset=cfg.dataset, image_size=cfg.image_size, limit=cfg.data_limit)
    edges, images, _ = edge_pairs(data_cfg, "train", cfg.edge_threshold)
    n_fixed = kwargs.setdefault("n_fixed", 16)
    test_edges, test_images, _ = edge_pairs(data_cfg.replace(limit=n_fixed), "test", cfg.edge_threshold)
    kwargs.setdefault("fixed_condition", test_edges)
    seed_everything(cfg.seed)
    generator = UNetGenerator(1, 1, cfg.base_channels, cfg.image_size, cfg.norm, cfg.dropout, cfg.test_dropout)
    discriminator = PatchDiscriminator(2, cfg.base_channels, cfg.d_layers, cfg.norm)
    objective = Pix2PixObjective(cfg.l1_weight, cfg.adversarial, cfg.d_loss_factor)
    fixed_target = test_images if kwargs["fixed_condition"] is test_edges else None
    return Pix2PixTrainer(
        generator,
        discriminator,
        TensorSampler(images, edges),  # (target, input) pairs
        cfg,
        objective=objective,
        device=device,
        checkpoint_path=checkpoint_path,
        data=RunData(fixed_target=fixed_target),
        **kwargs,
    )


# Chapter 9: ProGAN


def _progan_images(cfg: ProGANConfig) -> tuple[TensorSampler, int]:
    """Real images at the target size (``cfg``: ProGANConfig) and their number of channels."""
    if cfg.dataset == "folder":
        files = ImageFiles(cfg.image_folder, cfg.image_size)
        n = len(files) if not cfg.data_limit else min(cfg.data_limit, len(files))
        return TensorSampler(torch.stack([files[i][0] for i in range(n)])), 3  # (N, 3, S, S)
    images, _ = preload(DataConfig(dataset=cfg.dataset, image_size=cfg.image_size, limit=cfg.data_limit))
    return TensorSampler(images), 1


def progan(cfg: ProGANConfig, device: torch.device | None = None, checkpoint_path=None, **kwargs) -> ProgressiveTrainer:
    """ProGAN (Karras et al. 2018) on MNIST-family images or a folder, ``cfg``: ProGANConfig."""
    real, channels = _progan_images(cfg)
    seed_everything(cfg.seed)
    generator = ProGenerator(
        cfg.latent_dim, cfg.image_size, channels, cfg.fmap_base, cfg.fmap_max, cfg.equalized_lr, cfg.pixel_norm
    )
    discriminator = ProDiscriminator(
        cfg.image_size, channels, cfg.fmap_base, cfg.fmap_max, cfg.equalized_lr, cfg.minibatch_std, cfg.group_size
    )
    objective = WassersteinObjective(gp_weight=cfg.gp_weight, drift=cfg.drift)
    return ProgressiveTrainer(
        generator, discriminator, real, cfg, objective=objective, device=device, checkpoint_path=checkpoint_path, **kwargs
    )
