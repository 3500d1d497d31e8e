"""Recipes: the models, data and objective of each chapter's GAN, described once and built into a trainer.

:data:`RECIPES` holds one :class:`Recipe` per GAN of the book: its networks, objective
and trainer class (parts built from the config alone, :mod:`gancourse.train.recipe_parts`),
its data, what G is conditioned on, and what its samples are scored against. The
builders below, :mod:`gancourse.pretrained` and the command line read it.

Each builder takes its config and returns a ready :class:`~gancourse.train.loop.GANTrainer`
(or a subclass) whose ``data`` (:class:`~gancourse.train.loop.RunData`) holds what
the chapter needs besides the trainer. :func:`gancourse.train.cache.load_or_train` runs a
recipe through the checkpoint cache, so a finished run is loaded instead of retrained.

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
``stylegan2``          13          Karras et al. 2019, 2020
=====================  ==========  ==============================================
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import torch
from torch import nn

from gancourse.checks import check_images, check_positive_int
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
from gancourse.data import dataset_classes, grid_of_gaussians, preload, ring_of_gaussians
from gancourse.device import seed_everything
from gancourse.losses import Objective
from gancourse.train import recipe_parts as parts
from gancourse.train import sampling
from gancourse.train.loop import GANTrainer, RealSampler, RunData, SchedulerFactory, TensorSampler
from gancourse.train.paired import Pix2PixTrainer
from gancourse.train.progressive import ProgressiveTrainer
from gancourse.train.styled import StyleGAN2Trainer

# The data each recipe trains on; each may set the trainer options its data decides (n_fixed, fixed_condition)


def _data_config(cfg) -> DataConfig:
    """The DataConfig of a GAN config: its data set, size, limit and (for 'folder') folder."""
    return DataConfig(
        dataset=cfg.dataset, image_size=cfg.image_size, limit=cfg.data_limit, image_folder=cfg.image_folder
    )


def _images(cfg: MLPGANConfig | DCGANConfig) -> TensorSampler:
    images, _ = preload(_data_config(cfg))  # (N, C, S, S): C = 1 for MNIST-family, 3 for colour data
    return TensorSampler(images)


def _progan_images(cfg: ProGANConfig) -> tuple[TensorSampler, int]:
    """Real images at the target size (``cfg``: ProGANConfig) and their number of channels."""
    images, _ = preload(_data_config(cfg))  # (N, C, S, S)
    return TensorSampler(images), images.shape[1]


def mixture_data(cfg: ToyGANConfig, options: dict) -> tuple[RealSampler, RunData]:
    """Points of the 2-D mixture of Gaussians (ring or grid); 1,000 fixed points, enough to see the modes."""
    mixture = ring_of_gaussians() if cfg.mixture == "ring" else grid_of_gaussians()
    options.setdefault("n_fixed", 1000)
    return mixture.sample, RunData(mixture=mixture)


def image_data(cfg: GANConfig, options: dict) -> tuple[RealSampler, RunData]:
    """The images of ``cfg.dataset`` (or ``cfg.image_folder``), preloaded."""
    return _images(cfg), RunData()


def progan_data(cfg: ProGANConfig, options: dict) -> tuple[RealSampler, RunData]:
    """Real images at the target size; the trainer downsamples and fades them per stage."""
    return _progan_images(cfg)[0], RunData()


def class_rows(n_classes: int, per_class: int) -> torch.Tensor:
    """Labels 0, ..., 0, 1, ..., 1, ...: ``per_class`` of each, so an ``nrow=per_class`` grid has one row per class."""
    return torch.arange(n_classes).repeat_interleave(per_class)  # (n_classes * per_class,)


def labelled_data(cfg: ConditionalGANConfig, options: dict) -> tuple[RealSampler, RunData]:
    """(image, label) batches; the fixed grid has ``per_class`` (8) samples of each class, in class order."""
    classes = dataset_classes(cfg.dataset)  # digits, garments, emoji categories, CIFAR-10 classes
    images, labels = preload(_data_config(cfg))
    per_class = options.pop("per_class", 8)
    options.setdefault("n_fixed", len(classes) * per_class)
    options.setdefault("fixed_condition", class_rows(len(classes), options["n_fixed"] // len(classes)))
    return TensorSampler(images, labels), RunData(classes=tuple(classes))


def paired_data(cfg: Pix2PixConfig, options: dict) -> tuple[RealSampler, RunData]:
    """(target, input) pairs of the training split; the fixed inputs are the first ``n_fixed`` (16) test inputs.

    A test split of fewer than 16 pairs (a small folder) gives all of them, unless ``n_fixed`` is asked for.
    """
    inputs, targets = parts.pix2pix_pairs(cfg, "train", cfg.data_limit)
    test_inputs, test_targets = parts.pix2pix_pairs(cfg, "test", options.get("n_fixed", 16))
    options.setdefault("n_fixed", len(test_inputs))
    fixed = options.setdefault("fixed_condition", test_inputs)
    return TensorSampler(targets, inputs), RunData(fixed_target=test_targets if fixed is test_inputs else None)


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


def decay_schedule(cfg: ResNetGANConfig) -> SchedulerFactory | None:
    """``cfg.lr_decay_steps`` > 0: both rates fall linearly to 0 (:func:`linear_decay`), as the CIFAR-10 script."""
    return linear_decay(cfg.lr_decay_steps) if cfg.lr_decay_steps else None


def own_dataset(cfg: GANConfig) -> str | None:
    """Samples are compared with real images of the data set the GAN trained on."""
    return cfg.dataset


def no_dataset(cfg: GANConfig) -> None:
    """No real images to compare with (the toy GAN's points: mode coverage instead)."""
    return None


# The one description per recipe


@dataclasses.dataclass(frozen=True)
class Recipe:
    """One GAN of the book, described once: what it builds, trains on, and how it samples and is scored.

    The trainer builders (:func:`dcgan`, ...), :mod:`gancourse.pretrained` (a generator
    without its data) and the command line all read this description.

    - ``generator``, ``discriminator``, ``objective``: built from the config alone
      (:mod:`gancourse.train.recipe_parts`; ``objective`` None: the config's ``loss``);
    - ``data(cfg, options)``: the real sampler and the :class:`RunData`; it may set the
      trainer options its data decides (``n_fixed``, ``fixed_condition``) in ``options``;
    - ``condition``: what G sees besides z: ``"none"``, ``"labels"`` (class labels) or
      ``"images"`` (pix2pix: an input image instead of z, sampled as in training);
    - ``pairs(cfg, split, limit)``: a paired task's (inputs, targets), for its test pairs;
    - ``features(cfg)``: the data set whose real images the samples are scored against, or None;
    - ``final_stage(G, cfg)``: puts a fresh G in the state a finished run leaves it (ProGAN);
    - ``clamp``: the samples are clipped to [-1, 1] (ProGAN's linear output).
    """

    config: type[GANConfig]
    chapter: int
    cache_name: str  # the name under which the chapter's load_or_train caches its run
    summary: str
    generator: Callable[[GANConfig], nn.Module]
    discriminator: Callable[[GANConfig], nn.Module]
    data: Callable[[GANConfig, dict], tuple[RealSampler, RunData]] = image_data
    objective: Callable[[GANConfig], Objective | None] = parts.no_objective
    trainer: type[GANTrainer] = GANTrainer
    condition: str = "none"
    pairs: Callable[[GANConfig, str, int], tuple[torch.Tensor, torch.Tensor]] | None = None
    features: Callable[[GANConfig], str | None] = own_dataset
    schedulers: Callable[[GANConfig], SchedulerFactory | None] | None = None
    final_stage: Callable[[nn.Module, GANConfig], None] | None = None
    clamp: bool = False

    @property
    def kind(self) -> str:
        """How the GAN is scored: ``"toy"`` (points), ``"conditional"``, ``"paired"`` or ``"image"``."""
        if self.data is mixture_data:
            return "toy"
        return {"labels": "conditional", "images": "paired"}.get(self.condition, "image")

    def build(self, cfg: GANConfig, device: torch.device | None = None, checkpoint_path=None, **options) -> GANTrainer:
        """A ready trainer: the data, then (seeded by ``cfg.seed``) G, D and the objective, in the recipe's class."""
        real, data = self.data(cfg, options)
        if self.schedulers is not None and self.schedulers(cfg) is not None:
            options.setdefault("schedulers", self.schedulers(cfg))
        seed_everything(cfg.seed)
        generator, discriminator = self.generator(cfg), self.discriminator(cfg)
        objective = self.objective(cfg)
        if objective is not None:
            options.setdefault("objective", objective)
        options.setdefault("data", data)
        return self.trainer(
            generator, discriminator, real, cfg, device=device, checkpoint_path=checkpoint_path, **options
        )

    def build_generator(self, cfg: GANConfig) -> nn.Module:
        """The generator for ``cfg``, freshly initialised, on the CPU, without data, as a finished run leaves it."""
        generator = self.generator(cfg)
        if self.final_stage is not None:
            self.final_stage(generator, cfg)
        return generator

    def held_out_pairs(self, cfg: GANConfig, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(inputs, targets) of the first ``n`` test pairs of a paired task (fewer if the split is smaller)."""
        if self.pairs is None:
            raise ValueError(f"{self.summary} is not a paired task: it has no test pairs")
        return self.pairs(cfg, "test", n)

    def sample(
        self,
        cfg: GANConfig,
        generator: nn.Module,
        n: int,
        seed: int = 0,
        labels: torch.Tensor | None = None,
        inputs: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``n`` samples of ``generator``, determined by ``seed`` (:func:`gancourse.train.sampling.generate`).

        z is drawn on the CPU from a ``torch.Generator`` seeded by ``seed``. A conditional
        GAN draws for ``labels`` (default: class order, ``ceil(n / classes)`` of each); pix2pix
        translates ``inputs`` (default: the first ``n`` test inputs), its dropout noise drawn
        from a stream seeded by ``seed``.
        """
        device = next(generator.parameters()).device
        if self.condition == "images":
            if inputs is None:
                inputs = self.held_out_pairs(cfg, n)[0]
            check_images("inputs", inputs)
            rng = torch.Generator(device).manual_seed(seed)
            return sampling.generate(
                generator,
                torch.empty(len(inputs), 0),  # no z: dropout is the noise
                inputs,
                inference=sampling.paired_inference(rng, device),
                inputs=sampling.image_inputs,
            )
        z = torch.randn(n, cfg.latent_dim, generator=torch.Generator().manual_seed(seed))
        condition = None
        if self.condition == "labels":
            n_classes = len(dataset_classes(cfg.dataset))
            condition = class_rows(n_classes, -(-n // n_classes))[:n] if labels is None else labels
            condition = torch.as_tensor(condition, dtype=torch.long)
        return sampling.generate(generator, z, condition, clamp=self.clamp)


#: recipe name -> :class:`Recipe`, in the order of the book: what the command line can train.
RECIPES: dict[str, Recipe] = {
    "toy_gan": Recipe(
        ToyGANConfig, 4, "toy-gan", "MLPs on a 2-D mixture of Gaussians (Goodfellow et al.)",
        parts.toy_generator, parts.toy_discriminator, mixture_data, features=no_dataset,
    ),
    "mlp_gan": Recipe(
        MLPGANConfig, 4, "mlp-gan", "fully connected G and D on MNIST (Goodfellow et al.)",
        parts.mlp_generator, parts.mlp_discriminator,
    ),
    "dcgan": Recipe(
        DCGANConfig, 5, "dcgan", "DCGAN (Radford et al. 2015)", parts.dcgan_generator, parts.dcgan_discriminator
    ),
    "wgan": Recipe(
        WGANConfig, 6, "wgan", "WGAN with weight clipping (Arjovsky et al. 2017)",
        parts.dcgan_generator, parts.wgan_critic, objective=parts.wgan_objective,
    ),
    "wgan_gp": Recipe(
        WGANGPConfig, 6, "wgan-gp", "WGAN-GP, DCGAN networks (Gulrajani et al. 2017)",
        parts.dcgan_generator, parts.wgan_critic, objective=parts.wgan_objective,
    ),
    "resnet_gan": Recipe(
        ResNetGANConfig, 7, "resnet-gan", "the WGAN-GP ResNet (Gulrajani et al., App. F)",
        parts.resnet_generator, parts.resnet_critic, objective=parts.gradient_penalty_objective,
        schedulers=decay_schedule,
    ),
    "conditional_gan": Recipe(
        ConditionalGANConfig, 8, "cgan", "class-conditional DCGAN (Mirza & Osindero 2014)",
        parts.conditional_generator, parts.conditional_discriminator, labelled_data, condition="labels",
    ),
    "pix2pix": Recipe(
        Pix2PixConfig, 8, "pix2pix", "pix2pix, edges -> images (Isola et al. 2017)",
        parts.unet_generator, parts.patch_discriminator, paired_data, parts.pix2pix_objective, Pix2PixTrainer,
        condition="images", pairs=parts.pix2pix_pairs, features=parts.pix2pix_targets,
    ),
    "progan": Recipe(
        ProGANConfig, 9, "progan", "progressive growing (Karras et al. 2018)",
        parts.progan_generator, parts.progan_discriminator, progan_data, parts.progan_objective, ProgressiveTrainer,
        final_stage=parts.progan_final_stage, clamp=True,
    ),
    "stylegan2": Recipe(
        StyleGAN2Config, 13, "stylegan2", "StyleGAN2: mapping, modulated convolutions, lazy R1 (Karras et al. 2020)",
        parts.stylegan2_generator, parts.stylegan2_discriminator, trainer=StyleGAN2Trainer, clamp=True,
    ),
}  # fmt: skip


def recipe_for_config(cfg: GANConfig) -> str:
    """The recipe name whose config class is exactly ``type(cfg)`` (a checkpoint records only the config)."""
    for name, recipe in RECIPES.items():
        if type(cfg) is recipe.config:
            return name
    raise ValueError(f"{type(cfg).__name__} belongs to no recipe: known {', '.join(RECIPES)}")


# The builders the chapters call: each builds its recipe's trainer from the description above


def toy_gan(cfg: ToyGANConfig, device: torch.device | None = None, checkpoint_path=None, **kwargs) -> GANTrainer:
    """MLP generator and discriminator on a 2-D mixture of Gaussians."""
    return RECIPES["toy_gan"].build(cfg, device, checkpoint_path, **kwargs)


def mlp_gan(cfg: MLPGANConfig, device: torch.device | None = None, checkpoint_path=None, **kwargs) -> GANTrainer:
    """Fully connected G and D on MNIST-family images."""
    return RECIPES["mlp_gan"].build(cfg, device, checkpoint_path, **kwargs)


def dcgan(cfg: DCGANConfig, device: torch.device | None = None, checkpoint_path=None, **kwargs) -> GANTrainer:
    """The DCGAN of Radford et al. 2015 on the images ``cfg.dataset`` names (channels follow the data)."""
    return RECIPES["dcgan"].build(cfg, device, checkpoint_path, **kwargs)


def wgan(
    cfg: WGANConfig | WGANGPConfig, device: torch.device | None = None, checkpoint_path=None, **kwargs
) -> GANTrainer:
    """WGAN (Arjovsky et al. 2017, Alg. 1) or, for a WGANGPConfig, WGAN-GP (Gulrajani et al. 2017, Alg. 1).

    The DCGAN networks; the discriminator, read without a sigmoid, is the critic
    (:func:`~gancourse.train.recipe_parts.wgan_critic`). WGAN clips every critic weight to
    [-c, c] after each critic step; WGAN-GP instead adds lambda * E[(||grad f(x^)|| - 1)^2]
    to the critic's loss (:func:`~gancourse.train.recipe_parts.wgan_objective`), and its
    critic has layer norm (or none) instead of batch norm (``cfg.critic_norm``).
    """
    name = "wgan_gp" if isinstance(cfg, WGANGPConfig) else "wgan"
    return RECIPES[name].build(cfg, device, checkpoint_path, **kwargs)


def wgan_gp(cfg: WGANGPConfig, device: torch.device | None = None, checkpoint_path=None, **kwargs) -> GANTrainer:
    """WGAN-GP with the DCGAN networks: :func:`wgan` with a WGANGPConfig."""
    if not isinstance(cfg, WGANGPConfig):
        raise TypeError(f"wgan_gp needs a WGANGPConfig, got {type(cfg).__name__}")
    return wgan(cfg, device, checkpoint_path, **kwargs)


def resnet_gan(cfg: ResNetGANConfig, device: torch.device | None = None, checkpoint_path=None, **kwargs) -> GANTrainer:
    """The WGAN-GP CIFAR ResNet (Gulrajani et al. 2017, App. F) on ``cfg.dataset`` (``cfg``: ResNetGANConfig).

    ``cfg.lr_decay_steps`` > 0 decays both learning rates linearly to 0 (:func:`linear_decay`),
    as the paper's CIFAR-10 script does (:meth:`ResNetGANConfig.cifar10`).
    """
    return RECIPES["resnet_gan"].build(cfg, device, checkpoint_path, **kwargs)


def conditional_gan(
    cfg: ConditionalGANConfig, device: torch.device | None = None, checkpoint_path=None, **kwargs
) -> GANTrainer:
    """Class-conditional DCGAN (Mirza & Osindero 2014; projection D of Miyato & Koyama 2018) on MNIST-family data.

    Real batches are ``(images, labels)``; G draws the fakes of a batch for the same
    labels. The fixed sample grid has 8 samples of each class (``trainer.samples``
    images in class order: ``nrow=8`` shows one row per class); ``trainer.data.classes``
    names the classes.
    """
    return RECIPES["conditional_gan"].build(cfg, device, checkpoint_path, **kwargs)


def pix2pix(cfg: Pix2PixConfig, device: torch.device | None = None, checkpoint_path=None, **kwargs) -> Pix2PixTrainer:
    """pix2pix (Isola et al. 2017) on paired images, input -> target, as ``cfg.dataset`` says.

    - MNIST-family names: Sobel edges of the image as input, the image as target;
    - ``'emoji'``: the Twemoji drawing as input, the Noto drawing of the same emoji as target;
    - ``'paired_folder'``: the A|B files of ``cfg.image_folder`` (facades, maps), ``cfg.direction``.

    The fixed batch is the first ``n_fixed`` (16) test pairs: ``trainer.fixed_condition``
    holds their inputs and ``trainer.data.fixed_target`` their targets.
    """
    return RECIPES["pix2pix"].build(cfg, device, checkpoint_path, **kwargs)


def progan(cfg: ProGANConfig, device: torch.device | None = None, checkpoint_path=None, **kwargs) -> ProgressiveTrainer:
    """ProGAN (Karras et al. 2018) on MNIST-family images or a folder, ``cfg``: ProGANConfig."""
    return RECIPES["progan"].build(cfg, device, checkpoint_path, **kwargs)


def stylegan2(
    cfg: StyleGAN2Config, device: torch.device | None = None, checkpoint_path=None, **kwargs
) -> StyleGAN2Trainer:
    """StyleGAN2 (Karras et al. 2020) on ``cfg.dataset``: the plain loop, the non-saturating loss with lazy R1.

    Style mixing and the average w live in the generator (training mode); the R1 step count in the
    objective (:class:`~gancourse.losses.R1Regularised`): both travel in the checkpoint.
    """
    return RECIPES["stylegan2"].build(cfg, device, checkpoint_path, **kwargs)


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
