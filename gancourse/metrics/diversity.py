"""Within-class diversity: does a conditional generator draw a class, or one picture of it?

A conditional GAN can satisfy the conditional accuracy (chapter 8) by drawing each class
the same way every time: the label then replaces z. FID notices only in aggregate. The
check here is direct: for each class c, the mean pairwise distance between generated
images of class c, divided by the same mean over real images of class c,

    d(S) = 1 / (|S| (|S| - 1)) * sum_{i != j} ||x_i - x_j||_2,     ratio_c = d(fake_c) / d(real_c).

A ratio near 1 is the data's own variety; near 0, one image per class (mode collapse
within the class). Distances are in pixel space: crude, but free of any feature
extractor's blind spots, and enough to see a row of identical digits.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import torch

from gancourse.data import dataset_classes, load_images, transform_images


def mean_pairwise_distance(images: torch.Tensor) -> float:
    """Mean Euclidean distance over the ordered pairs i != j of ``images`` (N, ...), N >= 2."""
    if len(images) < 2:
        raise ValueError(f"mean_pairwise_distance needs at least 2 images, got {len(images)}")
    flat = images.reshape(len(images), -1).double()  # (N, D)
    distances = torch.cdist(flat, flat)  # (N, N), zero on the diagonal
    return float(distances.sum() / (len(flat) * (len(flat) - 1)))


@dataclasses.dataclass(frozen=True)
class WithinClassDiversity:
    """Per class: generated and real mean pairwise distance, and their ratio (1 = the data's variety)."""

    fake: tuple[float, ...]
    real: tuple[float, ...]

    @property
    def ratios(self) -> tuple[float, ...]:
        return tuple(f / r for f, r in zip(self.fake, self.real, strict=True))

    @property
    def worst(self) -> tuple[int, float]:
        """The class with the smallest ratio, and that ratio."""
        c = min(range(len(self.ratios)), key=self.ratios.__getitem__)
        return c, self.ratios[c]

    def __str__(self) -> str:
        cells = "  ".join(f"{c}: {r:.2f}" for c, r in enumerate(self.ratios))
        c, r = self.worst
        return f"within-class diversity (generated / real, pixel distance): {cells}; lowest {r:.2f} (class {c})"


def within_class_diversity(
    fake: torch.Tensor, fake_labels: torch.Tensor, real: torch.Tensor, real_labels: torch.Tensor
) -> WithinClassDiversity:
    """:class:`WithinClassDiversity` of generated images ``fake`` (N, C, H, W) with the classes asked for
    ``fake_labels`` (N,) against real images ``real`` with their labels; every class present in either
    must have at least 2 images in both."""
    if fake.shape[1:] != real.shape[1:]:
        raise ValueError(f"fake images {tuple(fake.shape[1:])} and real images {tuple(real.shape[1:])} differ in shape")
    classes = sorted(set(fake_labels.tolist()) | set(real_labels.tolist()))
    fake_d, real_d = [], []
    for c in classes:
        f, r = fake[fake_labels == c], real[real_labels == c]
        if len(f) < 2 or len(r) < 2:
            raise ValueError(f"class {c} has {len(f)} generated and {len(r)} real images: each needs at least 2")
        fake_d.append(mean_pairwise_distance(f))
        real_d.append(mean_pairwise_distance(r))
    return WithinClassDiversity(tuple(fake_d), tuple(real_d))


def conditional_diversity(
    generate: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    latent_dim: int,
    dataset: str,
    image_size: int,
    per_class: int = 50,
    seed: int = 0,
) -> WithinClassDiversity:
    """:func:`within_class_diversity` of ``generate(z, labels)`` (``per_class`` samples of every class, z
    drawn with ``seed``) against the real test images of ``dataset``, as chapter 8 measures it."""
    images, labels, _ = load_images(dataset, "test", image_size=image_size)
    real = transform_images(images, image_size)  # (N, C, S, S) in [-1, 1], as G draws
    real_labels = torch.as_tensor(np.asarray(labels), dtype=torch.long)
    classes = len(dataset_classes(dataset))
    asked = torch.arange(classes).repeat_interleave(per_class)  # (classes * per_class,)
    z = torch.randn(len(asked), latent_dim, generator=torch.Generator().manual_seed(seed))
    return within_class_diversity(generate(z, asked).cpu(), asked, real, real_labels)
