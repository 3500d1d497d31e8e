"""One call that scores generators the way every GAN chapter does: :func:`evaluate`.

For each generator: FID, KID and improved precision and recall (Kynkäänniemi et al.
2019, the last two in the same features) against real test images, the class histogram under
the domain classifier (the mode-collapse check) and, for a class-conditional
generator, the conditional accuracy; and once, the real-data floor, the same scores
between real training and real test images at the same sample count. What is
measured, on how many images and with which features is set by an
:class:`~gancourse.config.EvalConfig`, so every chapter scores alike and says so.

Colour generators (emoji, CIFAR-10) are scored the same way: the real images are drawn
with the channels of the data set and at the size of the generated images (32 or 64 px),
and the domain classifier downsamples both to the 32 px it was trained on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import torch

from gancourse.config import EvalConfig
from gancourse.data import dataset_channels, dataset_classes
from gancourse.metrics.classifier import load_or_train_classifier
from gancourse.metrics.coverage import ClassCoverage, ConditionalAccuracy, class_coverage, conditional_accuracy
from gancourse.metrics.features import (
    ClassifierFeatures,
    FeatureExtractor,
    class_probabilities,
    extract_features,
    load_feature_extractor,
)
from gancourse.metrics.kid import MeanStd, kid_from_features, kid_per_mille
from gancourse.metrics.precision_recall import PrecisionRecall, precision_recall
from gancourse.metrics.scores import fid_kid_floor, frechet_inception_distance, real_images
from gancourse.train.recipes import class_rows

#: A generator to score: a tensor of n images, ``sample(n)``, or for a conditional
#: generator ``sample(n, labels)`` (with ``conditional=True``).
Samples = torch.Tensor | Callable[..., torch.Tensor]


@dataclasses.dataclass(frozen=True)
class Score:
    """The scores of one set of images (a generator's, or the real test images)."""

    fid: float | None  # None for the real test images themselves
    kid: MeanStd | None
    coverage: ClassCoverage | None  # class histogram under the domain classifier
    accuracy: ConditionalAccuracy | None = None  # conditional generators only
    precision_recall: PrecisionRecall | None = None  # Kynkäänniemi et al. 2019; None for the real test images


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """What :func:`evaluate` measured; ``str()`` is the table the chapters print."""

    config: EvalConfig
    features: str  # the feature extractor's name: scores with other features are not comparable
    floor: Score  # real training vs real test images
    real: Score  # the real test images' class histogram
    scores: dict[str, Score]
    classes: tuple[str, ...]
    extractor: FeatureExtractor = dataclasses.field(repr=False)  # for further scores with the same features
    classifier: ClassifierFeatures | None = dataclasses.field(repr=False)  # the domain classifier, if used

    def class_shares(self) -> dict[str, Any]:
        """Share of images per predicted class, real test images first (for :func:`viz.plot_class_histogram`)."""
        sources = {"real test images": self.real, **self.scores}
        return {name: s.coverage.shares for name, s in sources.items() if s.coverage is not None}

    def __str__(self) -> str:
        width = max(12, *(len(name) for name in self.scores))
        lines = [f"n = {self.config.n} generated and {self.config.n} real images each, features: {self.features}"]
        lines.append(f"{'':{width}s} {'FID':>8s}  {'prec.':>6s} {'recall':>6s}   KID x 10^3 (MMD^2 x 1000, as papers)")
        for name, s in [*self.scores.items(), ("real floor", self.floor)]:
            pr = s.precision_recall
            columns = f"{pr.precision:6.3f} {pr.recall:6.3f}" if pr is not None else f"{'':6s} {'':6s}"
            lines.append(f"{name:{width}s} {s.fid:8.2f}  {columns}   {kid_per_mille(s.kid)}")
        for name, s in {"real test images": self.real, **self.scores}.items():
            if s.coverage is not None:
                lines.append(f"{name}: {s.coverage}")
            if s.accuracy is not None:
                per_class = " ".join(
                    f"{c}: {100 * a:.0f}%" for c, a in zip(self.classes, s.accuracy.per_class, strict=True)
                )
                lines.append(f"{name}: {s.accuracy}\n  per class: {per_class}")
        return "\n".join(lines)


def _draw(name: str, sample: Samples, n: int, labels: torch.Tensor | None) -> torch.Tensor:
    if isinstance(sample, torch.Tensor):
        if labels is not None:
            raise ValueError(f"samples[{name!r}] is a tensor: a conditional evaluation needs sample(n, labels)")
        if len(sample) < n:
            raise ValueError(f"samples[{name!r}] has {len(sample)} images: the evaluation needs n = {n}")
        return sample[:n]
    images = sample(n) if labels is None else sample(len(labels), labels)
    if not isinstance(images, torch.Tensor) or len(images) != (n if labels is None else len(labels)):
        got = len(images) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"samples[{name!r}] returned {got} images for n = {n}: it must return n images")
    return images


def _image_size(fakes: Mapping[str, torch.Tensor], channels: int, dataset: str) -> int:
    """The common side S of the generated images (B, C, S, S); ``ValueError`` if they disagree with the data."""
    shapes = {name: tuple(images.shape[1:]) for name, images in fakes.items()}
    for name, shape in shapes.items():
        if len(shape) != 3 or shape[0] != channels or shape[1] != shape[2]:
            raise ValueError(
                f"samples[{name!r}] are images of shape {shape} (C, H, W), but {dataset} has {channels} channel(s) "
                "and the metrics need square images (C, S, S)"
            )
    if len(set(shapes.values())) > 1:
        raise ValueError(f"samples have different image shapes {shapes}: score generators of one size together")
    return next(iter(shapes.values()))[-1]


def evaluate(
    samples: Mapping[str, Samples],
    cfg: EvalConfig | None = None,
    *,
    conditional: bool = False,
    mode: str | None = None,
    device: torch.device | str | None = None,
    extractor: FeatureExtractor | None = None,
) -> Evaluation:
    """Score every generator in ``samples`` against real test images and the real-data floor.

    ``cfg`` defaults to ``EvalConfig.for_mode(mode)``. With ``conditional=True`` each
    sampler is called as ``sample(n, labels)`` with ``n / n_classes`` labels of each
    class, and the conditional accuracy is reported too. The real images'
    features are computed once and shared by every score. The real images have the
    generated images' size (all generators must share one); ``n`` is at most the size
    of the data set's test split (742 for ``emoji``, 371 for one designer).
    """
    cfg = cfg or EvalConfig.for_mode(mode)
    if not samples:
        raise ValueError("samples is empty: give at least one generator to evaluate, as {name: images or sample(n)}")
    classes = tuple(dataset_classes(cfg.dataset))
    if extractor is None:
        extractor = load_feature_extractor(cfg.dataset, kind=cfg.features, mode=mode, device=device)
    classifier = None
    if cfg.class_histogram or conditional:
        classifier = (
            extractor
            if isinstance(extractor, ClassifierFeatures)
            else ClassifierFeatures(load_or_train_classifier(cfg.dataset, mode, device=device))
        )
    labels = class_rows(len(classes), cfg.n // len(classes)) if conditional else None  # n / n_classes each
    fakes = {name: _draw(name, sample, cfg.n, labels) for name, sample in samples.items()}  # checked before any work
    size = _image_size(fakes, dataset_channels(cfg.dataset), cfg.dataset)
    subset = min(cfg.kid_subset_size, cfg.n // 2)
    floor = fid_kid_floor(
        extractor,
        cfg.dataset,
        cfg.n,
        subsets=cfg.kid_subsets,
        subset_size=subset,
        seed=cfg.seed,
        image_size=size,
        pr_k=cfg.pr_k,
    )
    real = real_images(cfg.dataset, "test", cfg.n, seed=cfg.seed, image_size=size)  # (n, C, S, S) in [-1, 1]
    real_features = extract_features(extractor, real)  # (n, d), shared by every score

    def coverage(images: torch.Tensor) -> ClassCoverage | None:
        return class_coverage(class_probabilities(classifier, images)) if classifier is not None else None

    scores = {}
    for name, fake in fakes.items():
        fake_features = extract_features(extractor, fake)
        accuracy = None
        if conditional:
            accuracy = conditional_accuracy(class_probabilities(classifier, fake), labels)
        scores[name] = Score(
            fid=frechet_inception_distance(real_features, fake_features),
            kid=kid_from_features(
                real_features, fake_features, subsets=cfg.kid_subsets, subset_size=subset, seed=cfg.seed
            ),
            coverage=coverage(fake),
            accuracy=accuracy,
            precision_recall=precision_recall(real_features, fake_features, cfg.pr_k),
        )
    name = getattr(extractor, "name", type(extractor).__name__)
    return Evaluation(
        config=cfg,
        features=name,
        floor=Score(fid=floor["fid"], kid=floor["kid"], coverage=None, precision_recall=floor["precision_recall"]),
        real=Score(fid=None, kid=None, coverage=coverage(real)),
        scores=scores,
        classes=classes,
        extractor=extractor,
        classifier=classifier,
    )
