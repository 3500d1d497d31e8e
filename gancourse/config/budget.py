"""How long a run takes: the estimate behind full mode's "about 15 minutes a chapter on a T4", in one table.

The estimate of one generator step is arithmetic plus a fixed cost::

    seconds per step = FLOPs per step / (T4_FLOPS * T4_UTILISATION) + STEP_OVERHEAD

- **FLOPs per step** were counted once on the CPU with ``FlopCounterMode`` (``python -m gancourse.bench.budget``)
  around one ``trainer.advance()`` of each recipe at its paper settings (``MEASURED``, GFLOP; the
  counter cannot follow the gradient penalty's double backward, so penalised critics were counted
  without it and multiplied by ``GRADIENT_PENALTY_FACTOR``). Other settings scale the count by batch,
  width squared and pixels (:func:`gflop_per_step`), ProGAN per resolution and phase.
- **The T4**: 8.1 TFLOPS in float32 (NVIDIA's data sheet; its 65 TFLOPS are float16 tensor cores,
  which the book's default ``amp=False`` does not use, and Turing has no TF32), of which small
  convolutions reach about half (``T4_UTILISATION``, a stated guess).
- **The fixed cost** of a step (kernel launches, the host, the atomic-step copy) is the one GPU
  timing there is: the paper DCGAN on an H200 (book/results.md), 5,000 steps in at most 84 s, of
  which the arithmetic is under 1 s: about 15 ms a step, taken as is for the T4 (its host is slower,
  its kernels run longer: both could make it more).
- **This CPU**: ``CPU_FLOPS``, what the DCGAN trainer reached on the 2-core CI machine with one thread
  (1,054 images/s at batch 64, width 32: 6.7 GFLOP a step, book/results.md), for the first estimate of
  a CPU run; the progress line replaces it by the measured rate after a warm-up.

``CHAPTER_RUNS`` lists what each chapter trains in full and paper mode; :func:`chapter_plan` is the
table the results page and the chapters print. None of this has been checked on a T4 yet.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from gancourse.config.base import Config, run_mode
from gancourse.config.conditional import ConditionalGANConfig, Pix2PixConfig
from gancourse.config.evaluation import CurveConfig
from gancourse.config.gan import DCGANConfig, MLPGANConfig, ToyGANConfig
from gancourse.config.progan import ProGANConfig, ablation_configs
from gancourse.config.style import StyleConfig
from gancourse.config.stylegan2 import StyleGAN2Config
from gancourse.config.wgan import ResNetGANConfig, WGANConfig, WGANGPConfig

T4_FLOPS = 8.1e12  # float32
T4_UTILISATION = 0.5
STEP_OVERHEAD = 0.015  # seconds a step, from the H200's paper DCGAN
CPU_FLOPS = 110e9  # the DCGAN trainer on CPU-2, one thread
GRADIENT_PENALTY_FACTOR = 1.9  # a penalised critic step: one more forward, backward and double backward
STYLE_STEP_SECONDS = 0.018  # one L-BFGS iteration at 512 px on the H200 (55.9 a second, book/results.md)
STYLE_T4_FACTOR = 8.0  # H200 / T4 in float32: 67 / 8.1 TFLOPS (VGG19 at 512 px is arithmetic, not launches)

#: GFLOP of one trainer.advance() at (batch, width, image size) as counted, per config class
MEASURED: Mapping[type, tuple[float, int, int, int]] = {
    ToyGANConfig: (0.065, 256, 128, 1),
    MLPGANConfig: (1.789, 128, 512, 32),
    DCGANConfig: (52.53, 128, 64, 32),
    ConditionalGANConfig: (79.83, 128, 64, 32),
    WGANConfig: (87.29, 64, 64, 32),
    WGANGPConfig: (87.29, 64, 64, 32),
    ResNetGANConfig: (1532.8, 64, 128, 32),
    Pix2PixConfig: (1.085, 1, 64, 32),
    # G and D forward counted, a step taken as 4 G + 9 D forwards (D on reals and fakes, backward = 2 forwards);
    # lazy R1's double backward every 16 D steps is left out
    StyleGAN2Config: (5364.2, 32, 512, 32),
}
#: ProGAN: GFLOP per real image at each resolution with 64 channels everywhere, without the penalty
PROGAN_PER_IMAGE_64: Mapping[int, float] = {4: 0.296 / 16, 8: 2.110 / 16, 16: 9.362 / 16, 32: 38.37 / 16}


def gflop_per_step(cfg: Config) -> float:
    """GFLOP of one generator step of ``cfg``: the counted step scaled by batch, width^2 and pixels."""
    for cls in type(cfg).__mro__:
        if cls in MEASURED:
            gflop, batch, width, size = MEASURED[cls]
            break
    else:
        raise ValueError(f"{type(cfg).__name__} has no FLOP count in gancourse.config.budget.MEASURED")
    own_width = getattr(cfg, "base_channels", getattr(cfg, "hidden", getattr(cfg, "fmap_max", width)))
    own_size = getattr(cfg, "image_size", size) if size > 1 else 1
    penalty = GRADIENT_PENALTY_FACTOR if getattr(cfg, "gp_weight", 0) else 1.0  # counted without it
    return gflop * penalty * cfg.batch_size / batch * (own_width / width) ** 2 * (own_size / size) ** 2


def progan_gflop(cfg: ProGANConfig) -> float:
    """GFLOP of a whole ProGAN schedule: every phase's images at its resolution's cost (above 32: 32's per pixel)."""
    total = 0.0
    for phase in cfg.phases():
        r = phase.resolution
        channels = min(cfg.fmap_max, cfg.fmap_base / (r / 2))
        per_image = PROGAN_PER_IMAGE_64.get(r, PROGAN_PER_IMAGE_64[32] * (r / 32) ** 2)
        total += phase.steps * phase.batch_size * per_image * (channels / 64) ** 2 * GRADIENT_PENALTY_FACTOR
    return total


def t4_seconds(cfg: Config, steps: int | None = None) -> float:
    """Expected seconds of training ``cfg`` (``steps`` generator steps, default its own) on an NVIDIA T4."""
    if isinstance(cfg, StyleConfig):
        steps = cfg.steps if steps is None else steps
        return steps * STYLE_STEP_SECONDS * STYLE_T4_FACTOR * (cfg.image_size / 512) ** 2
    if isinstance(cfg, ProGANConfig):
        share = 1.0 if steps is None else steps / cfg.steps
        return share * (progan_gflop(cfg) * 1e9 / (T4_FLOPS * T4_UTILISATION) + cfg.steps * STEP_OVERHEAD)
    steps = cfg.steps if steps is None else steps
    return steps * (gflop_per_step(cfg) * 1e9 / (T4_FLOPS * T4_UTILISATION) + STEP_OVERHEAD)


def cpu_seconds(cfg: Config, steps: int | None = None) -> float:
    """Expected seconds on a CPU like the CI machine's (one thread): arithmetic at ``CPU_FLOPS``."""
    if isinstance(cfg, ProGANConfig):
        return progan_gflop(cfg) * 1e9 / CPU_FLOPS * (1.0 if steps is None else steps / cfg.steps)
    if isinstance(cfg, StyleConfig):
        return t4_seconds(cfg, steps) * T4_FLOPS * T4_UTILISATION / CPU_FLOPS
    return (cfg.steps if steps is None else steps) * gflop_per_step(cfg) * 1e9 / CPU_FLOPS


def duration(seconds: float) -> str:
    """``'42 s'``, ``'12 min'``, ``'3.5 h'``."""
    if not math.isfinite(seconds):
        return "unknown"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _for_seconds(cfg: Config, seconds: float) -> Config:
    """``cfg`` with the steps a T4 trains in ``seconds`` (a run on a time budget, chapter 7's comparison)."""
    return cfg.replace(steps=max(1, int(seconds / t4_seconds(cfg, 1))), lr_decay_steps=0)


def _runs(chapter: int, mode: str) -> list[tuple[str, Config]]:
    """What chapter ``chapter`` trains in ``mode`` (full or paper): (label, config) pairs."""
    dcgan, cgan = DCGANConfig.for_mode(mode), ConditionalGANConfig.for_mode(mode)
    p2p, progan = Pix2PixConfig.for_mode(mode), ProGANConfig.for_mode(mode)
    style, resnet = StyleConfig.for_mode(mode), ResNetGANConfig.for_mode(mode)
    curve_seconds = CurveConfig.for_mode(mode).seconds
    diff_augment = DCGANConfig.diff_augment_runs(mode, train_images=1000)  # a step's cost does not depend on the count
    same_as_resnet = ("steps", "batch_size", "n_critic", "gp_weight", "dataset", "image_size", "data_limit")
    runs: dict[int, list[tuple[str, Config]]] = {
        4: [("toy GAN", ToyGANConfig.for_mode(mode)), ("MLP GAN", MLPGANConfig.for_mode(mode))],
        5: [
            ("DCGAN, MNIST", dcgan),
            ("DCGAN, Fashion-MNIST", dcgan),
            ("DCGAN, emoji 64 px", dcgan.replace(dataset="emoji", image_size=64)),
            ("DCGAN, your folder 64 px", dcgan.replace(dataset="emoji", image_size=64)),
            *[(f"DiffAugment: {arm}", diff_augment) for arm in ("none", "both", "reals only")],
        ],
        6: [("WGAN", WGANConfig.for_mode(mode)), ("WGAN-GP", WGANGPConfig.for_mode(mode))],
        7: [
            ("ResNet WGAN-GP", resnet),
            ("DCGAN WGAN-GP", WGANGPConfig.for_mode(mode, **{k: getattr(resnet, k) for k in same_as_resnet})),
            ("ResNet WGAN-GP on a time budget", _for_seconds(resnet, curve_seconds)),
            ("SN-ResNet, hinge on a time budget", _for_seconds(ResNetGANConfig.sngan(mode), curve_seconds)),
            ("CIFAR-10 setting", ResNetGANConfig.cifar10(mode)),
        ],
        8: [
            ("cGAN, MNIST", cgan),
            ("cGAN, Fashion-MNIST", cgan),
            ("cGAN, emoji", cgan),
            *[(f"pix2pix {data}, {loss}", p2p) for data in ("edges", "emoji") for loss in ("L1 + cGAN", "L1", "cGAN")],
        ],
        9: [
            ("ProGAN, MNIST to 32 px", progan),
            ("ProGAN, emoji to 64 px", progan.replace(dataset="emoji", image_size=64, batch_sizes=(16,) * 5)),
            *[(f"ablation: {name}", cfg) for name, cfg in ablation_configs(progan, mode).items()],
        ],
        10: [("style transfer, 5 styles", style.replace(steps=5 * style.steps))],
        13: [("StyleGAN2, emoji 32 px", StyleGAN2Config.for_mode(mode))],
    }
    return runs.get(chapter, [])


def chapter_plan(chapter: int, mode: str | None = None) -> list[dict[str, Any]]:
    """One row per training run of ``chapter`` in ``mode``: label, steps, GFLOP a step, T4 seconds."""
    chosen = run_mode(mode)
    if chosen == "quick":
        return []
    return [
        {"run": label, "steps": cfg.steps, "t4_seconds": t4_seconds(cfg), "cpu_seconds": cpu_seconds(cfg)}
        for label, cfg in _runs(chapter, chosen)
    ]


def announce(chapter: int, mode: str | None = None) -> None:
    """Print :func:`describe_chapter` in full and paper mode; quick mode prints nothing (its outputs stay)."""
    if run_mode(mode) != "quick":
        print(describe_chapter(chapter, mode))


def describe_chapter(chapter: int, mode: str | None = None) -> str:
    """One line: the mode, each run's steps and the chapter's expected training time on a T4."""
    chosen = run_mode(mode)
    if chosen == "quick":
        return f"mode: quick: about a minute of training on a 2-core CPU (book/results.md, chapter {chapter})"
    rows = chapter_plan(chapter, chosen)
    if not rows:
        return f"mode: {chosen}: chapter {chapter} trains nothing long"
    total = sum(r["t4_seconds"] for r in rows)
    runs = "; ".join(f"{r['run']} {r['steps']:,} steps" for r in rows)
    line = f"mode: {chosen}: {runs}; expected about {duration(total)} of training on an NVIDIA T4"
    if total > 1800:
        line += f" (shorter: {'GANCOURSE_MODE=full, or ' if chosen == 'paper' else ''}steps= in a config's replace())"
    return line
