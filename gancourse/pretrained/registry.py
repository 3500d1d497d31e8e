"""The reference runs: one entry per GAN the book trains, its recipe, config and how it differs from the paper.

Every chapter shows a *reference* model next to its own one-minute quick run,
trained by the book's own code on a CPU and shipped with the package. This file is
the one place that says which runs those are. Each :class:`Reference` names

- ``recipe``: a key of :data:`gancourse.train.recipes.RECIPES` (the builder the chapter uses);
- ``config_class`` and ``overrides``: the config is ``config_class()`` (the paper's defaults)
  with ``overrides`` applied, every changed field written out here (the settings several runs
  share in one mapping below), ``steps`` included (ProGAN: its schedule, from which ``steps``
  is derived);
- ``description``: one line; ``paper_differences``: what the chapters print next to the
  numbers, so that no reader mistakes a 20-minute CPU run for the paper's setting.

To change a run, edit its ``overrides`` and retrain it with
``python -m gancourse.pretrained train NAME --force``; ``verify`` reports a shipped model
whose registry settings have changed since it was trained.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping
from typing import Any

from gancourse.config import (
    ConditionalGANConfig,
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
from gancourse.train.recipes import RECIPES


@dataclasses.dataclass(frozen=True)
class Reference:
    """One reference run: recipe, config (class + explicit overrides), a description, the paper differences."""

    name: str
    recipe: str
    config_class: type[GANConfig]
    overrides: Mapping[str, Any]
    description: str
    paper_differences: str

    def __post_init__(self) -> None:
        if self.recipe not in RECIPES:
            raise ValueError(
                f"reference {self.name!r}: recipe = {self.recipe!r} is not a recipe; known: {', '.join(RECIPES)}"
            )
        expected = RECIPES[self.recipe].config
        if self.config_class is not expected:  # the manifest records the class by name, as checkpoints do
            raise ValueError(
                f"reference {self.name!r}: recipe {self.recipe!r} takes a {expected.__name__}, "
                f"not a {self.config_class.__name__}"
            )
        object.__setattr__(self, "overrides", types.MappingProxyType(dict(self.overrides)))  # read-only

    def config(self) -> GANConfig:
        """The run's config: the paper defaults of ``config_class`` with ``overrides`` (checked by the config)."""
        return self.config_class().replace(**self.overrides)

    @property
    def command(self) -> str:
        """The command that trains (or resumes) this run and ships its weights."""
        return f"python -m gancourse.pretrained train {self.name}"


def _entries(*references: Reference) -> dict[str, Reference]:
    names = [r.name for r in references]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"reference names must be unique: {', '.join(duplicates)} appear more than once")
    return {r.name: r for r in references}


# Each run fits about 20 minutes of a 2-core CPU: the chapter's quick settings, longer, with the
# moving average of G's weights (``ema_decay``) where it is set; train() ships the average beside G and
# scores it as the main model. What each run reached, and what was tried, is on the results page.

#: pix2pix on Fashion-MNIST edges, and (with ``adversarial=False``) its L1-only ablation
PIX2PIX_FASHION: Mapping[str, Any] = {
    "dataset": "fashion_mnist",
    "steps": 4000,
    "batch_size": 16,
    "base_channels": 16,
    "d_layers": 1,
    "data_limit": 0,
    "sample_every": 500,
}

#: The DCGAN networks' reference settings, shared by the DCGAN and conditional GAN runs: width 32, batch 64,
#: Adam 5e-4 (the quick runs' rate; 2e-4 was slower per CPU-minute, results page) and G's moving average.
DCGAN_REFERENCE: Mapping[str, Any] = {
    "base_channels": 32,
    "batch_size": 64,
    "lr_g": 5e-4,
    "lr_d": 5e-4,
    "data_limit": 0,
    "sample_every": 1000,
    "ema_decay": 0.999,
}

#: ProGAN's reference run: the chapter's quick networks (8 to 32 channels, z in R^32) and batches, four times
#: its images per phase (12k, 12k, 8k fade-ins; 32k, 24k, 16k, 8k stable phases; steps follow), all the
#: training data, and a rate between the quick run's 3e-3 and the paper's 1e-3.
PROGAN_REFERENCE: Mapping[str, Any] = {
    **ProGANConfig.QUICK,
    "fade_images": tuple(4 * images for images in ProGANConfig.QUICK["fade_images"]),
    "stable_images": tuple(4 * images for images in ProGANConfig.QUICK["stable_images"]),
    "lr_g": 2e-3,
    "lr_d": 2e-3,
    "data_limit": 0,
}

#: name -> :class:`Reference`, in the order of the book.
REFERENCES: dict[str, Reference] = _entries(
    Reference(
        name="toy_gan_ring",
        recipe="toy_gan",
        config_class=ToyGANConfig,
        overrides={"mixture": "ring", "steps": 5000, "batch_size": 256, "hidden": 128, "lr_g": 1e-3, "lr_d": 1e-3},
        description="chapter 4: MLP G and D on the ring of 8 Gaussians (Metz et al. 2017's toy)",
        paper_differences="Goodfellow et al. 2014 trained maxout MLPs on images; the ring is Metz et al. 2017's test "
        "of mode collapse, with our LeakyReLU MLPs",
    ),
    Reference(
        name="mlp_gan_mnist",
        recipe="mlp_gan",
        config_class=MLPGANConfig,
        overrides={
            "dataset": "mnist",
            "steps": 12000,
            "hidden": 512,
            "batch_size": 64,
            "label_smoothing": 0.1,  # without it D won from step ~6,000 on and G collapsed to one blot (results page)
            "data_limit": 0,
            "sample_every": 1000,
            "ema_decay": 0.999,
        },
        description="chapter 4: fully connected G and D on MNIST, one-sided label smoothing, averaged G",
        paper_differences="Goodfellow et al. 2014: maxout D with dropout, 28 px, no weight averaging; here "
        "LeakyReLU MLPs at 32 px, width 512, batch 64 instead of 128, one-sided label smoothing 0.1 "
        "(Salimans et al. 2016), 12,000 steps, averaged G (decay 0.999)",
    ),
    Reference(
        name="dcgan_mnist",
        recipe="dcgan",
        config_class=DCGANConfig,
        overrides={
            "dataset": "mnist",
            "steps": 6000,
            **DCGAN_REFERENCE,
        },
        description="chapter 5: DCGAN on MNIST, 32 px, scored with the moving average of G's weights",
        paper_differences="Radford et al. 2015: 64 px, width 128, batch 128, LSUN/ImageNet/faces, no weight "
        "averaging; here 32 px MNIST, width 32, batch 64, Adam 5e-4 instead of 2e-4, 6,000 steps (6.4 epochs), "
        "averaged G (decay 0.999)",
    ),
    Reference(
        name="dcgan_fashion_mnist",
        recipe="dcgan",
        config_class=DCGANConfig,
        overrides={
            "dataset": "fashion_mnist",
            "steps": 6000,
            **DCGAN_REFERENCE,
        },
        description="chapter 5: DCGAN on Fashion-MNIST, 32 px, averaged G (the MNIST run's settings)",
        paper_differences="Radford et al. 2015: 64 px, width 128, batch 128, no weight averaging; here 32 px "
        "Fashion-MNIST, width 32, batch 64, Adam 5e-4 instead of 2e-4, 6,000 steps, averaged G (decay 0.999)",
    ),
    Reference(
        name="dcgan_emoji",
        recipe="dcgan",
        config_class=DCGANConfig,
        overrides={
            "dataset": "emoji",
            "steps": 5000,
            **DCGAN_REFERENCE,
            "sample_every": 500,
        },
        description="chapter 5: DCGAN on the colour emoji (Twemoji and Noto), 32 px, averaged G",
        paper_differences="Radford et al. 2015: 64 px, width 128, batch 128, no weight averaging; here 32 px emoji, "
        "width 32, batch 64, Adam 5e-4, 5,000 steps, averaged G (decay 0.999)",
    ),
    Reference(
        name="wgan_mnist",
        recipe="wgan",
        config_class=WGANConfig,
        overrides={
            "dataset": "mnist",
            "steps": 6000,
            "base_channels": 32,
            "batch_size": 64,
            "n_critic": 2,
            "lr_g": 2e-4,
            "lr_d": 2e-4,
            "data_limit": 0,
            "sample_every": 1000,
            "ema_decay": 0.999,
        },
        description="chapter 6: WGAN with weight clipping on MNIST, averaged G",
        paper_differences="Arjovsky et al. 2017, Alg. 1: RMSprop 5e-5, n_critic 5, batch 64, no weight averaging; "
        "here RMSprop 2e-4, n_critic 2, width 32, 6,000 steps, averaged G (decay 0.999)",
    ),
    Reference(
        name="wgan_gp_mnist",
        recipe="wgan_gp",
        config_class=WGANGPConfig,
        overrides={
            "dataset": "mnist",
            "steps": 3000,
            "base_channels": 16,
            "batch_size": 64,
            "n_critic": 2,
            "lr_g": 2e-4,
            "lr_d": 2e-4,
            "data_limit": 0,
            "sample_every": 500,
            "ema_decay": 0.999,
        },
        description="chapter 6: WGAN-GP (DCGAN networks, layer-norm critic) on MNIST, averaged G",
        paper_differences="Gulrajani et al. 2017, Alg. 1: Adam 1e-4, n_critic 5, batch 64, no weight averaging; "
        "here Adam 2e-4, n_critic 2, batch 64, width 16, 3,000 steps, averaged G (decay 0.999)",
    ),
    Reference(
        name="resnet_gan_mnist",
        recipe="resnet_gan",
        config_class=ResNetGANConfig,
        overrides={
            "dataset": "mnist",
            "steps": 6000,
            "base_channels": 16,
            "batch_size": 32,
            "n_critic": 1,
            "lr_g": 3e-4,
            "lr_d": 3e-4,
            "lr_decay_steps": 6000,  # linear decay to 0, as the paper's CIFAR script does over 100k steps
            "data_limit": 0,
            "sample_every": 1000,
            "ema_decay": 0.999,
        },
        description="chapter 7: the WGAN-GP CIFAR ResNet on MNIST, rates decayed linearly, averaged G",
        paper_differences="Gulrajani et al. 2017, App. F: width 128, n_critic 5, batch 64, Adam 2e-4 decayed over "
        "100k steps, CIFAR-10, no weight averaging; here width 16, n_critic 1, batch 32, Adam 3e-4 decayed over "
        "6,000 steps, MNIST, averaged G (decay 0.999)",
    ),
    Reference(
        name="conditional_gan_mnist",
        recipe="conditional_gan",
        config_class=ConditionalGANConfig,
        overrides={
            "dataset": "mnist",
            "steps": 5000,
            **DCGAN_REFERENCE,
        },
        description="chapter 8: class-conditional DCGAN on MNIST (label embedding, concatenation D), averaged G",
        paper_differences="Mirza & Osindero 2014: MLPs on MNIST with dropout; here the DCGAN networks with a "
        "label embedding, width 32, batch 64, Adam 5e-4, 5,000 steps, averaged G (decay 0.999)",
    ),
    Reference(
        name="conditional_gan_emoji",
        recipe="conditional_gan",
        config_class=ConditionalGANConfig,
        overrides={
            "dataset": "emoji",
            "steps": 5000,
            **DCGAN_REFERENCE,
        },
        description="chapter 8: class-conditional DCGAN on the ten emoji categories, 32 px colour, averaged G",
        paper_differences="Mirza & Osindero 2014: MLPs on MNIST with dropout; here the DCGAN networks with a "
        "label embedding on colour emoji, width 32, batch 64, Adam 5e-4, 5,000 steps, averaged G (decay 0.999)",
    ),
    Reference(
        name="pix2pix_fashion_mnist",
        recipe="pix2pix",
        config_class=Pix2PixConfig,
        overrides=PIX2PIX_FASHION,
        description="chapter 8: pix2pix, Sobel edges -> Fashion-MNIST garments, L1 + cGAN",
        paper_differences="Isola et al. 2017: 256 px, batch 1, width 64, 70 x 70 PatchGAN, 200 epochs; "
        "here 32 px, batch 16, width 16, 16 x 16 PatchGAN, 4,000 steps",
    ),
    Reference(
        name="pix2pix_fashion_mnist_l1_only",
        recipe="pix2pix",
        config_class=Pix2PixConfig,
        overrides={**PIX2PIX_FASHION, "adversarial": False},  # the same run without D: Isola et al.'s ablation
        description="chapter 8: pix2pix's L1-only ablation on the same task (the full objective must beat it on FID)",
        paper_differences="Isola et al. 2017, Fig. 4 / Table 1 ablation; here 32 px, batch 16, width 16",
    ),
    Reference(
        name="pix2pix_emoji",
        recipe="pix2pix",
        config_class=Pix2PixConfig,
        overrides={
            "dataset": "emoji",
            "steps": 6000,
            "batch_size": 16,
            "base_channels": 16,
            "d_layers": 1,
            "data_limit": 0,
            "sample_every": 1000,
        },
        description="chapter 8: pix2pix, Twemoji -> Noto drawings of the same emoji, 32 px",
        paper_differences="Isola et al. 2017: 256 px, batch 1, width 64, 70 x 70 PatchGAN, 200 epochs; "
        "here 32 px, batch 16, width 16, 16 x 16 PatchGAN, 6,000 steps",
    ),
    Reference(
        name="progan_mnist",
        recipe="progan",
        config_class=ProGANConfig,
        overrides={
            "dataset": "mnist",
            **PROGAN_REFERENCE,
        },
        description="chapter 9: progressive growing 4 -> 32 px on MNIST, averaged G (the paper's default)",
        paper_differences="Karras et al. 2018: 800k images per phase, 512 channels, up to 1024 px (CelebA-HQ); "
        "here 8k-32k images per phase (4x the chapter's quick run), 32 channels, 32 px MNIST, lr 2e-3 instead "
        "of 1e-3",
    ),
    Reference(
        name="progan_emoji",
        recipe="progan",
        config_class=ProGANConfig,
        overrides={
            "dataset": "emoji",
            **PROGAN_REFERENCE,
        },
        description="chapter 9: progressive growing 4 -> 32 px on the colour emoji, averaged G",
        paper_differences="Karras et al. 2018: 800k images per phase, 512 channels, up to 1024 px (CelebA-HQ); "
        "here the MNIST reference's schedule (8k-32k images per phase), 32 channels, 32 px emoji, lr 2e-3",
    ),
    Reference(
        name="stylegan2_emoji",
        recipe="stylegan2",
        config_class=StyleGAN2Config,
        overrides={
            "dataset": "emoji",
            "latent_dim": 64,
            "w_dim": 64,
            "fmap_base": 512,  # 64 channels at 4 to 16 px, 32 at 32 px
            "fmap_max": 64,
            "batch_size": 16,
            "steps": 8000,
            "r1_gamma": 0.05,  # the quick run's: R1's right size falls with the resolution
            "ema_decay": 0.999,
            "data_limit": 0,
            "sample_every": 1000,
        },
        description="chapter 13: StyleGAN2 (mapping, modulated convolutions, lazy R1) on the colour emoji, 32 px",
        paper_differences="Karras et al. 2020, config F: 512 channels, z and w in R^512, 1024 px FFHQ, batch 32, "
        "R1 gamma 10, 25M images, path-length regularisation; here 64 channels (32 at 32 px), z and w in R^64, "
        "32 px emoji, batch 16, R1 gamma 0.05, 8,000 steps (128k images), no path-length regularisation",
    ),
)


class UnknownReference(LookupError):
    """A name that is not in :data:`REFERENCES`; the message lists the known ones."""


def get(name: str) -> Reference:
    """The reference run ``name``; :class:`UnknownReference` listing the known names otherwise."""
    if not isinstance(name, str) or name not in REFERENCES:
        raise UnknownReference(f"no reference run named {name!r}: known are {', '.join(REFERENCES)}")
    return REFERENCES[name]
