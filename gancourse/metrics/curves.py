"""FID during training, against steps and wall-clock seconds: :func:`fid_curve`.

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
import time
from collections.abc import Callable
from typing import Any

import torch

from gancourse.config import CurveConfig, GANConfig
from gancourse.metrics.features import FeatureExtractor, extract_features, load_feature_extractor
from gancourse.metrics.scores import frechet_inception_distance, real_images


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
    while trainer.step < cfg.steps and spent < curve.seconds:
        start = time.perf_counter()
        trainer.train(steps=min(trainer.step + curve.every, cfg.steps), progress=False)
        spent += time.perf_counter() - start
        score()
    name = getattr(extractor, "name", type(extractor).__name__)
    return FIDCurve(tuple(steps), tuple(seconds), tuple(fids), name, trainer)


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
