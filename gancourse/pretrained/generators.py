"""A reference generator without its data: the network a recipe builds, and deterministic samples from it.

A shipped model must load where the training data is absent (a fresh Colab), so the
generator is built from its config alone, as its recipe in
:mod:`gancourse.train.recipes` builds it (``tests/test_pretrained.py`` checks that
both give the same parameters and buffers for every reference run).

Samples come from the trainer's own :meth:`~gancourse.train.loop.GANTrainer.generate`
and :meth:`~gancourse.train.loop.GANTrainer.inference`, run on an inference-only trainer
of the recipe's class (:func:`sampler`): eval mode for most GANs; pix2pix's
batch statistics and test-time dropout (Isola et al. 2017, Sec. 3.3); ProGAN at its
final resolution, clipped to [-1, 1]. With a fixed seed on the CPU the samples
depend only on the weights and the seed (and, in their last digits, on the number of
threads, which changes the order of floating-point sums).
"""

from __future__ import annotations

import torch
from torch import nn

from gancourse.checks import check_images
from gancourse.config import DataConfig, GANConfig, Pix2PixConfig, ProGANConfig
from gancourse.data import dataset_channels, dataset_classes, edge_pairs, emoji_pairs, paired_folder
from gancourse.models import (
    ConditionalGenerator,
    DCGANGenerator,
    MLPGenerator,
    ProGenerator,
    ResNetGenerator,
    UNetGenerator,
)
from gancourse.train.loop import GANTrainer
from gancourse.train.paired import Pix2PixTrainer
from gancourse.train.progressive import ProgressiveTrainer
from gancourse.train.recipes import class_rows

#: the trainer class each recipe builds: its generate()/inference() say how samples are drawn
TRAINER_CLASSES: dict[str, type[GANTrainer]] = {"pix2pix": Pix2PixTrainer, "progan": ProgressiveTrainer}


def pair_channels(cfg: Pix2PixConfig) -> tuple[int, int]:
    """pix2pix's (input, output) channels: edges of MNIST-family images 1 -> 1; emoji and folders 3 -> 3."""
    if cfg.dataset in ("emoji", "paired_folder"):
        return 3, 3
    return 1, dataset_channels(cfg.dataset)


def build_generator(recipe: str, cfg: GANConfig) -> nn.Module:
    """The generator that recipe ``recipe`` builds for ``cfg``, freshly initialised, on the CPU, without data.

    Mirrors the generator lines of the builders in :mod:`gancourse.train.recipes`;
    ProGAN's is grown to its final stage.
    """
    if recipe == "toy_gan":
        return MLPGenerator(cfg.latent_dim, cfg.hidden, out_shape=(2,), n_hidden=3, image_output=False)
    if recipe == "pix2pix":
        c_in, c_out = pair_channels(cfg)
        return UNetGenerator(c_in, c_out, cfg.base_channels, cfg.image_size, cfg.norm, cfg.dropout, cfg.test_dropout)
    channels = dataset_channels(cfg.dataset)
    if recipe == "mlp_gan":
        shape = (channels, cfg.image_size, cfg.image_size)
        return MLPGenerator(cfg.latent_dim, cfg.hidden, out_shape=shape, n_hidden=3)
    if recipe in ("dcgan", "wgan", "wgan_gp"):
        return DCGANGenerator(cfg.latent_dim, cfg.base_channels, cfg.image_size, channels=channels)
    if recipe == "resnet_gan":
        return ResNetGenerator(cfg.latent_dim, cfg.base_channels, cfg.image_size, channels=channels)
    if recipe == "conditional_gan":
        n_classes = len(dataset_classes(cfg.dataset))
        return ConditionalGenerator(
            cfg.latent_dim, n_classes, cfg.base_channels, cfg.image_size, channels=channels, embed_dim=cfg.embed_dim
        )
    if recipe == "progan":
        generator = ProGenerator(
            cfg.latent_dim, cfg.image_size, channels, cfg.fmap_base, cfg.fmap_max, cfg.equalized_lr, cfg.pixel_norm
        )
        set_final_stage(generator, cfg)
        return generator
    raise ValueError(f"recipe = {recipe!r} has no generator here: known are toy_gan, mlp_gan, dcgan, ..., progan")


def set_final_stage(generator: nn.Module, cfg: ProGANConfig) -> None:
    """ProGAN's G at the stage of its last training step (full resolution, alpha 1), as the trainer leaves it."""
    _, resolution, alpha, _ = cfg.stage(max(cfg.steps - 1, 0))
    generator.set_stage(resolution, alpha)


def sampler(recipe: str, cfg: GANConfig, generator: nn.Module, seed: int = 0) -> GANTrainer:
    """An inference-only trainer of ``recipe``'s class around ``generator``: call its ``generate(z, condition)``.

    It holds only what ``generate`` and ``inference`` read (the config, the CPU device,
    the generator, no averaged copy, an inference random stream seeded by ``seed`` for
    pix2pix's dropout): no discriminator, optimiser or data. So the samples of a loaded
    model are drawn exactly as the trainer draws them during training.
    """
    cls = TRAINER_CLASSES.get(recipe, GANTrainer)
    shell = cls.__new__(cls)  # no __init__: it would build optimisers and need the data
    shell.cfg, shell.device = cfg, torch.device("cpu")
    shell.generator, shell.generator_ema = generator.cpu(), None
    shell.inference_rng = torch.Generator().manual_seed(seed)
    return shell


def noise(n: int, latent_dim: int, seed: int) -> torch.Tensor:
    """z ~ N(0, I), (n, latent_dim), from a ``torch.Generator`` seeded by ``seed`` (the same z on every machine)."""
    return torch.randn(n, latent_dim, generator=torch.Generator().manual_seed(seed))


def class_order_labels(n: int, n_classes: int) -> torch.Tensor:
    """n labels in class order, ``ceil(n / n_classes)`` of each (the last class may get fewer): one grid row each."""
    return class_rows(n_classes, -(-n // n_classes))[:n]


def held_out_pairs(cfg: Pix2PixConfig, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(inputs, targets) of the first ``n`` test pairs of pix2pix's task (fewer if the split is smaller).

    The test half of what the pix2pix recipe loads: Sobel edges -> MNIST-family image,
    Twemoji -> Noto, or a paired folder.
    """
    if cfg.dataset == "emoji":
        inputs, targets, _ = emoji_pairs("test", cfg.image_size, limit=n)
    elif cfg.dataset == "paired_folder":
        inputs, targets = paired_folder(cfg.image_folder, "test", cfg.image_size, cfg.direction, n)
    else:
        data_cfg = DataConfig(dataset=cfg.dataset, image_size=cfg.image_size, limit=n)
        inputs, targets, _ = edge_pairs(data_cfg, "test", cfg.edge_threshold)
    return inputs, targets


def generate(
    recipe: str,
    cfg: GANConfig,
    generator: nn.Module,
    n: int,
    seed: int = 0,
    labels: torch.Tensor | None = None,
    inputs: torch.Tensor | None = None,
) -> torch.Tensor:
    """``n`` samples of ``generator`` on the CPU, determined by ``seed``: images (n, C, S, S), or points (n, 2).

    - a conditional GAN draws for ``labels`` (default: :func:`class_order_labels`, class order);
    - pix2pix translates ``inputs`` (default: the first ``n`` test inputs of its task); its
      dropout noise comes from ``seed``.
    """
    shell = sampler(recipe, cfg, generator, seed)
    if recipe == "pix2pix":
        if inputs is None:
            inputs = held_out_pairs(cfg, n)[0]
        check_images("inputs", inputs)
        return shell.generate(torch.empty(len(inputs), 0), inputs)  # no z: dropout is the noise
    z = noise(n, cfg.latent_dim, seed)
    if recipe == "conditional_gan":
        if labels is None:
            labels = class_order_labels(n, len(dataset_classes(cfg.dataset)))
        return shell.generate(z, torch.as_tensor(labels, dtype=torch.long))
    return shell.generate(z)
