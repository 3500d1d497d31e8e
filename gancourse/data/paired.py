"""Paired data for image-to-image translation (pix2pix, Isola et al. 2017).

Three sources of (input, target) pairs, all float tensors in [-1, 1]:

- :func:`edge_pairs`: Sobel edges -> image of an MNIST-family data set (as pix2pix's
  edges -> shoes, at digit size);
- :func:`emoji_pairs`: Twemoji -> Noto, the same 3,786 emoji drawn by two designers
  (row i of both tensors is the same emoji);
- :func:`paired_folder`: the A|B side-by-side files of the pix2pix downloads
  (facades, maps, ...), in either direction.
"""

from __future__ import annotations

import os

import torch
import torch.nn.functional as F

from gancourse.config import DataConfig
from gancourse.data.datasets import preload, transform_images
from gancourse.data.emoji import emoji_set
from gancourse.data.folders import paired_folder_arrays

_SOBEL_X = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])


def sobel_edges(images: torch.Tensor, threshold: float | None = 0.25) -> torch.Tensor:
    """Edge maps of images (N, C, H, W) in [-1, 1], same shape, 1 channel: edges 1, background -1.

    The Sobel operator (two 3 x 3 derivative filters, smoothing across the derivative)
    gives the gradient magnitude sqrt(Gx^2 + Gy^2) of the grey level in [0, 1]
    (colour images are averaged to grey first); a pixel is an edge where it exceeds
    ``threshold`` (on that scale a step from black to white gives 4; 0.25 keeps faint
    texture out). ``threshold=None`` returns the magnitude itself, clipped to [0, 1]
    and rescaled to [-1, 1]. Canny's detector (1986) would also thin and link the edges.
    """
    if images.ndim != 4 or not images.dtype.is_floating_point:
        raise ValueError(f"images must be float (N, C, H, W) in [-1, 1], got {images.dtype} {tuple(images.shape)}")
    if threshold is not None and threshold < 0:
        raise ValueError(f"threshold = {threshold} is out of range: allowed threshold >= 0, or None")
    grey = (images.mean(dim=1, keepdim=True) + 1) / 2  # (N, 1, H, W) in [0, 1]
    kernels = torch.stack([_SOBEL_X, _SOBEL_X.T]).unsqueeze(1).to(grey)  # (2, 1, 3, 3): d/dx, d/dy
    gradient = F.conv2d(F.pad(grey, (1, 1, 1, 1), mode="replicate"), kernels)  # (N, 2, H, W)
    magnitude = gradient.pow(2).sum(dim=1, keepdim=True).sqrt()  # (N, 1, H, W)
    if threshold is None:
        return magnitude.clamp(0, 1) * 2 - 1
    return torch.where(magnitude > threshold, 1.0, -1.0).to(images.dtype)


def edge_pairs(
    cfg: DataConfig | None = None,
    split: str = "train",
    threshold: float | None = 0.25,
    root: str | os.PathLike | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(edges, images, labels)`` of the data set ``cfg`` names: a real paired edges -> image task.

    ``images`` (N, 1, S, S) in [-1, 1] come from :func:`preload`, ``edges`` from
    :func:`sobel_edges` on them: the same construction as pix2pix's edges -> shoes
    and edges -> handbags (which used HED edges), at MNIST-family size.
    """
    images, labels = preload(cfg, split, root)
    return sobel_edges(images, threshold), images, labels


def emoji_pairs(
    split: str = "train",
    image_size: int = 32,
    root: str | os.PathLike | None = None,
    limit: int = 0,
    direction: str = "twemoji_to_noto",
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(source, target, labels)``: the same emoji drawn by Twemoji and by Noto, (N, 3, S, S) in [-1, 1].

    Row i of ``source`` and ``target`` is the same emoji (a real paired translation task:
    one designer's style to another's); ``labels`` are the emoji categories.
    ``direction='noto_to_twemoji'`` swaps the two.
    """
    if direction not in ("twemoji_to_noto", "noto_to_twemoji"):
        raise ValueError(f"direction = {direction!r} is not allowed: choose 'twemoji_to_noto' or 'noto_to_twemoji'")
    part = emoji_set(image_size, root).split(split)
    twemoji, noto, labels = part.twemoji, part.noto, part.labels
    if limit:
        twemoji, noto, labels = twemoji[:limit], noto[:limit], labels[:limit]
    source, target = transform_images(twemoji, image_size), transform_images(noto, image_size)
    if direction == "noto_to_twemoji":
        source, target = target, source
    return source, target, torch.tensor(labels)


def paired_folder(
    folder: str | os.PathLike, split: str = "train", image_size: int = 256, direction: str = "AtoB", limit: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(source, target)`` (N, 3, S, S) in [-1, 1] from a pix2pix paired folder (A|B side by side).

    Facades and maps are this layout; facades' labels -> photo is ``direction='BtoA'``
    (the label map is the right half); see :mod:`gancourse.data.folders`.
    """
    source, target, _ = paired_folder_arrays(folder, split, image_size, direction, limit)
    return transform_images(source, image_size), transform_images(target, image_size)
