"""What each recipe builds from its config alone: its generator, its discriminator, its objective, its pairs.

The parts of the descriptions in :data:`gancourse.train.recipes.RECIPES`. They need no
training data (pix2pix's pairs excepted), so a shipped generator is built here where the
data is absent (:mod:`gancourse.pretrained`), exactly as the trainer's recipe builds it.
"""

from __future__ import annotations

import torch
from torch import nn

from gancourse.config import (
    ConditionalGANConfig,
    DataConfig,
    DCGANConfig,
    GANConfig,
    MLPGANConfig,
    Pix2PixConfig,
    ProGANConfig,
    ResNetGANConfig,
    StyleGAN2Config,
    ToyGANConfig,
    WGANConfig,
    WGANGPConfig,
)
from gancourse.data import SPECS, dataset_channels, dataset_classes, edge_pairs, emoji_pairs, paired_folder
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
    StyleGAN2Discriminator,
    StyleGAN2Generator,
    UNetGenerator,
)


def _minibatch(cfg: GANConfig) -> dict[str, int]:
    """Minibatch discrimination's B and C for a discriminator (Salimans et al. 2016, Sec. 3.2); B = 0: off."""
    return {"minibatch_kernels": cfg.minibatch_kernels, "minibatch_kernel_dims": cfg.minibatch_kernel_dims}


def _image_shape(cfg: GANConfig) -> tuple[int, int, int]:
    """(C, S, S) of ``cfg.dataset``'s images: C = 1 for the MNIST family, 3 for colour data."""
    return dataset_channels(cfg.dataset), cfg.image_size, cfg.image_size


def no_objective(cfg: GANConfig) -> None:
    """The trainer's own objective from the config's ``loss`` (:func:`gancourse.train.loop.make_objective`)."""
    return None


# Chapter 4: MLPs


def toy_generator(cfg: ToyGANConfig) -> MLPGenerator:
    return MLPGenerator(cfg.latent_dim, cfg.hidden, out_shape=(2,), n_hidden=3, image_output=False)


def toy_discriminator(cfg: ToyGANConfig) -> MLPDiscriminator:
    return MLPDiscriminator((2,), cfg.hidden, n_hidden=3, **_minibatch(cfg))


def mlp_generator(cfg: MLPGANConfig) -> MLPGenerator:
    return MLPGenerator(cfg.latent_dim, cfg.hidden, out_shape=_image_shape(cfg), n_hidden=3)


def mlp_discriminator(cfg: MLPGANConfig) -> MLPDiscriminator:
    return MLPDiscriminator(_image_shape(cfg), cfg.hidden, n_hidden=2, **_minibatch(cfg))


# Chapters 5 and 6: DCGAN networks, the WGAN critic


def dcgan_generator(cfg: DCGANConfig | WGANConfig) -> DCGANGenerator:
    return DCGANGenerator(cfg.latent_dim, cfg.base_channels, cfg.image_size, channels=dataset_channels(cfg.dataset))


def dcgan_discriminator(cfg: DCGANConfig) -> DCGANDiscriminator:
    channels = dataset_channels(cfg.dataset)
    norm = "none" if cfg.spectral_norm else "batch"  # SNGAN's D has no batch norm
    return DCGANDiscriminator(
        cfg.base_channels, cfg.image_size, channels=channels, norm=norm, spectral_norm=cfg.spectral_norm,
        **_minibatch(cfg),
    )  # fmt: skip


def wgan_critic(cfg: WGANConfig | WGANGPConfig) -> DCGANDiscriminator:
    """DCGAN's discriminator read without a sigmoid; WGAN-GP's has layer norm or none (``cfg.critic_norm``)."""
    channels = dataset_channels(cfg.dataset)
    return DCGANDiscriminator(
        cfg.base_channels, cfg.image_size, channels=channels, norm=cfg.critic_norm, spectral_norm=cfg.spectral_norm
    )


def wgan_objective(cfg: WGANConfig | WGANGPConfig) -> WassersteinObjective:
    """WGAN clips every critic weight to [-c, c]; WGAN-GP adds lambda E[(||grad f(x^)|| - 1)^2] instead."""
    if isinstance(cfg, WGANGPConfig):
        return WassersteinObjective(gp_weight=cfg.gp_weight)
    return WassersteinObjective(clip_value=cfg.clip_value)


# Chapter 7: the ResNet GAN


def resnet_generator(cfg: ResNetGANConfig) -> ResNetGenerator:
    return ResNetGenerator(cfg.latent_dim, cfg.base_channels, cfg.image_size, channels=dataset_channels(cfg.dataset))


def resnet_critic(cfg: ResNetGANConfig) -> ResNetCritic:
    channels = dataset_channels(cfg.dataset)
    return ResNetCritic(
        cfg.base_channels, cfg.image_size, norm=cfg.critic_norm, channels=channels, spectral_norm=cfg.spectral_norm
    )


def gradient_penalty_objective(cfg: ResNetGANConfig) -> WassersteinObjective | None:
    """WGAN-GP's critic loss; None for the hinge loss (SN-ResNet, ``ResNetGANConfig.sngan``), built from cfg."""
    return WassersteinObjective(gp_weight=cfg.gp_weight) if cfg.objective == "wasserstein" else None


# Chapter 8: the conditional GAN, pix2pix


def conditional_generator(cfg: ConditionalGANConfig) -> ConditionalGenerator:
    n_classes, channels = len(dataset_classes(cfg.dataset)), dataset_channels(cfg.dataset)
    return ConditionalGenerator(
        cfg.latent_dim, n_classes, cfg.base_channels, cfg.image_size, channels=channels, embed_dim=cfg.embed_dim
    )


def conditional_discriminator(cfg: ConditionalGANConfig) -> ConditionalDiscriminator:
    n_classes, channels = len(dataset_classes(cfg.dataset)), dataset_channels(cfg.dataset)
    return ConditionalDiscriminator(
        n_classes,
        cfg.base_channels,
        cfg.image_size,
        channels=channels,
        projection=cfg.projection,
        embed_dim=cfg.embed_dim,
    )


def pair_channels(cfg: Pix2PixConfig) -> tuple[int, int]:
    """pix2pix's (input, output) channels: edges of MNIST-family images 1 -> 1; emoji and folders 3 -> 3."""
    if cfg.dataset in ("emoji", "paired_folder"):
        return 3, 3
    return 1, dataset_channels(cfg.dataset)


def pix2pix_pairs(cfg: Pix2PixConfig, split: str, limit: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(inputs, targets) (N, C, S, S) in [-1, 1] of pix2pix's task, the first ``limit`` of ``split`` (0: all).

    MNIST-family names: Sobel edges -> the image; ``'emoji'``: Twemoji -> Noto drawing of
    the same emoji; ``'paired_folder'``: the A|B files of ``cfg.image_folder``, ``cfg.direction``.
    """
    if cfg.dataset == "emoji":
        inputs, targets, _ = emoji_pairs(split, cfg.image_size, limit=limit)
    elif cfg.dataset == "paired_folder":
        inputs, targets = paired_folder(cfg.image_folder, split, cfg.image_size, cfg.direction, limit)
    else:
        data_cfg = DataConfig(dataset=cfg.dataset, image_size=cfg.image_size, limit=limit)
        inputs, targets, _ = edge_pairs(data_cfg, split, cfg.edge_threshold)
    return inputs, targets


def pix2pix_targets(cfg: Pix2PixConfig) -> str | None:
    """The data set pix2pix's outputs should look like: the MNIST-family images behind the edges; else None."""
    return cfg.dataset if cfg.dataset in SPECS else None


def unet_generator(cfg: Pix2PixConfig) -> UNetGenerator:
    c_in, c_out = pair_channels(cfg)
    return UNetGenerator(c_in, c_out, cfg.base_channels, cfg.image_size, cfg.norm, cfg.dropout, cfg.test_dropout)


def patch_discriminator(cfg: Pix2PixConfig) -> PatchDiscriminator:
    """The PatchGAN D; it sees (output, input) stacked along channels."""
    return PatchDiscriminator(sum(pair_channels(cfg)), cfg.base_channels, cfg.d_layers, cfg.norm)


def pix2pix_objective(cfg: Pix2PixConfig) -> Pix2PixObjective:
    return Pix2PixObjective(cfg.l1_weight, cfg.adversarial, cfg.d_loss_factor)


# Chapter 9: ProGAN


def progan_generator(cfg: ProGANConfig) -> ProGenerator:
    channels = dataset_channels(cfg.dataset)
    return ProGenerator(
        cfg.latent_dim, cfg.image_size, channels, cfg.fmap_base, cfg.fmap_max, cfg.equalized_lr, cfg.pixel_norm
    )


def progan_discriminator(cfg: ProGANConfig) -> ProDiscriminator:
    channels = dataset_channels(cfg.dataset)
    return ProDiscriminator(
        cfg.image_size, channels, cfg.fmap_base, cfg.fmap_max, cfg.equalized_lr, cfg.minibatch_std, cfg.group_size
    )


def progan_objective(cfg: ProGANConfig) -> WassersteinObjective:
    return WassersteinObjective(gp_weight=cfg.gp_weight, drift=cfg.drift)


def progan_final_stage(generator: nn.Module, cfg: ProGANConfig) -> None:
    """ProGAN's G at the stage of its last training step (full resolution, alpha 1), as the trainer leaves it."""
    _, resolution, alpha, _ = cfg.stage(max(cfg.steps - 1, 0))
    generator.set_stage(resolution, alpha)


# Chapter 13: StyleGAN2


def stylegan2_generator(cfg: StyleGAN2Config) -> StyleGAN2Generator:
    return StyleGAN2Generator(
        cfg.latent_dim, cfg.w_dim, cfg.image_size, dataset_channels(cfg.dataset), cfg.fmap_base, cfg.fmap_max,
        cfg.mapping_layers, cfg.mapping_lr_multiplier, cfg.mixing_prob, cfg.w_avg_beta,
    )  # fmt: skip


def stylegan2_discriminator(cfg: StyleGAN2Config) -> StyleGAN2Discriminator:
    channels = dataset_channels(cfg.dataset)
    return StyleGAN2Discriminator(cfg.image_size, channels, cfg.fmap_base, cfg.fmap_max, cfg.group_size)
