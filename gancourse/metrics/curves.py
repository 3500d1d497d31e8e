"""FID during training, against steps and wall-clock seconds: :func:`fid_curve`, and several runs on one
budget and one judge with their real-data floor: :func:`compare_fid_curves`.

A final score says where a run ended; a curve says how fast it got there, which is what
an *equal budget* comparison needs when two methods' steps cost different amounts. The
budget here is training time (evaluation excluded), measured with ``time.perf_counter``:
the steps each run reaches depend on the machine, and a repeated run on a busy machine
reaches fewer. Every point scores ``n`` fresh samples against the same ``n`` real test
images in one feature space, so the points of one curve, and of curves with the same
``n`` and features, are comparable with each other (FID's bias depends on n, chapter 11).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Mapping
from typing import Any

import torch

from gancourse.config import CurveConfig, GANConfig
from gancourse.metrics.features import FeatureExtractor, extract_features, load_feature_extractor
from gancourse.metrics.scores import frechet_inception_distance, real_floor, real_images


@dataclasses.dataclass(frozen=True)
class FIDCurve:
    """FID at each measured point of one run, with the generator steps and training seconds there."""

    steps: tuple[int, ...]
    seconds: tuple[float, ...]
    fid: tuple[float, ...]
    features: str
    trainer: Any = dataclasses.field(repr=False)  # the trained GANTrainer, for samples


def fid_curve(
    build: Callable[..., Any],
    cfg: GANConfig,
    curve: CurveConfig | None = None,
    *,
    mode: str | None = None,
    device: torch.device | None = None,
    extractor: FeatureExtractor | None = None,
    real: torch.Tensor | None = None,
) -> FIDCurve:
    """Train ``build(cfg)`` from scratch, scoring FID at step 0 and every ``curve.every`` steps, until
    ``curve.seconds`` of training time or ``cfg.steps``, whichever comes first.

    The chunk that would cross the budget is shortened to the steps that the seconds per
    step measured so far leave time for (at least one), so that runs with steps of different
    cost end close to the same training time; its FID is the curve's last point, off the grid.

    ``curve`` defaults to ``CurveConfig.for_mode(mode)``. The features are the domain
    classifier's of ``cfg.dataset`` unless ``extractor`` is given; the real images are
    ``curve.n`` test images of ``cfg.dataset`` at the generator's size unless ``real`` is given.
    The run is not checkpointed (a budget in seconds is not a state that resumes).
    """
    curve = curve or CurveConfig.for_mode(mode)
    trainer = build(cfg, device=device)
    if extractor is None:
        extractor = load_feature_extractor(cfg.dataset, kind="classifier", mode=mode, device=device)
    if real is None:
        size = trainer.generate(1).shape[-1]
        real = real_images(cfg.dataset, "test", curve.n, seed=0, image_size=size)
    real_features = extract_features(extractor, real[: curve.n])
    steps, seconds, fids = [], [], []
    spent = 0.0

    def score() -> None:
        steps.append(trainer.step)
        seconds.append(spent)
        fids.append(frechet_inception_distance(real_features, extract_features(extractor, trainer.generate(curve.n))))

    score()
    first = trainer.step
    while trainer.step < cfg.steps and spent < curve.seconds:
        target = min(trainer.step + curve.every, cfg.steps)
        if trainer.step > first:  # the last chunk stops at the budget (by the seconds per step so far), not after it
            affordable = math.ceil((curve.seconds - spent) * (trainer.step - first) / spent)
            target = min(target, trainer.step + max(1, affordable))
        start = time.perf_counter()
        trainer.train(steps=target, progress=False)
        spent += time.perf_counter() - start
        score()
    name = getattr(extractor, "name", type(extractor).__name__)
    return FIDCurve(tuple(steps), tuple(seconds), tuple(fids), name, trainer)


@dataclasses.dataclass(frozen=True)
class FIDComparison:
    """The FID curves of several runs in one feature space, with the real-data floor at the same ``n``."""

    curves: dict[str, FIDCurve]
    floor: float  # FID between n real training and n real test images, same features
    features: str
    n: int

    def series(self, x: str = "seconds") -> dict[str, tuple[tuple[float, ...], tuple[float, ...]]]:
        """``{name: (x values, FIDs)}`` for :func:`gancourse.viz.plot_curves`; ``x`` is "seconds" or "steps"."""
        if x not in ("seconds", "steps"):
            raise ValueError(f"x = {x!r} is not allowed: choose 'seconds' (training time) or 'steps'")
        return {name: (getattr(c, x), c.fid) for name, c in self.curves.items()}

    def __str__(self) -> str:
        width = max(10, *(len(name) for name in self.curves))
        lines = [f"FID on n = {self.n} samples against {self.n} real test images, features: {self.features}"]
        lines.append(f"{'':{width}s} {'steps':>6s} {'train s':>8s} {'FID at 0':>9s} {'last':>8s} {'best':>8s}")
        for name, c in self.curves.items():
            fids = f"{c.fid[0]:9.2f} {c.fid[-1]:8.2f} {min(c.fid):8.2f}"
            lines.append(f"{name:{width}s} {c.steps[-1]:6d} {c.seconds[-1]:8.1f} {fids}")
        lines.append(f"{'real floor':{width}s} {'':6s} {'':8s} {'':9s} {self.floor:8.2f}")
        return "\n".join(lines)


def compare_fid_curves(
    runs: Mapping[str, tuple[Callable[..., Any], GANConfig]],
    curve: CurveConfig | None = None,
    *,
    mode: str | None = None,
    device: torch.device | None = None,
    extractor: FeatureExtractor | None = None,
) -> FIDComparison:
    """:func:`fid_curve` of every ``{name: (build, cfg)}``, one after the other, on one budget and one judge.

    Every run shares ``curve`` (its seconds, ``every`` and ``n``), the feature extractor (the
    domain classifier of the runs' common data set unless ``extractor`` is given) and the
    ``n`` real test images; the floor is FID between ``n`` real training and ``n`` real test
    images in the same features (:func:`~gancourse.metrics.real_floor`). A budget of seconds
    gives every run the same training time; a ``curve.seconds`` above what ``cfg.steps``
    take gives them the same steps instead.
    """
    if not runs:
        raise ValueError("runs is empty: pass {name: (build, cfg)} for at least one run")
    curve = curve or CurveConfig.for_mode(mode)
    datasets = {cfg.dataset for _, cfg in runs.values()}
    sizes = {getattr(cfg, "image_size", None) for _, cfg in runs.values()}
    if len(datasets) != 1 or len(sizes) != 1 or None in sizes:
        raise ValueError(
            f"runs train on data sets {sorted(datasets)} at image sizes {sorted(map(str, sizes))}: "
            "compare runs of one data set and one image size"
        )
    dataset, size = datasets.pop(), sizes.pop()
    if extractor is None:
        extractor = load_feature_extractor(dataset, kind="classifier", mode=mode, device=device)
    real = real_images(dataset, "test", curve.n, seed=0, image_size=size)
    curves = {
        name: fid_curve(build, cfg, curve, mode=mode, device=device, extractor=extractor, real=real)
        for name, (build, cfg) in runs.items()
    }

    def fid(train: torch.Tensor, test: torch.Tensor) -> float:
        return frechet_inception_distance(extract_features(extractor, train), extract_features(extractor, test))

    floor = real_floor(fid, dataset, curve.n, image_size=size)
    return FIDComparison(curves, floor, getattr(extractor, "name", type(extractor).__name__), curve.n)


def fid_probe(
    real: torch.Tensor,
    extractor: FeatureExtractor,
    sample: Callable[[Any, int], torch.Tensor] | None = None,
) -> Callable[[Any], float]:
    """``fid(trainer) -> float``: the FID of ``len(real)`` samples of a training run against ``real``.

    The real images' features are computed once, here; each call draws ``len(real)``
    samples with ``sample(trainer, n)`` (default ``trainer.generate(n)``, from the
    trainer's inference stream, which leaves the training run as it was) and scores them
    in the same features, resized (bilinear, antialiased) to the real images' size where
    they differ, as the final scores resize a 64 px generator's samples to the 32 px test
    images. What a :class:`gancourse.train.tensorboard.TensorBoardLogger` logs as its
    periodic FID; the function's ``features`` attribute names the network.
    """
    real_features = extract_features(extractor, real)
    n = len(real)

    def fid(trainer: Any) -> float:
        fake = trainer.generate(n) if sample is None else sample(trainer, n)
        if fake.shape[-2:] != real.shape[-2:]:
            fake = torch.nn.functional.interpolate(fake, size=real.shape[-2:], mode="bilinear", antialias=True)
        return frechet_inception_distance(real_features, extract_features(extractor, fake))

    fid.features = getattr(extractor, "name", type(extractor).__name__)  # type: ignore[attr-defined]
    return fid
