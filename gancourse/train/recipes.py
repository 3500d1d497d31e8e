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

import dataclasses
import os
import re
import time
from collections.abc import Callable
from pathlib import Path

import torch

from gancourse.checkpoints import CheckpointError, checkpoint_dir, config_key
from gancourse.checks import check_positive_int
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
from gancourse.data import (
    dataset_channels,
    dataset_classes,
    edge_pairs,
    emoji_pairs,
    grid_of_gaussians,
    paired_folder,
    preload,
    ring_of_gaussians,
)
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

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")  # a file-name stem: no folders, no leading dot


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

    A finished checkpoint is loaded and not retrained; an unfinished one, left by an
    interrupted run, is resumed from its step. This is how full-mode results trained
    once on a GPU reach a reader on a CPU. ``name`` is a plain file-name stem
    (letters, digits, ``-``, ``_``, ``.``), so a checkpoint never lands outside
    ``directory``.

    ``force=True`` retrains from scratch into a side file (``<name>-<key>.retrain.pt``)
    and replaces the finished checkpoint only when the new run has finished: an
    interrupted retrain leaves the old result in place. If only the final save fails
    (a full disk), the message says where, and the trained trainer is returned.
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(
            f"name = {name!r} is not allowed: use a plain file-name stem of letters, digits, '-', '_' and '.' "
            "(no folders, not starting with '.'); pass directory= to choose the folder"
        )
    path = Path(directory or checkpoint_dir()) / f"{name}-{config_key(cfg)}.pt"
    target = path.with_name(f"{path.stem}.retrain.pt") if force else path
    trainer = build(cfg, device=device, checkpoint_path=target)
    if force:
        target.unlink(missing_ok=True)  # an earlier interrupted retrain: start from scratch, as asked
        kept = f"; {path} stays until the new run finishes" if path.exists() else ""
        print(f"{name}: retraining {cfg.steps} steps on {trainer.device} (checkpoint: {target}{kept})")
    elif path.exists():
        step = trainer.load()
        verb = "loaded the finished run" if step >= cfg.steps else f"resuming the interrupted run from step {step}"
        print(f"{name}: {verb} ({path})")
    else:
        print(f"{name}: training {cfg.steps} steps on {trainer.device} (checkpoint: {path})")
    try:
        trainer.train(progress=progress)
    except CheckpointError as err:
        if trainer.step < cfg.steps:
            raise  # stopped before the end: the error is about more than the final save
        print(f"{name}: WARNING: {err}")
        return trainer
    if force:
        os.replace(target, path)  # atomic: the finished retrain takes the old result's place
        trainer.checkpoint_path = path
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
        generator,
        discriminator,
        mixture.sample,
        cfg,
        device=device,
        checkpoint_path=checkpoint_path,
        data=RunData(mixture=mixture),
        **kwargs,
    )


def _minibatch(cfg: GANConfig) -> dict[str, int]:
    """Minibatch discrimination's B and C for a discriminator (Salimans et al. 2016, Sec. 3.2); B = 0: off."""
    return {"minibatch_kernels": cfg.minibatch_kernels, "minibatch_kernel_dims": cfg.minibatch_kernel_dims}


def _data_config(cfg) -> DataConfig:
    """The DataConfig of a GAN config: its data set, size, limit and (for 'folder') folder."""
    return DataConfig(
        dataset=cfg.dataset, image_size=cfg.image_size, limit=cfg.data_limit, image_folder=cfg.image_folder
    )


def _images(cfg: MLPGANConfig | DCGANConfig) -> TensorSampler:
    images, _ = preload(_data_config(cfg))  # (N, C, S, S): C = 1 for MNIST-family, 3 for colour data
    return TensorSampler(images)


def mlp_gan(cfg: MLPGANConfig, device: torch.device | None = None, checkpoint_path=None, **kwargs) -> GANTrainer:
    """Fully connected G and D on MNIST-family images."""
    seed_everything(cfg.seed)
    shape = (dataset_channels(cfg.dataset), cfg.image_size, cfg.image_size)
    generator = MLPGenerator(cfg.latent_dim, cfg.hidden, out_shape=shape, n_hidden=3)
    discriminator = MLPDiscriminator(shape, cfg.hidden, n_hidden=2, **_minibatch(cfg))
    return GANTrainer(
        generator, discriminator, _images(cfg), cfg, device=device, checkpoint_path=checkpoint_path, **kwargs
    )


def dcgan(cfg: DCGANConfig, device: torch.device | None = None, checkpoint_path=None, **kwargs) -> GANTrainer:
    """The DCGAN of Radford et al. 2015 on the images ``cfg.dataset`` names (channels follow the data)."""
    seed_everything(cfg.seed)
    channels = dataset_channels(cfg.dataset)
    generator = DCGANGenerator(cfg.latent_dim, cfg.base_channels, cfg.image_size, channels=channels)
    norm = "none" if cfg.spectral_norm else "batch"  # SNGAN's D has no batch norm
    discriminator = DCGANDiscriminator(
        cfg.base_channels,
        cfg.image_size,
        channels=channels,
        norm=norm,
        spectral_norm=cfg.spectral_norm,
        **_minibatch(cfg),
    )
    return GANTrainer(
        generator, discriminator, _images(cfg), cfg, device=device, checkpoint_path=checkpoint_path, **kwargs
    )


# Chapters 6 and 7: WGAN, WGAN-GP, ResNet GAN


def wgan(
    cfg: WGANConfig | WGANGPConfig, device: torch.device | None = None, checkpoint_path=None, **kwargs
) -> GANTrainer:
    """WGAN (Arjovsky et al. 2017, Alg. 1) or, for a WGANGPConfig, WGAN-GP (Gulrajani et al. 2017, Alg. 1).

    The DCGAN networks; the discriminator, read without a sigmoid, is the critic.
    WGAN clips every critic weight to [-c, c] after each critic step; WGAN-GP
    instead adds lambda * E[(||grad f(x^)|| - 1)^2] to the critic's loss, and its
    critic has layer norm (or none) instead of batch norm (``cfg.critic_norm``).
    """
    seed_everything(cfg.seed)
    channels = dataset_channels(cfg.dataset)
    generator = DCGANGenerator(cfg.latent_dim, cfg.base_channels, cfg.image_size, channels=channels)
    critic = DCGANDiscriminator(
        cfg.base_channels, cfg.image_size, channels=channels, norm=cfg.critic_norm, spectral_norm=cfg.spectral_norm
    )
    if isinstance(cfg, WGANGPConfig):
        objective = WassersteinObjective(gp_weight=cfg.gp_weight)
    else:
        objective = WassersteinObjective(clip_value=cfg.clip_value)
    return GANTrainer(
        generator,
        critic,
        _images(cfg),
        cfg,
        objective=objective,
        device=device,
        checkpoint_path=checkpoint_path,
        **kwargs,
    )


def wgan_gp(cfg: WGANGPConfig, device: torch.device | None = None, checkpoint_path=None, **kwargs) -> GANTrainer:
    """WGAN-GP with the DCGAN networks: :func:`wgan` with a WGANGPConfig."""
    if not isinstance(cfg, WGANGPConfig):
        raise TypeError(f"wgan_gp needs a WGANGPConfig, got {type(cfg).__name__}")
    return wgan(cfg, device, checkpoint_path, **kwargs)


def linear_decay(steps: int):
    """A scheduler factory: both learning rates fall linearly from their value to 0 over ``steps`` generator steps.

    The WGAN-GP CIFAR-10 script (Gulrajani et al. 2017) multiplies the rate by
    ``1 - t / steps`` at generator step t, for the generator and the critic alike.
    """
    check_positive_int("steps", steps)

    def factor(t: int) -> float:
        return max(0.0, 1.0 - t / steps)

    def build(opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer) -> list:
        return [torch.optim.lr_scheduler.LambdaLR(opt, factor) for opt in (opt_g, opt_d)]

    return build


def resnet_gan(cfg: ResNetGANConfig, device: torch.device | None = None, checkpoint_path=None, **kwargs) -> GANTrainer:
    """The WGAN-GP CIFAR ResNet (Gulrajani et al. 2017, App. F) on ``cfg.dataset`` (``cfg``: ResNetGANConfig).

    ``cfg.lr_decay_steps`` > 0 decays both learning rates linearly to 0 (:func:`linear_decay`),
    as the paper's CIFAR-10 script does (:meth:`ResNetGANConfig.cifar10`).
    """
    if cfg.lr_decay_steps:
        kwargs.setdefault("schedulers", linear_decay(cfg.lr_decay_steps))
    seed_everything(cfg.seed)
    channels = dataset_channels(cfg.dataset)
    generator = ResNetGenerator(cfg.latent_dim, cfg.base_channels, cfg.image_size, channels=channels)
    critic = ResNetCritic(
        cfg.base_channels, cfg.image_size, norm=cfg.critic_norm, channels=channels, spectral_norm=cfg.spectral_norm
    )
    # hinge (SN-ResNet, ResNetGANConfig.sngan): the trainer builds it from cfg.objective
    objective = WassersteinObjective(gp_weight=cfg.gp_weight) if cfg.objective == "wasserstein" else None
    return GANTrainer(
        generator,
        critic,
        _images(cfg),
        cfg,
        objective=objective,
        device=device,
        checkpoint_path=checkpoint_path,
        **kwargs,
    )


def seconds_per_step(
    build: Callable[..., GANTrainer], cfg: GANConfig, device: torch.device | None = None, steps: int = 3
) -> float:
    """Wall-clock seconds per generator update (its ``n_critic`` critic updates included) of a fresh run.

    Equal steps are not equal compute: this is the price of one step on ``device``,
    averaged over ``steps`` steps after one warm-up step, with no checkpoint written.
    """
    check_positive_int("steps", steps)
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


def conditional_gan(
    cfg: ConditionalGANConfig, device: torch.device | None = None, checkpoint_path=None, **kwargs
) -> GANTrainer:
    """Class-conditional DCGAN (Mirza & Osindero 2014; projection D of Miyato & Koyama 2018) on MNIST-family data.

    Real batches are ``(images, labels)``; G draws the fakes of a batch for the same
    labels. The fixed sample grid has 8 samples of each class (``trainer.samples``
    images in class order: ``nrow=8`` shows one row per class); ``trainer.data.classes``
    names the classes.
    """
    classes = dataset_classes(cfg.dataset)  # digits, garments, emoji categories, CIFAR-10 classes
    n_classes, channels = len(classes), dataset_channels(cfg.dataset)
    images, labels = preload(_data_config(cfg))
    seed_everything(cfg.seed)
    generator = ConditionalGenerator(
        cfg.latent_dim, n_classes, cfg.base_channels, cfg.image_size, channels=channels, embed_dim=cfg.embed_dim
    )
    discriminator = ConditionalDiscriminator(
        n_classes,
        cfg.base_channels,
        cfg.image_size,
        channels=channels,
        projection=cfg.projection,
        embed_dim=cfg.embed_dim,
    )
    per_class = kwargs.pop("per_class", 8)
    kwargs.setdefault("n_fixed", n_classes * per_class)
    kwargs.setdefault("fixed_condition", class_rows(n_classes, kwargs["n_fixed"] // n_classes))
    return GANTrainer(
        generator,
        discriminator,
        TensorSampler(images, labels),
        cfg,
        device=device,
        checkpoint_path=checkpoint_path,
        data=RunData(classes=tuple(classes)),
        **kwargs,
    )


def _pairs(cfg: Pix2PixConfig, n_test: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(train inputs, train targets, first ``n_test`` test inputs, test targets), each (N, C, S, S) in [-1, 1]."""
    if cfg.dataset == "emoji":
        inputs, targets, _ = emoji_pairs("train", cfg.image_size, limit=cfg.data_limit)
        test_inputs, test_targets, _ = emoji_pairs("test", cfg.image_size, limit=n_test)
    elif cfg.dataset == "paired_folder":
        inputs, targets = paired_folder(cfg.image_folder, "train", cfg.image_size, cfg.direction, cfg.data_limit)
        test_inputs, test_targets = paired_folder(cfg.image_folder, "test", cfg.image_size, cfg.direction, n_test)
    else:
        data_cfg = DataConfig(dataset=cfg.dataset, image_size=cfg.image_size, limit=cfg.data_limit)
        inputs, targets, _ = edge_pairs(data_cfg, "train", cfg.edge_threshold)
        test_inputs, test_targets, _ = edge_pairs(data_cfg.replace(limit=n_test), "test", cfg.edge_threshold)
    return inputs, targets, test_inputs, test_targets


def pix2pix(cfg: Pix2PixConfig, device: torch.device | None = None, checkpoint_path=None, **kwargs) -> Pix2PixTrainer:
    """pix2pix (Isola et al. 2017) on paired images, input -> target, as ``cfg.dataset`` says.

    - MNIST-family names: Sobel edges of the image as input, the image as target;
    - ``'emoji'``: the Twemoji drawing as input, the Noto drawing of the same emoji as target;
    - ``'paired_folder'``: the A|B files of ``cfg.image_folder`` (facades, maps), ``cfg.direction``.

    The fixed batch is the first ``n_fixed`` (16) test pairs: ``trainer.fixed_condition``
    holds their inputs and ``trainer.data.fixed_target`` their targets.
    """
    n_fixed = kwargs.setdefault("n_fixed", 16)
    inputs, targets, test_inputs, test_targets = _pairs(cfg, n_fixed)
    kwargs.setdefault("fixed_condition", test_inputs)
    seed_everything(cfg.seed)
    c_in, c_out = inputs.shape[1], targets.shape[1]  # edges: 1 -> 1 or 3; emoji, folders: 3 -> 3
    generator = UNetGenerator(c_in, c_out, cfg.base_channels, cfg.image_size, cfg.norm, cfg.dropout, cfg.test_dropout)
    # D sees (input, output) stacked along channels
    discriminator = PatchDiscriminator(c_in + c_out, cfg.base_channels, cfg.d_layers, cfg.norm)
    objective = Pix2PixObjective(cfg.l1_weight, cfg.adversarial, cfg.d_loss_factor)
    fixed_target = test_targets if kwargs["fixed_condition"] is test_inputs else None
    return Pix2PixTrainer(
        generator,
        discriminator,
        TensorSampler(targets, inputs),  # (target, input) pairs
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
    images, _ = preload(_data_config(cfg))  # (N, C, S, S)
    return TensorSampler(images), images.shape[1]


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
        generator,
        discriminator,
        real,
        cfg,
        objective=objective,
        device=device,
        checkpoint_path=checkpoint_path,
        **kwargs,
    )


# The registry: what the command line (``python -m gancourse train NAME``) can train


@dataclasses.dataclass(frozen=True)
class Recipe:
    """A recipe of the book: its builder, its config class, its chapter and the cache name the chapter uses."""

    build: Callable[..., GANTrainer]
    config: type[GANConfig]
    chapter: int
    cache_name: str  # the name under which the chapter's load_or_train caches its run
    summary: str


#: recipe name -> :class:`Recipe`, in the order of the book.
RECIPES: dict[str, Recipe] = {
    "toy_gan": Recipe(toy_gan, ToyGANConfig, 4, "toy-gan", "MLPs on a 2-D mixture of Gaussians (Goodfellow et al.)"),
    "mlp_gan": Recipe(mlp_gan, MLPGANConfig, 4, "mlp-gan", "fully connected G and D on MNIST (Goodfellow et al.)"),
    "dcgan": Recipe(dcgan, DCGANConfig, 5, "dcgan", "DCGAN (Radford et al. 2015)"),
    "wgan": Recipe(wgan, WGANConfig, 6, "wgan", "WGAN with weight clipping (Arjovsky et al. 2017)"),
    "wgan_gp": Recipe(wgan_gp, WGANGPConfig, 6, "wgan-gp", "WGAN-GP, DCGAN networks (Gulrajani et al. 2017)"),
    "resnet_gan": Recipe(resnet_gan, ResNetGANConfig, 7, "resnet-gan", "the WGAN-GP ResNet (Gulrajani et al., App. F)"),
    "conditional_gan": Recipe(
        conditional_gan, ConditionalGANConfig, 8, "cgan", "class-conditional DCGAN (Mirza & Osindero 2014)"
    ),
    "pix2pix": Recipe(pix2pix, Pix2PixConfig, 8, "pix2pix", "pix2pix, edges -> images (Isola et al. 2017)"),
    "progan": Recipe(progan, ProGANConfig, 9, "progan", "progressive growing (Karras et al. 2018)"),
}


def recipe_for_config(cfg: GANConfig) -> str:
    """The recipe name whose config class is exactly ``type(cfg)`` (a checkpoint records only the config)."""
    for name, recipe in RECIPES.items():
        if type(cfg) is recipe.config:
            return name
    raise ValueError(f"{type(cfg).__name__} belongs to no recipe: known {', '.join(RECIPES)}")
