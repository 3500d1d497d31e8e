"""Hyperparameters as frozen dataclasses, and the quick/full run mode.

Every experiment in the book is described by one frozen dataclass derived from
:class:`Config`. Each field is declared with :func:`param`, which records the
range (or the allowed choices) that validation and the widgets both use, so a
slider can never offer a value that the code would reject. Field defaults are
the values of the paper a chapter follows (cited next to each field); the
``QUICK`` mapping of a class lists the fields that quick mode shrinks so that a
chapter runs in about a minute on a 2-core CPU.

Overrides go through :meth:`Config.replace` (a checked ``dataclasses.replace``);
there are no module-level settings.

The run mode is chosen by, in this order: an explicit argument, the environment
variable ``GANCOURSE_MODE``, and otherwise ``"full"`` when a GPU (CUDA or Apple
MPS) is present and ``"quick"`` when not.
"""

from __future__ import annotations

import dataclasses
import math
import os
import types
import typing
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, ClassVar

import numpy as np

MODES = ("quick", "full")
MODE_ENV = "GANCOURSE_MODE"


def run_mode(mode: str | None = None) -> str:
    """Return ``"quick"`` or ``"full"``: the argument, else ``$GANCOURSE_MODE``, else by hardware.

    >>> run_mode("QUICK")
    'quick'
    """
    source = "argument mode"
    if mode is None:
        mode = os.environ.get(MODE_ENV) or None
        source = f"environment variable {MODE_ENV}"
    if mode is None:
        from gancourse.device import pick_device

        return "full" if pick_device().type in ("cuda", "mps") else "quick"
    if not isinstance(mode, str) or mode.strip().lower() not in MODES:
        raise ValueError(f"{source} = {mode!r} is not a run mode: allowed values are 'quick' or 'full'")
    return mode.strip().lower()


def param(
    default: Any,
    low: float | None = None,
    high: float | None = None,
    *,
    choices: Iterable[Any] | None = None,
    log: bool = False,
    step: float | None = None,
    help: str = "",
) -> Any:
    """Declare a config field with its allowed range (``low <= value <= high``) or ``choices``.

    ``log=True`` asks widgets for a logarithmic slider (learning rates);
    ``step`` is the slider resolution for floats.
    """
    meta = {
        "low": low,
        "high": high,
        "choices": tuple(choices) if choices is not None else None,
        "log": log,
        "step": step,
        "help": help,
    }
    return dataclasses.field(default=default, metadata=meta)


def _allowed(meta: Mapping[str, Any]) -> str:
    if meta.get("choices") is not None:
        return "one of " + ", ".join(repr(c) for c in meta["choices"])
    low, high = meta.get("low"), meta.get("high")
    if low is not None and high is not None:
        return f"{low} <= value <= {high}"
    if low is not None:
        return f"value >= {low}"
    if high is not None:
        return f"value <= {high}"
    return "any value"


def _check_type(name: str, value: Any, hint: Any) -> Any:
    """Return ``value`` converted where lossless (int -> float), or raise ``ValueError``."""
    origin = typing.get_origin(hint)
    if origin is types.UnionType or origin is typing.Union:  # e.g. int | tuple[int, ...]: the first that fits
        for arm in typing.get_args(hint):
            try:
                return _check_type(name, value, arm)
            except ValueError:
                pass
        kinds = " or ".join(getattr(arm, "__name__", str(arm)) for arm in typing.get_args(hint))
        raise ValueError(f"{name} = {value!r} must be one of: {kinds}")
    if hint is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{name} = {value!r} must be a bool (True or False)")
        return value
    if hint is int:
        if isinstance(value, (bool, np.bool_)):
            raise ValueError(f"{name} = {value!r} must be an integer")
        if isinstance(value, np.integer):  # e.g. from np.arange in a sweep: a plain int, same value
            return int(value)
        if not isinstance(value, int):
            if isinstance(value, (float, np.floating)) and math.isfinite(value) and float(value).is_integer():
                return int(value)
            raise ValueError(f"{name} = {value!r} must be an integer")
        return value
    if hint is float:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise ValueError(f"{name} = {value!r} must be a number")
        try:
            value = float(value)
        except OverflowError:  # an int beyond float's range, e.g. 10**400
            size = f"{'-' if value < 0 else ''}10^{int(math.log10(abs(value)))}"
            raise ValueError(f"{name} = about {size} is beyond the float range: must be a finite number") from None
        if not math.isfinite(value):
            raise ValueError(f"{name} = {value!r} must be a finite number")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise ValueError(f"{name} = {value!r} must be a string")
        return value
    if origin is tuple:
        if isinstance(value, np.ndarray) and value.ndim == 1:  # e.g. np.arange(...): its items as a tuple
            value = tuple(value)
        if not isinstance(value, (tuple, list)):
            raise ValueError(f"{name} = {value!r} must be a tuple")
        args = typing.get_args(hint)
        item = args[0] if args else Any
        if item is not Any:
            value = tuple(_check_type(f"{name}[{i}]", v, item) for i, v in enumerate(value))
        return tuple(value)
    return value


@dataclasses.dataclass(frozen=True)
class Config:
    """Base class: validates every field on construction and knows its quick-mode variant."""

    #: Field values that quick mode uses instead of the (paper) defaults.
    QUICK: ClassVar[Mapping[str, Any]] = {}

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(type(self))
        cls = type(self).__name__
        for f in dataclasses.fields(self):
            name = f"{cls}.{f.name}"
            value = _check_type(name, getattr(self, f.name), hints[f.name])
            object.__setattr__(self, f.name, value)
            meta = f.metadata
            if meta.get("choices") is not None:
                if value not in meta["choices"]:
                    raise ValueError(f"{name} = {value!r} is not allowed: choose {_allowed(meta)}")
                continue
            for item in value if isinstance(value, tuple) else (value,):
                too_low = meta.get("low") is not None and item < meta["low"]
                too_high = meta.get("high") is not None and item > meta["high"]
                if too_low or too_high:
                    raise ValueError(f"{name} = {value!r} is out of range: allowed {_allowed(meta)}")
        self.check()

    def check(self) -> None:
        """Cross-field checks; subclasses override and raise ``ValueError``."""

    @classmethod
    def for_mode(cls, mode: str | None = None, **overrides: Any):
        """The config for a run mode (see :func:`run_mode`), with ``overrides`` applied last."""
        cfg = cls()
        if run_mode(mode) == "quick":
            cfg = cfg.quick()
        return cfg.replace(**overrides)

    def quick(self):
        """This config with the class's quick-mode values."""
        return self.replace(**self.QUICK)

    def replace(self, **changes: Any):
        """``dataclasses.replace`` that names an unknown field instead of a bare ``TypeError``."""
        names = [f.name for f in dataclasses.fields(self)]
        unknown = sorted(set(changes) - set(names))
        if unknown:
            raise ValueError(
                f"{type(self).__name__} has no field {', '.join(unknown)}: fields are {', '.join(names)}"
            )
        return dataclasses.replace(self, **changes)

    @classmethod
    def spec(cls) -> list[dict[str, Any]]:
        """One dict per field: name, type, default and its range metadata (used by the widgets)."""
        hints = typing.get_type_hints(cls)
        return [
            {"name": f.name, "type": hints[f.name], "default": f.default, **f.metadata}
            for f in dataclasses.fields(cls)
        ]

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def sweep(cfg: Config, name: str, values: Iterable[Any]) -> Iterator[Config]:
    """Configs that differ from ``cfg`` only in field ``name`` (for precomputed sweeps)."""
    for value in values:
        yield cfg.replace(**{name: value})


# --------------------------------------------------------------------------------------
# Configs of the chapters
# --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class GaussianPair1D(Config):
    """Chapter 1: a data density and a generator density on the real line.

    Both are normal distributions; the figure derives the optimal discriminator
    and the value of the minimax game from them (Goodfellow et al. 2014, Prop. 1, Thm. 1).
    """

    data_mean: float = param(0.0, -4.0, 4.0, step=0.1, help="mean of p_data")
    data_std: float = param(1.0, 0.2, 3.0, step=0.05, help="standard deviation of p_data")
    gen_mean: float = param(2.0, -4.0, 4.0, step=0.1, help="mean of p_g")
    gen_std: float = param(0.7, 0.2, 3.0, step=0.05, help="standard deviation of p_g")


@dataclasses.dataclass(frozen=True)
class RegressionConfig(Config):
    """Chapter 3: the 3 -> 20 -> 1 network fitted with Adam on a synthetic target.

    Adam's defaults are Kingma & Ba 2015 (lr 1e-3, betas (0.9, 0.999)); we use a
    larger step because the problem is tiny and well conditioned.
    """

    QUICK: ClassVar[Mapping[str, Any]] = {"steps": 300}

    hidden: int = param(20, 1, 512, help="width of the hidden layer")
    lr: float = param(1e-2, 1e-5, 1.0, log=True, help="Adam learning rate (paper default 1e-3)")
    beta1: float = param(0.9, 0.0, 0.999, step=0.01, help="Adam beta1 (paper default 0.9)")
    batch_size: int = param(64, 1, 4096, help="examples per step")
    steps: int = param(1000, 1, 100_000, help="optimizer steps")
    n_train: int = param(2048, 16, 1_000_000, help="training examples")
    noise_std: float = param(0.1, 0.0, 2.0, step=0.05, help="standard deviation of the label noise")
    seed: int = param(0, 0, 2**31 - 1, help="random seed")


@dataclasses.dataclass(frozen=True)
class DataConfig(Config):
    """An image data set and how it is served: size, batch and augmentation.

    Images are scaled to [-1, 1] to match a generator's tanh output (Radford et al. 2015).
    MNIST-family images are 28x28; 32x32 (padding-free resize) suits strided
    convolutions that halve the size down to 4x4.
    """

    QUICK: ClassVar[Mapping[str, Any]] = {"limit": 10_000}

    dataset: str = param("mnist", choices=("mnist", "fashion_mnist"), help="which data set")
    image_size: int = param(32, 8, 256, help="side of the (square) images after resizing")
    batch_size: int = param(64, 1, 4096, help="images per batch")
    augment: bool = param(False, help="random affine augmentation (train split only)")
    limit: int = param(0, 0, 10_000_000, help="use only the first N images (0 = all)")
    num_workers: int = param(0, 0, 64, help="DataLoader worker processes")
    seed: int = param(0, 0, 2**31 - 1, help="seed of the shuffling order")


@dataclasses.dataclass(frozen=True)
class GANConfig(Config):
    """What every GAN run shares: the optimisation schedule, the losses' options, logging.

    Defaults follow Radford et al. 2015 (Adam, lr 2e-4, beta1 0.5, batch 128) unless a
    subclass says otherwise. ``steps`` counts generator updates; each is preceded by
    ``n_critic`` discriminator updates (Goodfellow et al. 2014, Alg. 1: k = 1).
    """

    steps: int = param(5000, 1, 10_000_000, help="generator updates")
    batch_size: int = param(128, 1, 4096, help="real and fake samples per update (DCGAN: 128)")
    latent_dim: int = param(100, 1, 1024, help="size of z (DCGAN: 100)")
    optimizer: str = param("adam", choices=("adam", "rmsprop"), help="Adam (DCGAN, WGAN-GP) or RMSprop (WGAN)")
    lr_g: float = param(2e-4, 1e-6, 1.0, log=True, help="generator learning rate (DCGAN: 2e-4)")
    lr_d: float = param(2e-4, 1e-6, 1.0, log=True, help="discriminator learning rate (DCGAN: 2e-4)")
    beta1: float = param(0.5, 0.0, 0.999, step=0.05, help="Adam beta1 (DCGAN: 0.5; Adam's default 0.9)")
    beta2: float = param(0.999, 0.0, 0.9999, step=0.001, help="Adam beta2")
    n_critic: int = param(1, 1, 100, help="discriminator updates per generator update (k in Alg. 1)")
    generator_loss: str = param(
        "non_saturating", choices=("non_saturating", "saturating"), help="G maximises log D(G(z)), or minimises log(1 - D(G(z)))"
    )
    label_smoothing: float = param(
        0.0, 0.0, 0.5, step=0.05, help="one-sided: real targets 1 - s (Salimans et al. 2016); 0 = off"
    )
    freeze_d_in_g_step: bool = param(True, help="requires_grad_(False) on D while G is updated (saves work)")
    log_every: int = param(10, 1, 100_000, help="record losses every N steps")
    sample_every: int = param(250, 1, 10_000_000, help="generate the fixed-noise grid every N steps")
    checkpoint_every: int = param(500, 0, 10_000_000, help="save a checkpoint every N steps (0: only at the end)")
    amp: bool = param(False, help="mixed precision on CUDA (no effect on CPU)")
    channels_last: bool = param(False, help="channels_last memory format on CUDA (no effect on CPU)")
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


@dataclasses.dataclass(frozen=True)
class MLPGANConfig(GANConfig):
    """Goodfellow et al. 2014's setting on MNIST: fully connected G and D (ours: LeakyReLU, no maxout)."""

    QUICK: ClassVar[Mapping[str, Any]] = {"steps": 1500, "data_limit": 10_000, "hidden": 256, "batch_size": 64}

    dataset: str = param("mnist", choices=("mnist", "fashion_mnist"), help="training images")
    image_size: int = param(32, 8, 128, help="side of the images")
    data_limit: int = param(0, 0, 10_000_000, help="use the first N training images (0 = all)")
    hidden: int = param(512, 16, 4096, help="units of the widest hidden layer")


@dataclasses.dataclass(frozen=True)
class DCGANConfig(GANConfig):
    """Radford et al. 2015: strided convolutions, batch norm, Adam 2e-4 / beta1 0.5, batch 128, z in R^100."""

    QUICK: ClassVar[Mapping[str, Any]] = {
        "steps": 600,
        "base_channels": 32,  # 16 channels drew only diagonal strokes after 700 steps; 32 draws digits by ~400
        "batch_size": 64,
        "data_limit": 20_000,
        "sample_every": 100,
    }

    dataset: str = param("mnist", choices=("mnist", "fashion_mnist"), help="training images")
    image_size: int = param(32, 16, 128, help="side of the images: a power of two (32 for MNIST, 64 option)")
    data_limit: int = param(0, 0, 10_000_000, help="use the first N training images (0 = all)")
    base_channels: int = param(64, 4, 512, help="channels of the widest-resolution layer (paper: 128 at 64 px)")

    def check(self) -> None:
        if self.image_size & (self.image_size - 1):
            raise ValueError(
                f"DCGANConfig.image_size = {self.image_size} is not supported: the architecture doubles "
                "4 x 4 up to the image size, so allowed values are 16, 32, 64, 128"
            )


@dataclasses.dataclass(frozen=True)
class WGANConfig(DCGANConfig):
    """WGAN with weight clipping, Arjovsky et al. 2017, Alg. 1: RMSprop, alpha = 5e-5, c = 0.01, m = 64, n_critic = 5.

    The critic is the DCGAN discriminator without its sigmoid (ours never had one).
    """

    QUICK: ClassVar[Mapping[str, Any]] = {
        **DCGANConfig.QUICK,
        # With n_critic = 5 a generator step costs ~3x a DCGAN step, and at the paper's
        # lr 5e-5 digits take thousands of steps. In ~30 s on one CPU core, width 16, batch 32,
        # n_critic = 2 and lr 2e-4 draw digit-like strokes after 500 steps (full mode: Alg. 1).
        "steps": 500,
        "base_channels": 16,
        "batch_size": 32,
        "n_critic": 2,
        "lr_g": 2e-4,
        "lr_d": 2e-4,
    }

    optimizer: str = param("rmsprop", choices=("adam", "rmsprop"), help="RMSprop (WGAN: momentum-based optimisers were unstable)")
    lr_g: float = param(5e-5, 1e-6, 1.0, log=True, help="generator learning rate (WGAN: 5e-5)")
    lr_d: float = param(5e-5, 1e-6, 1.0, log=True, help="critic learning rate (WGAN: 5e-5)")
    batch_size: int = param(64, 1, 4096, help="samples per update (WGAN: 64)")
    n_critic: int = param(5, 1, 100, help="critic updates per generator update (WGAN: 5)")
    clip_value: float = param(0.01, 1e-4, 1.0, log=True, help="critic weights clipped to [-c, c] (WGAN: 0.01)")
    critic_norm: str = param(
        "batch", choices=("batch", "layer", "none"), help="normalisation in the critic (WGAN: DCGAN's batch norm)"
    )


@dataclasses.dataclass(frozen=True)
class WGANGPConfig(DCGANConfig):
    """WGAN-GP, Gulrajani et al. 2017, Alg. 1: lambda = 10, n_critic = 5, Adam 1e-4 with betas (0, 0.9), m = 64.

    No batch norm in the critic (Sec. 4: it would make the penalty per-batch instead of
    per-sample); layer norm is the paper's suggested drop-in.
    """

    QUICK: ClassVar[Mapping[str, Any]] = {
        **DCGANConfig.QUICK,
        # The penalty's double backward makes a critic step ~3x a plain one, so with n_critic = 5
        # a generator step costs ~8x a DCGAN step. In ~50 s on one CPU core, width 16, batch 32,
        # n_critic = 2 and lr 5e-4 (2e-4 was visibly behind) draw digit-like strokes after 500
        # steps; full mode keeps Alg. 1's settings.
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
    batch_size: int = param(64, 1, 4096, help="samples per update (WGAN-GP: 64)")
    n_critic: int = param(5, 1, 100, help="critic updates per generator update (WGAN-GP: 5)")
    gp_weight: float = param(10.0, 0.0, 1000.0, step=0.5, help="lambda, the gradient penalty's weight (WGAN-GP: 10)")
    critic_norm: str = param("layer", choices=("layer", "none"), help="normalisation in the critic (no batch norm with GP)")


@dataclasses.dataclass(frozen=True)
class ResNetGANConfig(WGANGPConfig):
    """The CIFAR-10 ResNet of Gulrajani et al. 2017 (App. F), trained with WGAN-GP's Alg. 1 settings.

    Width 128 in every block, z in R^128, no normalisation in the critic. The released
    CIFAR script also used lr 2e-4 decayed linearly to 0 over 100k steps; we keep Alg. 1's
    constant 1e-4 so that the ResNet and the DCGAN it is compared with share one optimiser.
    """

    QUICK: ClassVar[Mapping[str, Any]] = {
        **WGANGPConfig.QUICK,
        # A ResNet critic step with the gradient penalty costs ~4x a DCGAN one (3x3 convs at full
        # resolution, a double backward through all of them): at width 16, batch 32 and n_critic 5
        # a generator step takes ~0.8 s on one CPU core, and 150 steps drew only noise. One critic
        # step per generator step, batch 16 and lr 3e-4 take ~0.12 s per step and draw digit-like
        # strokes by ~300 steps; full mode keeps the paper's n_critic = 5 and lr 1e-4.
        "steps": 400,
        "base_channels": 16,
        "batch_size": 16,
        "n_critic": 1,
        "lr_g": 3e-4,
        "lr_d": 3e-4,
        "sample_every": 50,
    }

    latent_dim: int = param(128, 1, 1024, help="size of z (WGAN-GP CIFAR ResNet: 128)")
    base_channels: int = param(128, 4, 512, help="channels of every residual block (WGAN-GP CIFAR ResNet: 128)")
    critic_norm: str = param("none", choices=("layer", "none"), help="normalisation in the critic (CIFAR ResNet: none)")


# Chapter 8: conditional GAN, pix2pix


@dataclasses.dataclass(frozen=True)
class ConditionalGANConfig(DCGANConfig):
    """Class-conditional DCGAN (Mirza & Osindero 2014): G(z, y) and D(x, y), y one of the 10 classes.

    Optimisation as DCGAN (Adam 2e-4, beta1 0.5, batch 128). The label enters G as a
    learnt embedding concatenated with z, and D either by concatenation (Mirza &
    Osindero) or by projection (Miyato & Koyama 2018). MNIST-family data sets have
    10 classes; real batches carry their true labels, so the label marginal p(y) is the data's.
    """

    # 400 steps at batch 32: about a minute on one free CPU core. Measured conditional accuracy:
    # 94 % with embed_dim 50, 65 % with embed_dim 10 (the label then carries too little of G's input)
    QUICK: ClassVar[Mapping[str, Any]] = {**DCGANConfig.QUICK, "steps": 400, "batch_size": 32, "sample_every": 50}

    embed_dim: int = param(
        50, 1, 512, help="size of the label embedding e(y) (Mirza & Osindero map y to 1000 units, z to 200)"
    )
    projection: bool = param(False, help="projection discriminator (Miyato & Koyama 2018) instead of concatenation")


@dataclasses.dataclass(frozen=True)
class ConditionalSampleConfig(Config):
    """What the chapter-8 widget draws: ``n`` samples of class ``label`` from noise seeded by ``seed``."""

    label: int = param(7, 0, 9, help="the class y asked for (digit, or garment index)")
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
    mode uses a 16 x 16 PatchGAN (``d_layers`` = 1). ``latent_dim`` is unused.
    """

    QUICK: ClassVar[Mapping[str, Any]] = {
        "steps": 300,
        "batch_size": 16,
        "base_channels": 16,
        "d_layers": 1,
        "data_limit": 10_000,
        "sample_every": 100,
    }

    dataset: str = param("fashion_mnist", choices=("mnist", "fashion_mnist"), help="target images (edges are computed from them)")
    image_size: int = param(32, choices=(16, 32, 64, 128, 256), help="side of the images (paper: 256); U-Net depth log2(size)")
    data_limit: int = param(0, 0, 10_000_000, help="use the first N training images (0 = all)")
    steps: int = param(60_000, 1, 10_000_000, help="generator updates (60,000 at batch 1: one epoch of Fashion-MNIST)")
    batch_size: int = param(1, 1, 4096, help="pairs per update (pix2pix: 1)")
    base_channels: int = param(64, 4, 512, help="channels of the first G and D layers (pix2pix: 64)")
    d_layers: int = param(3, 1, 6, help="stride-2 layers of the PatchGAN: 3 = 70 x 70 (paper), 1 = 16 x 16, 2 = 34 x 34")
    norm: str = param("batch", choices=("batch", "instance"), help="normalisation (pix2pix: batch norm at batch 1 = instance norm)")
    dropout: float = param(0.5, 0.0, 0.9, step=0.05, help="dropout of the first three decoder layers (pix2pix: 0.5)")
    test_dropout: bool = param(True, help="keep dropout on when generating (pix2pix: yes, it is the noise)")
    l1_weight: float = param(100.0, 0.0, 10_000.0, step=1.0, help="lambda, the weight of the L1 term (pix2pix: 100)")
    adversarial: bool = param(True, help="include the cGAN term in G's loss (False: the L1-only ablation)")
    d_loss_factor: float = param(0.5, 0.01, 1.0, step=0.05, help="D's loss multiplied by this (pix2pix: 1/2)")
    edge_threshold: float = param(0.25, 0.0, 4.0, step=0.05, help="Sobel magnitude (on [0, 1] pixels) above which a pixel is an edge")

    def check(self) -> None:
        if not self.adversarial and self.l1_weight == 0:
            raise ValueError("Pix2PixConfig: adversarial = False and l1_weight = 0 leave G with no loss: enable one")


# Chapter 9: ProGAN


class ProGANPhase(typing.NamedTuple):
    """One phase of ProGAN's schedule: a fade-in of a new resolution or a stabilisation at it."""

    resolution: int
    kind: str  # "fade-in" or "stabilise"
    start: int  # the first generator step of the phase
    steps: int  # generator updates in the phase: ceil(images / batch_size)
    batch_size: int
    images: int  # real images shown in the phase


@dataclasses.dataclass(frozen=True)
class ProGANConfig(GANConfig):
    """Karras et al. 2018 (Sec. 2-4, App. A.1): grow 4 x 4 -> ``image_size``, WGAN-GP with drift.

    The schedule: stabilise at 4 x 4 for ``stable_images`` real images, then for each
    doubling a fade-in of ``fade_images`` images (alpha rising linearly from 0 to 1)
    and a stabilisation of ``stable_images`` images (paper: 800k each). Both take one
    number for every resolution or a tuple, one per resolution, like the batch sizes
    (paper: 16 up to 128 x 128; the official code also has per-resolution tables). ``steps`` is not set by hand: it is
    the schedule's total, derived here, so the two cannot disagree.
    Adam lr 1e-3, betas (0, 0.99); lambda = 10, eps_drift = 0.001; n_critic = 1.
    """

    QUICK: ClassVar[Mapping[str, Any]] = {
        # About 75 s of one CPU core. Most images go to the cheap low resolutions, which get
        # the widest layers (32 channels at 4 and 8, 16 at 16, 8 at 32 x 32). Measured (FID,
        # 1000 images, classifier features, seeds 0 / 1): lr 4e-4: 505 / 1223 (blobs, no
        # digits); lr 3e-3: 272 / 317 (readable digits). Equalized LR makes every weight move
        # by about lr relative to its scale, whatever the width; a narrow network without it
        # moves by lr / sqrt(2 / fan_in), 6-12x more here (equalized_lr=False at 4e-4: 342 /
        # 187), so over ~1,200 steps these tiny networks need a larger rate than the paper's.
        # Tried and worse: 128/64/32/16 channels, batch (64, 64, 32, 16), lr 1e-3: 831 in
        # 228 s; 6k images at 16 and 1k at 32 x 32, lr 4e-4: 623.
        "latent_dim": 32,
        "fmap_base": 128,
        "fmap_max": 32,
        "fade_images": (3_000, 3_000, 2_000),  # at 8, 16, 32
        "stable_images": (8_000, 6_000, 4_000, 2_000),  # at 4, 8, 16, 32
        "batch_sizes": (32, 32, 16, 16),
        "lr_g": 3e-3,
        "lr_d": 3e-3,
        "data_limit": 10_000,
        "log_every": 10,
    }

    dataset: str = param("mnist", choices=("mnist", "fashion_mnist", "folder"), help="training images ('folder': image_folder)")
    image_folder: str = param("", help="with dataset='folder': a folder of images (any size, center-cropped, RGB)")
    image_size: int = param(32, 8, 1024, help="target resolution: a power of two (paper: 1024 on CelebA-HQ)")
    data_limit: int = param(0, 0, 10_000_000, help="use the first N training images (0 = all)")
    latent_dim: int = param(512, 1, 1024, help="size of z (paper: 512)")
    fmap_base: int = param(8192, 16, 65536, help="channels at resolution r: min(fmap_max, fmap_base / (r/2)) (paper: 8192)")
    fmap_max: int = param(512, 4, 1024, help="most channels of any layer (paper: 512)")
    fade_images: int | tuple[int, ...] = param(
        800_000, 1, 100_000_000,
        help="real images shown while alpha rises 0 -> 1; or one per resolution 8, 16, ... image_size (paper: 800k)",
    )
    stable_images: int | tuple[int, ...] = param(
        800_000, 1, 100_000_000,
        help="real images per stabilisation phase; or one per resolution 4, 8, ... image_size (paper: 800k)",
    )
    batch_sizes: tuple[int, ...] = param(
        (16, 16, 16, 16), 1, 4096, help="batch size at 4, 8, 16, ... up to image_size, one each (paper: 16 up to 128)"
    )
    batch_size: int = param(16, 1, 4096, help="not used: ProGAN's batch size depends on the resolution (batch_sizes)")
    equalized_lr: bool = param(True, help="equalized learning rate, Sec. 4.1 (off: He init, no run-time scale)")
    pixel_norm: bool = param(True, help="pixelwise feature normalisation in G, Sec. 4.2")
    minibatch_std: bool = param(True, help="minibatch standard deviation layer in D, Sec. 3")
    group_size: int = param(4, 1, 64, help="samples per minibatch-stddev group (paper: 4)")
    reset_optimizer: bool = param(True, help="clear Adam's moments when a phase starts (official code: reset_opt_for_new_lod)")
    lr_g: float = param(1e-3, 1e-6, 1.0, log=True, help="generator Adam learning rate (ProGAN: 1e-3)")
    lr_d: float = param(1e-3, 1e-6, 1.0, log=True, help="critic Adam learning rate (ProGAN: 1e-3)")
    beta1: float = param(0.0, 0.0, 0.999, step=0.05, help="Adam beta1 (ProGAN: 0)")
    beta2: float = param(0.99, 0.0, 0.9999, step=0.001, help="Adam beta2 (ProGAN: 0.99)")
    gp_weight: float = param(10.0, 0.0, 1000.0, step=0.5, help="lambda, the gradient penalty's weight (ProGAN: 10)")
    drift: float = param(0.001, 0.0, 1.0, step=0.001, help="eps_drift, weight of E[D(x)^2] (ProGAN: 0.001)")
    sample_every: int = param(10_000_000, 1, 10_000_000, help="extra fixed-noise snapshots every N steps (one is kept at every phase end)")
    checkpoint_every: int = param(2000, 0, 10_000_000, help="save a checkpoint every N steps (0: only at the end)")
    steps: int = dataclasses.field(default=0, init=False, metadata={"help": "derived: the schedule's total generator updates"})

    @property
    def resolutions(self) -> tuple[int, ...]:
        """4, 8, ..., image_size."""
        return tuple(2**k for k in range(2, self.image_size.bit_length()))  # 32 = 0b100000: k = 2..5

    def phases(self) -> tuple[ProGANPhase, ...]:
        """The schedule: stabilise at 4 x 4, then (fade-in, stabilise) for each doubling."""
        out: list[ProGANPhase] = []
        start = 0
        for i, (resolution, batch) in enumerate(zip(self.resolutions, self.batch_sizes)):
            for kind in ("fade-in", "stabilise"):
                if kind == "fade-in" and i == 0:
                    continue  # 4 x 4 has nothing to fade from
                images = self.images(kind, resolution)
                steps = -(-images // batch)
                out.append(ProGANPhase(resolution, kind, start, steps, batch, images))
                start += steps
        return tuple(out)

    def images(self, kind: str, resolution: int) -> int:
        """Real images in the ``kind`` ("fade-in" or "stabilise") phase at ``resolution``."""
        value = self.fade_images if kind == "fade-in" else self.stable_images
        if isinstance(value, int):
            return value
        first = 8 if kind == "fade-in" else 4  # fade_images starts at 8 x 8: 4 x 4 has no fade-in
        return value[int(math.log2(resolution // first))]

    def stage(self, step: int) -> tuple[int, int, float, int]:
        """``(phase index, resolution, alpha, batch size)`` for generator update ``step`` (0-based).

        alpha = (real images shown so far in the fade-in) / (its images), so it is 0 at the
        first step of a fade-in and 1 in every stabilisation phase; steps past the end
        stay in the last phase.
        """
        phases = self.phases()
        for index, phase in enumerate(phases):
            if step < phase.start + phase.steps or index == len(phases) - 1:
                if phase.kind == "fade-in":
                    alpha = min(1.0, max(0, step - phase.start) * phase.batch_size / phase.images)
                else:
                    alpha = 1.0
                return index, phase.resolution, alpha, phase.batch_size
        raise AssertionError("unreachable: the schedule has at least one phase")

    def replace(self, **changes: Any):
        if "steps" in changes:
            raise ValueError(
                "ProGANConfig.steps is derived from the schedule and cannot be set: change fade_images, "
                "stable_images or batch_sizes instead"
            )
        return super().replace(**changes)

    def check(self) -> None:
        size = self.image_size
        if size & (size - 1):
            raise ValueError(
                f"ProGANConfig.image_size = {size} is not a power of two: the networks grow 4 x 4 by doubling, "
                "so allowed values are 8, 16, 32, 64, 128, 256, 512, 1024"
            )
        wanted = ", ".join(map(str, self.resolutions))
        if len(self.batch_sizes) < len(self.resolutions):
            reached = 4 * 2 ** (len(self.batch_sizes) - 1)
            raise ValueError(
                f"ProGANConfig.batch_sizes = {self.batch_sizes} has {len(self.batch_sizes)} entries, so the schedule "
                f"stops at {reached} x {reached} and never reaches image_size = {size}: give one batch size "
                f"per resolution {wanted}"
            )
        if len(self.batch_sizes) > len(self.resolutions):
            raise ValueError(
                f"ProGANConfig.batch_sizes = {self.batch_sizes} has {len(self.batch_sizes)} entries, more than the "
                f"resolutions up to image_size = {size}: give one batch size per resolution {wanted}"
            )
        for name, first in (("fade_images", 8), ("stable_images", 4)):
            value = getattr(self, name)
            if isinstance(value, tuple):
                expected = [r for r in self.resolutions if r >= first]
                if len(value) != len(expected):
                    raise ValueError(
                        f"ProGANConfig.{name} = {value} has {len(value)} entries: give one number, or one per "
                        f"resolution {', '.join(map(str, expected))} ({len(expected)} entries)"
                    )
        if self.minibatch_std:
            bad = [b for b in self.batch_sizes if b % min(self.group_size, b)]
            if bad:
                raise ValueError(
                    f"ProGANConfig.batch_sizes = {self.batch_sizes}: {bad} not divisible by group_size = "
                    f"{self.group_size}; the minibatch-stddev layer needs whole groups"
                )
        if self.dataset == "folder" and not self.image_folder:
            raise ValueError("ProGANConfig.image_folder = '' but dataset = 'folder': give the folder of images")
        object.__setattr__(self, "steps", sum(p.steps for p in self.phases()))  # derived, never set by hand




@dataclasses.dataclass(frozen=True)
class LatentArithmeticConfig(Config):
    """Which samples of a fixed noise batch enter ``z_a - z_b + z_c`` (Radford et al. 2015, Sec. 6.3)."""

    a: int = param(0, 0, 63, help="index of z_a in the fixed batch")
    b: int = param(1, 0, 63, help="index of z_b (subtracted)")
    c: int = param(2, 0, 63, help="index of z_c (added)")
