"""Config of chapter 9: ProGAN's growth schedule and networks."""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers
import typing
from collections.abc import Mapping
from typing import Any, ClassVar

from gancourse.config.base import param, run_mode
from gancourse.config.basics import IMAGE_DATASETS, check_image_folder
from gancourse.config.gan import GANConfig


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
    Adam lr 1e-3, betas (0, 0.99); lambda = 10, eps_drift = 0.001; n_critic = 1; samples and metrics
    come from the moving average of G's weights (decay 0.999, App. A.1; ``ema_decay``).
    """

    QUICK: ClassVar[Mapping[str, Any]] = {
        # Most images go to the cheap low resolutions, which get the widest layers (32 channels
        # at 4 and 8, 16 at 16, 8 at 32 x 32). Equalized LR makes every weight move by about lr
        # relative to its scale, whatever the width, so the paper's rate, right for 512 channels
        # over millions of images, is slow for these tiny networks over ~1,200 steps: the quick
        # rate is larger. The settings tried and their scores: tuning notes in book/results.md.
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
    #: full mode: the paper's schedule and rates on narrower networks and fewer images: 128 channels (1/16 of
    #: the FLOPs of 512), 15k images per phase, batch 32: ~12 T4 minutes with emoji and the ablation (config.budget)
    FULL: ClassVar[Mapping[str, Any]] = {
        "latent_dim": 128,
        "fmap_base": 2048,
        "fmap_max": 128,
        "fade_images": 15_000,
        "stable_images": 15_000,
        "batch_sizes": (32, 32, 32, 32),
    }
    #: a smoke run: one step per phase (every stage and fade-in still runs), 16 channels
    SMOKE: ClassVar[Mapping[str, Any]] = {"fmap_base": 64, "fmap_max": 16, "fade_images": 8, "stable_images": 8}

    dataset: str = param("mnist", choices=IMAGE_DATASETS, help="training images ('folder': image_folder)")
    ema_decay: float = param(
        0.999,
        0.0,
        0.9999,
        step=0.0001,
        help="decay of the moving average of G's weights used for samples and metrics (App. A.1: 0.999); 0 = off",
    )
    image_folder: str = param("", help="with dataset='folder': a folder of images (any size, center-cropped, RGB)")
    image_size: int = param(32, 8, 1024, help="target resolution: a power of two (paper: 1024 on CelebA-HQ)")
    data_limit: int = param(0, 0, 10_000_000, help="use the first N training images (0 = all)")
    latent_dim: int = param(512, 1, 1024, help="size of z (paper: 512)")
    fmap_base: int = param(
        8192, 16, 65536, help="channels at resolution r: min(fmap_max, fmap_base / (r/2)) (paper: 8192)"
    )
    fmap_max: int = param(512, 4, 1024, help="most channels of any layer (paper: 512)")
    fade_images: int | tuple[int, ...] = param(
        800_000,
        1,
        100_000_000,
        help="real images shown while alpha rises 0 -> 1; or one per resolution 8, 16, ... image_size (paper: 800k)",
    )
    stable_images: int | tuple[int, ...] = param(
        800_000,
        1,
        100_000_000,
        help="real images per stabilisation phase; or one per resolution 4, 8, ... image_size (paper: 800k)",
    )
    batch_sizes: tuple[int, ...] = param(
        (16, 16, 16, 16), 1, 4096, help="batch size at 4, 8, 16, ... up to image_size, one each (paper: 16 up to 128)"
    )
    equalized_lr: bool = param(True, help="equalized learning rate, Sec. 4.1 (off: He init, no run-time scale)")
    pixel_norm: bool = param(True, help="pixelwise feature normalisation in G, Sec. 4.2")
    minibatch_std: bool = param(True, help="minibatch standard deviation layer in D, Sec. 3")
    group_size: int = param(4, 1, 64, help="samples per minibatch-stddev group (paper: 4)")
    reset_optimizer: bool = param(
        True, help="clear Adam's moments when a phase starts (official code: reset_opt_for_new_lod)"
    )
    lr_g: float = param(1e-3, 1e-6, 1.0, log=True, help="generator Adam learning rate (ProGAN: 1e-3)")
    lr_d: float = param(1e-3, 1e-6, 1.0, log=True, help="critic Adam learning rate (ProGAN: 1e-3)")
    beta1: float = param(0.0, 0.0, 0.999, step=0.05, help="Adam beta1 (ProGAN: 0)")
    beta2: float = param(0.99, 0.0, 0.9999, step=0.001, help="Adam beta2 (ProGAN: 0.99)")
    gp_weight: float = param(10.0, 0.0, 1000.0, step=0.5, help="lambda, the gradient penalty's weight (ProGAN: 10)")
    objective: str = param(
        "wasserstein", choices=("wasserstein",), help="the Wasserstein critic's losses (this recipe's own)"
    )
    drift: float = param(0.001, 0.0, 1.0, step=0.001, help="eps_drift, weight of E[D(x)^2] (ProGAN: 0.001)")
    sample_every: int = param(
        10_000_000, 1, 10_000_000, help="extra fixed-noise snapshots every N steps (one is kept at every phase end)"
    )
    checkpoint_every: int = param(2000, 0, 10_000_000, help="save a checkpoint every N steps (0: only at the end)")
    steps: int = dataclasses.field(
        default=0, init=False, metadata={"help": "derived: the schedule's total generator updates"}
    )

    @property
    def resolutions(self) -> tuple[int, ...]:
        """4, 8, ..., image_size."""
        return tuple(2**k for k in range(2, self.image_size.bit_length()))  # 32 = 0b100000: k = 2..5

    def phases(self) -> tuple[ProGANPhase, ...]:
        """The schedule: stabilise at 4 x 4, then (fade-in, stabilise) for each doubling.

        Computed once per config (the config is frozen) and reused: the trainer asks for the
        stage of every step.
        """
        return self._schedule

    @functools.cached_property
    def _schedule(self) -> tuple[ProGANPhase, ...]:
        # cached_property writes to the instance's __dict__ directly, which a frozen dataclass allows;
        # the cache is not a field, so equality, repr and the config record ignore it
        out: list[ProGANPhase] = []
        start = 0
        for i, (resolution, batch) in enumerate(zip(self.resolutions, self.batch_sizes, strict=True)):
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
        stay in the last phase. A negative or non-integer ``step`` is a ``ValueError``.
        """
        if isinstance(step, bool) or not isinstance(step, numbers.Integral) or step < 0:
            raise ValueError(f"step = {step!r} is out of range: allowed an integer >= 0 (generator updates so far)")
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
        if not self.batch_sizes:
            raise ValueError(
                f"ProGANConfig.batch_sizes = () is empty: give one batch size per resolution {wanted} "
                f"({len(self.resolutions)} entries)"
            )
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
        check_image_folder(self)
        object.__setattr__(self, "steps", sum(p.steps for p in self.phases()))  # derived, never set by hand


#: The chapter's ablation: every run keeps the other tricks and switches off one (Karras et al. 2018,
#: Table 1, ablates them on CelebA at 128 x 128).
ABLATIONS: Mapping[str, Mapping[str, bool]] = {
    "all three": {},
    "no equalized LR": {"equalized_lr": False},
    "no pixel norm": {"pixel_norm": False},
    "no minibatch std": {"minibatch_std": False},
}

#: Fraction of each phase's images that the ablation runs get, by mode: the four runs of the quick
#: mode must fit the chapter's budget; full mode's phases are already short (a quarter of them, as quick);
#: paper mode's 800k images a phase afford an eighth.
ABLATION_SHARE: Mapping[str, int] = {"quick": 4, "full": 4, "paper": 8}


def ablation_configs(cfg: ProGANConfig, mode: str | None = None, image_size: int = 16) -> dict[str, ProGANConfig]:
    """One config per entry of :data:`ABLATIONS`: ``cfg`` grown only to ``image_size``, each phase
    with 1 / ``ABLATION_SHARE[mode]`` of its images (``mode`` as :func:`run_mode` resolves it).
    """
    share = ABLATION_SHARE[run_mode(mode)]
    if image_size not in cfg.resolutions[1:]:
        raise ValueError(
            f"image_size = {image_size} is not allowed: the ablation stops at one of the config's resolutions "
            f"{', '.join(map(str, cfg.resolutions[1:]))}"
        )
    resolutions = [r for r in cfg.resolutions if r <= image_size]
    small = cfg.replace(
        image_size=image_size,
        batch_sizes=cfg.batch_sizes[: len(resolutions)],
        fade_images=tuple(max(1, cfg.images("fade-in", r) // share) for r in resolutions[1:]),
        stable_images=tuple(max(1, cfg.images("stabilise", r) // share) for r in resolutions),
    )
    return {name: small.replace(**change) for name, change in ABLATIONS.items()}
