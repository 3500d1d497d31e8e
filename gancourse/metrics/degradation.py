"""Does a feature extractor rank generators correctly? Real images degraded by known amounts.

A feature extractor is fit for FID and KID only if a better generator scores better.
Real images degraded on purpose are "generators" whose ranking we know: the more
blur, noise, colour shift or loss of colour, the worse. Heusel et al. (2017) justified FID this way,
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
  only a feature extractor that sees colour can notice it;
* ``desaturate``: the colour faded towards the image's grey levels, a fraction
  ``strength`` of the way (1 = greyscale; luma weights 0.299, 0.587, 0.114 of ITU-R
  BT.601, as ``torchvision``'s ``rgb_to_grayscale``); colour images only. The shapes and
  the brightness stay; only a judge that uses colour can tell.

:meth:`DegradationScores.monotonic` asks the ranking question of FID or of KID's
mean: a judge whose KID ranks a degradation at or below the floor cannot see it (at
that ``n``: compare with the floor's spread).
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
from gancourse.metrics.kid import MeanStd, kid_from_features, kid_per_mille
from gancourse.metrics.scores import real_images

#: The degradations and the strengths :func:`degradation_scores` uses by default (each grows the damage).
DEGRADATIONS: dict[str, tuple[float, ...]] = {
    "blur": (0.5, 1.0, 2.0),  # sigma in pixels (32 px images: 2 px blurs away most detail)
    "noise": (0.1, 0.2, 0.4),  # std in [-1, 1] units (0.2 = 10 % of the range)
    "hue": (0.15, 0.3, 0.5),  # turns of the colour circle (0.5: red -> cyan)
    "desaturate": (0.25, 0.5, 1.0),  # share of the colour removed (1: greyscale)
}
#: the degradations that change only colour: colour images only
COLOUR_ONLY = ("hue", "desaturate")


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
        raise ValueError(f"kind = {kind!r} needs colour images (N, 3, S, S), got {tuple(images.shape)}")
    if kind == "desaturate":
        if strength > 1:
            raise ValueError(f"strength = {strength!r} is out of range for 'desaturate': allowed 0 <= strength <= 1")
        rgb = (images + 1) / 2  # [0, 1], where the luma weights are defined
        grey = TF.rgb_to_grayscale(rgb, num_output_channels=3)  # (N, 3, S, S), equal channels
        return ((1 - strength) * rgb + strength * grey) * 2 - 1
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

    def monotonic(self, kind: str, metric: str = "fid") -> bool:
        """Whether ``metric`` (``"fid"``, or ``"kid"``: its mean) grows strictly with the strength of ``kind``.

        From the floor on: a degradation whose weakest strength scores at or below the
        floor fails, as does one that scores lower at a higher strength.
        """
        if metric == "fid":
            values = [self.floor_fid, *self.fid[kind].values()]
        elif metric == "kid":
            values = [self.floor_kid.mean, *(kid.mean for kid in self.kid[kind].values())]
        else:
            raise ValueError(f"metric = {metric!r} is not a score here: choose 'fid' or 'kid'")
        return all(a < b for a, b in zip(values[:-1], values[1:], strict=True))

    def __str__(self) -> str:
        lines = [f"n = {self.n} degraded real training vs {self.n} real test images, features: {self.features}"]
        lines.append(f"{'':22s} {'FID':>9s}   KID x 10^3 (MMD^2 x 1000, as papers print KID)")
        lines.append(f"{'real floor (none)':22s} {self.floor_fid:9.2f}   {kid_per_mille(self.floor_kid)}")
        for kind, scores in self.fid.items():
            for strength, fid in scores.items():
                lines.append(f"{f'{kind} {strength:g}':22s} {fid:9.2f}   {kid_per_mille(self.kid[kind][strength])}")
            verdicts = [
                f"{metric.upper()} {'grows' if self.monotonic(kind, metric) else 'does NOT grow'} with the strength"
                for metric in ("fid", "kid")
            ]
            lines.append(f"  -> {kind}: {'; '.join(verdicts)}")
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
    kinds at their default strengths; ``hue`` and ``desaturate`` only for colour data). The real test
    features are computed once. ``kid_subset_size`` defaults to ``n // 2``.
    """
    train = real_images(dataset, "train", n, seed, root, image_size, held_out_rows(dataset, root))  # as the floor
    test = real_images(dataset, "test", n, seed + 1, root, image_size)
    if degradations is None:
        degradations = {k: v for k, v in DEGRADATIONS.items() if k not in COLOUR_ONLY or train.shape[1] == 3}
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
        degradations = {k: v for k, v in DEGRADATIONS.items() if k not in COLOUR_ONLY or images.shape[1] == 3}
    rows = {"real": images}
    for kind, strengths in degradations.items():
        for strength in strengths:
            rows[f"{kind} {strength:g}"] = degrade(images, kind, strength, seed)
    return rows
