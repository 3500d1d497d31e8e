"""The scores of a finished run: one function for the command line, the reference models and the chapters.

:func:`score_run` scores the generators of a recipe (``{label: module}``) at sample count
``n``, their samples drawn with a seed (:meth:`gancourse.train.recipes.Recipe.sample`), next
to the real-data floor with the same features at the same n. What each kind of GAN is
scored by (the recipe's ``kind``):

- image GANs: :func:`gancourse.metrics.evaluate`, FID and KID against real test images, the
  floor (real train vs real test), and the class histogram;
- the conditional GAN: the same, plus the conditional accuracy and its per-class accuracy;
- pix2pix: the L1 distance of the outputs to their targets on the first n test pairs, the
  spread of the outputs under test-time dropout, and FID/KID of the outputs against real
  images where the targets are a data set with features (Isola et al. 2017, Sec. 4.2 and Table 1);
- the toy GAN: the mode count and the share of high-quality samples (the protocol of
  Srivastava et al. 2017 and Lin et al. 2018, :func:`gancourse.metrics.mode_coverage`).

Every score also records the mean absolute value and the standard deviation of the
samples, which need no data. The result is JSON-ready.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from gancourse.config import EvalConfig, GANConfig
from gancourse.data import grid_of_gaussians, ring_of_gaussians
from gancourse.metrics.coverage import mode_coverage
from gancourse.metrics.features import FeatureExtractor
from gancourse.metrics.kid import kid_per_mille
from gancourse.metrics.report import evaluate
from gancourse.metrics.scores import (
    fid_kid_floor,
    frechet_inception_distance,
    kernel_inception_distance,
    real_images,
    split_size,
)
from gancourse.train.recipes import RECIPES, Recipe

#: The feature extractor of a data set's scores (None: the data set has none here).
Features = Callable[[str], FeatureExtractor | None]
#: the size of the real images and of the domain classifier's input
IMAGE_SIZE = 32
#: the columns of :func:`scores_table`, where a score has them
TABLE_COLUMNS = (
    "l1",
    "fid",
    "kid",
    "conditional_accuracy",
    "modes_captured",
    "high_quality_share",
    "dropout_spread",
)
#: column headers that differ from the key: KID is stored as MMD^2 and printed x 10^3, as papers print it
TABLE_HEADERS = {"kid": "kid x 10^3"}
#: how many test inputs pix2pix's dropout spread is measured on
SPREAD_INPUTS = 200


def number(x: float) -> float | None:
    """A float rounded to 6 significant digits (readable JSON), or None for NaN."""
    x = float(x)
    return None if math.isnan(x) else float(f"{x:.6g}")


def sample_stats(samples: torch.Tensor) -> dict[str, float]:
    """The mean absolute value and the standard deviation of samples: the data-free part of every check."""
    return {"sample_mean_abs": number(samples.abs().mean()), "sample_std": number(samples.std())}


def state_fingerprint(module: nn.Module) -> str:
    """A sha256 of a module's tensors (names, dtypes, shapes, values): which feature extractor scored a run."""
    digest = hashlib.sha256()
    for key, tensor in module.state_dict().items():
        tensor = tensor.detach().cpu().contiguous()
        digest.update(f"{key}:{tensor.dtype}:{tuple(tensor.shape)}".encode())
        digest.update(tensor.numpy().tobytes() if tensor.dtype != torch.bfloat16 else tensor.float().numpy().tobytes())
    return digest.hexdigest()


def no_features_reason(dataset: str) -> str:
    return f"no FID for {dataset!r}: it has no feature extractor here; only the sample statistics are recorded"


def score_run(
    recipe: str,
    cfg: GANConfig,
    generators: Mapping[str, nn.Module],
    n: int,
    seed: int = 0,
    *,
    features: Features,
    reason: Callable[[str], str] = no_features_reason,
    eval_cfg: EvalConfig | None = None,
    device: torch.device | str = "cpu",
) -> dict[str, Any]:
    """Scores of each generator of recipe ``recipe`` (``{label: module}``) at sample count ``n``, drawn with ``seed``.

    ``features(dataset)`` gives the feature extractor for the recipe's scored data set
    (``Recipe.features``), or None: then only the sample statistics are recorded, with
    ``reason(dataset)`` as the note. ``eval_cfg``: the settings of an image score
    (:func:`gancourse.metrics.evaluate`; its data set and n are set here), default the
    classifier's features, seed 0. Returns ``{"n", "seed", "features", "floor", label: {...}}``.
    """
    spec = RECIPES[recipe]
    if spec.kind == "toy":
        return _score_toy(spec, cfg, generators, n, seed)
    dataset = spec.features(cfg)
    extractor = features(dataset) if dataset is not None else None
    if spec.kind == "paired":
        return _score_paired(spec, cfg, generators, n, seed, dataset, extractor, reason)
    return _score_images(spec, cfg, generators, n, seed, extractor, reason, eval_cfg, device)


def _score_toy(spec: Recipe, cfg: GANConfig, generators: Mapping[str, nn.Module], n: int, seed: int) -> dict:
    mixture = ring_of_gaussians() if cfg.mixture == "ring" else grid_of_gaussians()
    real = mode_coverage(mixture.sample(n, torch.Generator().manual_seed(seed)), mixture)
    out: dict[str, Any] = {"n": n, "seed": seed, "features": "mode coverage (3 std, 20 of 2,500: Lin et al. 2018)"}
    out["floor"] = {"modes_captured": real.modes_captured, "high_quality_share": number(real.high_quality_share)}
    for label, generator in generators.items():
        points = spec.sample(cfg, generator, n, seed)
        coverage = mode_coverage(points, mixture)
        out[label] = {
            "modes_captured": coverage.modes_captured,
            "n_modes": coverage.n_modes,
            "high_quality_share": number(coverage.high_quality_share),
            "mode_kl_from_uniform": number(coverage.kl_from_uniform),
            **sample_stats(points),
        }
    return out


def _fit(images: torch.Tensor) -> torch.Tensor:
    """Images at the real images' 32 x 32 (the domain classifier's input size)."""
    if images.shape[-1] == IMAGE_SIZE:
        return images
    return torch.nn.functional.interpolate(images, size=(IMAGE_SIZE, IMAGE_SIZE), mode="bilinear", antialias=True)


def _score_images(
    spec: Recipe,
    cfg: GANConfig,
    generators: Mapping[str, nn.Module],
    n: int,
    seed: int,
    extractor: FeatureExtractor | None,
    reason: Callable[[str], str],
    eval_cfg: EvalConfig | None,
    device: torch.device | str,
) -> dict:
    conditional = spec.kind == "conditional"
    out: dict[str, Any] = {"n": n, "seed": seed}
    notes = []
    if extractor is not None and n > split_size(cfg.dataset, "test"):
        available = split_size(cfg.dataset, "test")  # emoji: 742 test images
        notes.append(f"n = {n:,} asked, but the {cfg.dataset} test split holds {available:,} images: n = {available:,}")
        n = out["n"] = available
    if extractor is not None and cfg.image_size != IMAGE_SIZE:
        notes.append(f"samples resized from {cfg.image_size} to {IMAGE_SIZE} pixels, the real images' size")

    def sampler(generator: nn.Module):
        def sample(count: int, labels: torch.Tensor | None = None) -> torch.Tensor:
            return _fit(spec.sample(cfg, generator, count, seed, labels=labels))  # the same z every call

        return sample

    samples = {label: sampler(g) for label, g in generators.items()}
    if extractor is None:
        out["features"] = None
        out["note"] = reason(cfg.dataset)
        for label, generator in generators.items():
            out[label] = sample_stats(spec.sample(cfg, generator, n, seed))
        return out
    if notes:
        out["note"] = "; ".join(notes)
    eval_cfg = (eval_cfg or EvalConfig(features="classifier", seed=0)).replace(dataset=cfg.dataset, n=n)
    evaluation = evaluate(samples, eval_cfg, conditional=conditional, device=device, extractor=extractor)
    floor = evaluation.floor
    out["features"] = evaluation.features
    out["features_sha256"] = state_fingerprint(extractor)
    out["floor"] = {"fid": number(floor.fid), "kid": [number(floor.kid.mean), number(floor.kid.std)]}
    for label, score in evaluation.scores.items():
        entry: dict[str, Any] = {
            "fid": number(score.fid),
            "fid_over_floor": number(score.fid / floor.fid),
            "kid": [number(score.kid.mean), number(score.kid.std)],
        }
        if score.coverage is not None:
            entry["classes_present"] = score.coverage.classes_present
            entry["class_kl_from_uniform"] = number(score.coverage.kl_from_uniform)
        if score.accuracy is not None:
            entry["conditional_accuracy"] = number(score.accuracy.accuracy)
            entry["per_class_accuracy"] = [number(a) for a in score.accuracy.per_class]
            entry["worst_class_accuracy"] = number(np.nanmin(score.accuracy.per_class))
        entry.update(sample_stats(spec.sample(cfg, generators[label], n, seed)))  # the same images, at their size
        out[label] = entry
    return out


def _score_paired(
    spec: Recipe,
    cfg: GANConfig,
    generators: Mapping[str, nn.Module],
    n: int,
    seed: int,
    target_set: str | None,
    extractor: FeatureExtractor | None,
    reason: Callable[[str], str],
) -> dict:
    inputs, targets = spec.held_out_pairs(cfg, n)
    out: dict[str, Any] = {"n": n, "seed": seed, "task": "the first n test pairs"}
    if len(inputs) < n:  # the emoji pairs: 742
        out["note"] = f"n = {n:,} asked, but the test split holds {len(inputs):,} pairs: n = {len(inputs):,}"
        n = out["n"] = len(inputs)
    if extractor is None and cfg.dataset == "emoji":  # Twemoji -> Noto: the input itself is already a guess
        out["features"] = None
        out["note"] = (out["note"] + "; " if "note" in out else "") + (
            f"scored by L1 to the targets, against copying the input unchanged (L1 "
            f"{(inputs - targets).abs().mean().item():.4f}); no FID: the {n} test pairs are fewer than the "
            "emoji judge's floor needs"
        )
    elif extractor is None:
        out["features"] = None
        out["note"] = (out["note"] + "; " if "note" in out else "") + reason(cfg.dataset)
    else:
        subset = min(1000, n // 2)
        real = real_images(target_set, "train", n, seed=0)  # real images the outputs should look like
        floor = fid_kid_floor(extractor, target_set, n, subset_size=subset, seed=0)
        out["features"] = extractor.name
        out["features_sha256"] = state_fingerprint(extractor)
        out["floor"] = {"fid": number(floor["fid"]), "kid": [number(floor["kid"].mean), number(floor["kid"].std)]}
    for label, generator in generators.items():
        outputs = spec.sample(cfg, generator, n, seed, inputs=inputs)
        entry: dict[str, Any] = {"l1": number((outputs - targets).abs().mean())}
        if extractor is not None:
            fid = frechet_inception_distance(real, outputs, extractor)
            kid = kernel_inception_distance(real, outputs, extractor, subset_size=subset, seed=0)
            entry.update(
                fid=number(fid), fid_over_floor=number(fid / floor["fid"]), kid=[number(kid.mean), number(kid.std)]
            )
        few = inputs[:SPREAD_INPUTS]  # a second dropout draw on the same inputs: how much the output varies
        again = spec.sample(cfg, generator, len(few), seed + 1, inputs=few)
        entry["dropout_spread"] = number((again - outputs[: len(few)]).abs().mean())
        entry.update(sample_stats(outputs))
        out[label] = entry
    return out


def scores_table(result: Mapping[str, Any]) -> str:
    """A run's scores (:func:`score_run`'s result) as a table: a row per generator and the real-data floor."""
    labels = [key for key, value in result.items() if isinstance(value, dict) and key != "floor"]
    columns = [c for c in TABLE_COLUMNS if any(c in result[label] for label in labels)]
    width = max(len(label) for label in [*labels, "real floor"]) + 2

    def cell(column: str, value: Any) -> str:
        value = value[0] if isinstance(value, list) else value  # KID: [mean, std], the mean shown
        if value is None:
            return f"{'-':>12s}"
        return f"{kid_per_mille(value):>12s}" if column == "kid" else f"{value:>12.4g}"

    lines = [f"n = {result['n']:,}; features: {result.get('features') or 'none'}"]
    if result.get("note"):
        lines.append(result["note"])
    lines.append(" " * width + " ".join(f"{TABLE_HEADERS.get(c, c):>12s}" for c in columns))
    for label in labels:
        lines.append(f"{label:<{width}s}" + " ".join(cell(c, result[label].get(c)) for c in columns))
    if "floor" in result:
        floor = result["floor"]
        lines.append(f"{'real floor':<{width}s}" + " ".join(cell(c, floor.get(c)) for c in columns))
    return "\n".join(lines)
