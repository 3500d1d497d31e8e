"""Does a feature extractor rank generators correctly? Real images degraded by known amounts.

A feature extractor is fit for FID and KID only if a better generator scores better.
Real images degraded on purpose are "generators" whose ranking we know: the more
blur, noise or colour shift, the worse. Heusel et al. (2017) justified FID this way,
showing that it grows with the strength of Gaussian noise, Gaussian blur, swirl,
salt-and-pepper noise and other disturbances of real images. :func:`degradation_scores` repeats that check for any
extractor (the domain classifier offline, InceptionV3 online): FID and KID between
degraded real *training* images (for emoji, the held-out ones the classifier never
saw, as in the floor) and real *test* images, strength by strength. Strength
0 is the real-data floor itself (the same two samples as :func:`fid_kid_floor`).

Degradations (images in [-1, 1], (N, C, S, S)):

* ``blur``: a Gaussian blur of standard deviation ``strength`` pixels;
* ``noise``: additive Gaussian noise of standard deviation ``strength`` (in the
  [-1, 1] units of the images), clipped to [-1, 1];
* ``hue``: the hue rotated by ``strength`` turns of the colour circle (0.5 = half a
  turn: red becomes cyan); colour images only. Grey and white pixels are unchanged, so
  only a feature extractor that sees colour can notice it.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torchvision.transforms.v2 import functional as TF

from gancourse.metrics.classifier import held_out_rows
from gancourse.metrics.features import extract_features
from gancourse.metrics.fid import FeatureStatistics, fid_from_statistics
from gancourse.metrics.kid import MeanStd, kid_from_features
from gancourse.metrics.scores import real_images

#: The degradations and the strengths :func:`degradation_scores` uses by default (each grows the damage).
DEGRADATIONS: dict[str, tuple[float, ...]] = {
    "blur": (0.5, 1.0, 2.0),  # sigma in pixels (32 px images: 2 px blurs away most detail)
    "noise": (0.1, 0.2, 0.4),  # std in [-1, 1] units (0.2 = 10 % of the range)
    "hue": (0.15, 0.3, 0.5),  # turns of the colour circle (0.5: red -> cyan)
}


def degrade(images: torch.Tensor, kind: str, strength: float, seed: int = 0) -> torch.Tensor:
    """``images`` (N, C, S, S) in [-1, 1] degraded by ``kind`` at ``strength`` (0: unchanged); same shape and range."""
    if kind not in DEGRADATIONS:
        raise ValueError(f"kind = {kind!r} is not a degradation: choose one of {', '.join(map(repr, DEGRADATIONS))}")
    if not (isinstance(strength, (int, float)) and math.isfinite(strength) and strength >= 0):
        raise ValueError(f"strength = {strength!r} is out of range: allowed a finite number >= 0")
    if images.ndim != 4:
        raise ValueError(f"images must have shape (N, C, S, S), got {tuple(images.shape)}")
    if strength == 0:
        return images
    if kind == "blur":
        radius = max(1, math.ceil(3 * strength))  # the kernel covers +-3 sigma
        return TF.gaussian_blur(images, kernel_size=[2 * radius + 1] * 2, sigma=[float(strength)] * 2)
    if kind == "noise":
        g = torch.Generator().manual_seed(seed)
        noise = torch.randn(images.shape, generator=g).to(images.device)
        return (images + strength * noise).clamp(-1, 1)
    if images.shape[1] != 3:
        raise ValueError(f"kind = 'hue' needs colour images (N, 3, S, S), got {tuple(images.shape)}")
    turn = (strength + 0.5) % 1.0 - 0.5  # adjust_hue takes a shift in [-0.5, 0.5] turns
    return TF.adjust_hue((images + 1) / 2, turn) * 2 - 1  # hue is defined on [0, 1] RGB


@dataclasses.dataclass(frozen=True)
class DegradationScores:
    """FID and KID of degraded real training images against real test images, per degradation and strength."""

    features: str  # the feature extractor's name
    n: int  # images on each side of every score
    floor_fid: float  # strength 0: the real-data floor
    floor_kid: MeanStd
    fid: dict[str, dict[float, float]]  # kind -> strength -> FID
    kid: dict[str, dict[float, MeanStd]]

    def monotonic(self, kind: str) -> bool:
        """Whether FID grows strictly with the strength of ``kind``, from the floor on."""
        values = [self.floor_fid, *self.fid[kind].values()]
        return all(a < b for a, b in zip(values[:-1], values[1:], strict=True))

    def __str__(self) -> str:
        lines = [f"n = {self.n} degraded real training vs {self.n} real test images, features: {self.features}"]
        lines.append(f"{'':22s} {'FID':>9s}   KID")
        lines.append(f"{'real floor (none)':22s} {self.floor_fid:9.2f}   {self.floor_kid}")
        for kind, scores in self.fid.items():
            for strength, fid in scores.items():
                lines.append(f"{f'{kind} {strength:g}':22s} {fid:9.2f}   {self.kid[kind][strength]}")
            verdict = "grows with the strength" if self.monotonic(kind) else "does NOT grow with the strength"
            lines.append(f"  -> {kind}: FID {verdict}")
        return "\n".join(lines)


def degradation_scores(
    extractor: Any,
    dataset: str = "emoji",
    n: int = 500,
    degradations: Mapping[str, Sequence[float]] | None = None,
    image_size: int = 32,
    kid_subsets: int = 100,
    kid_subset_size: int | None = None,
    seed: int = 0,
    root: str | os.PathLike | None = None,
) -> DegradationScores:
    """FID and KID of real training images, degraded as ``degradations`` says, against real test images.

    ``degradations`` maps a kind of :data:`DEGRADATIONS` to its strengths (default: all
    three kinds at their default strengths; ``hue`` only for colour data). The real test
    features are computed once. ``kid_subset_size`` defaults to ``n // 2``.
    """
    train = real_images(dataset, "train", n, seed, root, image_size, held_out_rows(dataset, root))  # as the floor
    test = real_images(dataset, "test", n, seed + 1, root, image_size)
    if degradations is None:
        degradations = {k: v for k, v in DEGRADATIONS.items() if k != "hue" or train.shape[1] == 3}
    size = kid_subset_size or n // 2
    test_features = extract_features(extractor, test)
    test_stats = FeatureStatistics.of(test_features)

    def scores(images: torch.Tensor) -> tuple[float, MeanStd]:
        features = extract_features(extractor, images)
        fid = fid_from_statistics(FeatureStatistics.of(features), test_stats)
        return fid, kid_from_features(features, test_features, subsets=kid_subsets, subset_size=size, seed=seed)

    floor_fid, floor_kid = scores(train)
    fids: dict[str, dict[float, float]] = {}
    kids: dict[str, dict[float, MeanStd]] = {}
    for kind, strengths in degradations.items():
        fids[kind], kids[kind] = {}, {}
        for strength in strengths:
            fids[kind][strength], kids[kind][strength] = scores(degrade(train, kind, strength, seed))
    name = getattr(extractor, "name", type(extractor).__name__)
    return DegradationScores(name, n, floor_fid, floor_kid, fids, kids)


def degraded_rows(
    images: torch.Tensor, degradations: Mapping[str, Sequence[float]] | None = None, seed: int = 0
) -> dict[str, torch.Tensor]:
    """``{"real": images, "blur 0.5": ..., ...}``: the images under every degradation, for ``viz.compare_rows``."""
    if degradations is None:
        degradations = {k: v for k, v in DEGRADATIONS.items() if k != "hue" or images.shape[1] == 3}
    rows = {"real": images}
    for kind, strengths in degradations.items():
        for strength in strengths:
            rows[f"{kind} {strength:g}"] = degrade(images, kind, strength, seed)
    return rows
