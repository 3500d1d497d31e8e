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
import typing
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, ClassVar

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
    if hint is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{name} = {value!r} must be a bool (True or False)")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise ValueError(f"{name} = {value!r} must be an integer")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{name} = {value!r} must be a number")
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"{name} = {value!r} must be a finite number")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise ValueError(f"{name} = {value!r} must be a string")
        return value
    if origin is tuple:
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

    QUICK: ClassVar[Mapping[str, Any]] = {**DCGANConfig.QUICK}

    optimizer: str = param("rmsprop", choices=("adam", "rmsprop"), help="RMSprop (WGAN: momentum-based optimisers were unstable)")
    lr_g: float = param(5e-5, 1e-6, 1.0, log=True, help="generator learning rate (WGAN: 5e-5)")
    lr_d: float = param(5e-5, 1e-6, 1.0, log=True, help="critic learning rate (WGAN: 5e-5)")
    batch_size: int = param(64, 1, 4096, help="samples per update (WGAN: 64)")
    n_critic: int = param(5, 1, 100, help="critic updates per generator update (WGAN: 5)")
    clip_value: float = param(0.01, 1e-4, 1.0, log=True, help="critic weights clipped to [-c, c] (WGAN: 0.01)")


@dataclasses.dataclass(frozen=True)
class WGANGPConfig(DCGANConfig):
    """WGAN-GP, Gulrajani et al. 2017, Alg. 1: lambda = 10, n_critic = 5, Adam 1e-4 with betas (0, 0.9), m = 64.

    No batch norm in the critic (Sec. 4: it would make the penalty per-batch instead of
    per-sample); layer norm is the paper's suggested drop-in.
    """

    QUICK: ClassVar[Mapping[str, Any]] = {**DCGANConfig.QUICK}

    lr_g: float = param(1e-4, 1e-6, 1.0, log=True, help="generator Adam learning rate (WGAN-GP: 1e-4)")
    lr_d: float = param(1e-4, 1e-6, 1.0, log=True, help="critic Adam learning rate (WGAN-GP: 1e-4)")
    beta1: float = param(0.0, 0.0, 0.999, step=0.05, help="Adam beta1 (WGAN-GP: 0)")
    beta2: float = param(0.9, 0.0, 0.9999, step=0.001, help="Adam beta2 (WGAN-GP: 0.9)")
    batch_size: int = param(64, 1, 4096, help="samples per update (WGAN-GP: 64)")
    n_critic: int = param(5, 1, 100, help="critic updates per generator update (WGAN-GP: 5)")
    gp_weight: float = param(10.0, 0.0, 1000.0, step=0.5, help="lambda, the gradient penalty's weight (WGAN-GP: 10)")
    critic_norm: str = param("layer", choices=("layer", "none"), help="normalisation in the critic (no batch norm with GP)")


# ---- chapter 8 configs (conditional GAN, pix2pix) go below this line ----


# ---- chapter 9 configs (ProGAN) go below this line ----


# ---- chapter 11 configs (evaluation) go below this line ----


@dataclasses.dataclass(frozen=True)
class LatentArithmeticConfig(Config):
    """Which samples of a fixed noise batch enter ``z_a - z_b + z_c`` (Radford et al. 2015, Sec. 6.3)."""

    a: int = param(0, 0, 63, help="index of z_a in the fixed batch")
    b: int = param(1, 0, 63, help="index of z_b (subtracted)")
    c: int = param(2, 0, 63, help="index of z_c (added)")
