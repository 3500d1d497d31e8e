"""Every image data set by name, served as float tensors in [-1, 1] (the range of a tanh generator).

:data:`DATASETS` lists the names a config may give, with channels and classes;
:func:`load_images` reads one as uint8 ``(N, C, H, W)``; :func:`preload` and
:func:`load_dataset` scale and resize it for training (Radford et al. 2015, Sec. 3:
images scaled to the range of tanh).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset
from torchvision.transforms import v2

from gancourse.config import DataConfig
from gancourse.data import emoji as _emoji
from gancourse.data import folders as _folders
from gancourse.data import mnist as _mnist
from gancourse.data import online as _online


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """What a data set name gives: channels, class names, whether it needs a folder path or the network."""

    channels: int
    classes: tuple[str, ...]
    about: str
    needs_folder: bool = False
    needs_network: bool = False


DATASETS = {
    "mnist": DatasetInfo(1, _mnist.SPECS["mnist"].classes, "MNIST digits, 28 px grey (LeCun et al. 1998)"),
    "fashion_mnist": DatasetInfo(
        1, _mnist.SPECS["fashion_mnist"].classes, "Fashion-MNIST, 28 px grey (Xiao et al. 2017)"
    ),
    "emoji": DatasetInfo(3, _emoji.CATEGORIES, "emoji by both designers (Twemoji and Noto, interleaved), 64 px colour"),
    "emoji_twemoji": DatasetInfo(3, _emoji.CATEGORIES, "emoji drawn by Twemoji, 64 px colour"),
    "emoji_noto": DatasetInfo(3, _emoji.CATEGORIES, "emoji drawn by Noto, 64 px colour"),
    "cifar10": DatasetInfo(3, _online.CIFAR10_CLASSES, "CIFAR-10, 32 px colour (Krizhevsky 2009)", needs_network=True),
    "celeba": DatasetInfo(3, ("face",), "CelebA aligned faces (Liu et al. 2015)", needs_network=True),
    "folder": DatasetInfo(3, ("image",), "every image under a folder of yours, RGB", needs_folder=True),
}


def dataset_info(name: str) -> DatasetInfo:
    """The :class:`DatasetInfo` of a data set name; an unknown name is a ``ValueError`` listing the allowed ones."""
    if name not in DATASETS:
        raise ValueError(f"dataset = {name!r} is not a known data set: allowed {', '.join(map(repr, DATASETS))}")
    return DATASETS[name]


def dataset_channels(name: str) -> int:
    """1 for the grey data sets, 3 for the colour ones: the channels a generator must produce."""
    return dataset_info(name).channels


def dataset_classes(name: str) -> tuple[str, ...]:
    """The class names of a data set (its labels index this tuple)."""
    return dataset_info(name).classes


def load_images(
    name: str,
    split: str = "train",
    root: str | os.PathLike | None = None,
    image_size: int = 32,
    folder: str | os.PathLike | None = None,
    limit: int = 0,
) -> tuple[np.ndarray, np.ndarray, str]:
    """``(images uint8 (N, C, H, W), labels int64 (N,), source)`` of any data set by name.

    MNIST-family and CIFAR-10 images come at their native size (28, 32); emoji, folder
    and CelebA images are already resized to ``image_size`` (they are stacked, or come
    at 32 px from the embedded copy). ``folder`` is needed by, and only by, ``'folder'``.
    """
    info = dataset_info(name)
    if split not in ("train", "test"):
        raise ValueError(f"split = {split!r} is not allowed: choose 'train' or 'test'")
    if info.needs_folder and not folder:
        raise ValueError("dataset = 'folder' needs a folder: set folder to the path of a folder of images")
    if name in _mnist.SPECS:
        images, labels, source = _mnist.load_arrays(name, split, root)
        images = images[:, None]  # (N, 1, 28, 28): a channel axis for conv layers
    elif name in _emoji.NAMES:
        images, labels, source = _emoji.emoji_arrays(name, split, image_size, root)
    elif name == "cifar10":
        images, labels, source = _online.cifar10_arrays(split, root)
    elif name == "celeba":
        images, labels, source = _online.celeba_arrays(split, image_size, limit, root)
    else:
        images, labels, source = _folders.folder_arrays(folder, split, image_size, limit)
    if limit:
        images, labels = images[:limit], labels[:limit]
    return images, labels, source


def _folder_of(cfg: DataConfig) -> str | None:
    return getattr(cfg, "image_folder", "") or None


def image_transform(image_size: int, augment: bool = False, flip: bool = False, fill: float = 0.0) -> v2.Compose:
    """uint8 (C, H, W) -> float32 (C, S, S) in [-1, 1]; ``augment``: a small random affine.

    Digits are not flipped: a mirrored 2 or 7 is no longer a digit, so flips would
    teach a generator to draw shapes outside the data distribution. ``flip`` (a random
    horizontal mirror) suits photos; emoji hold text and arrows, so it is off by default.
    ``fill`` (in [0, 1]) paints the corners the affine uncovers: 0 (black) for the MNIST
    family's black background, 1 (white) for emoji, which are composited on white.
    """
    steps: list[v2.Transform] = [v2.ToDtype(torch.float32, scale=True)]  # [0, 255] -> [0, 1]
    steps.append(v2.Resize((image_size, image_size), antialias=True))
    if augment:
        steps.append(v2.RandomAffine(degrees=10, translate=(0.08, 0.08), scale=(0.9, 1.1), fill=fill))
    if flip:
        steps.append(v2.RandomHorizontalFlip())
    steps.append(v2.Normalize(mean=[0.5], std=[0.5]))  # [0, 1] -> [-1, 1], every channel
    return v2.Compose(steps)


class ImageTensorDataset(Dataset):
    """Images held in memory as one uint8 tensor, transformed item by item.

    A ``Dataset`` needs only ``__len__`` and ``__getitem__``; ``DataLoader``
    does the batching, shuffling and worker processes.
    """

    def __init__(
        self,
        images: torch.Tensor,  # (N, C, H, W) uint8
        labels: torch.Tensor,  # (N,) int64
        transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
        classes: Sequence[str] = (),
        source: str = "",
    ) -> None:
        if images.ndim != 4 or images.dtype != torch.uint8:
            raise ValueError(f"images must be uint8 of shape (N, C, H, W), got {images.dtype} {tuple(images.shape)}")
        if len(images) != len(labels):
            raise ValueError(f"images ({len(images)}) and labels ({len(labels)}) differ in length")
        self.images, self.labels = images, labels
        self.transform = transform
        self.classes, self.source = tuple(classes), source

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        image = self.images[index]
        if self.transform is not None:
            image = self.transform(image)
        return image, int(self.labels[index])


def load_dataset(cfg: DataConfig | None = None, split: str = "train", root: str | os.PathLike | None = None):
    """The data set that ``cfg`` names, as an :class:`ImageTensorDataset` scaled to [-1, 1].

    Augmentation applies to the training split only; ``cfg.limit`` keeps the first N images.
    """
    cfg = cfg or DataConfig()
    images, labels, source = load_images(cfg.dataset, split, root, cfg.image_size, _folder_of(cfg), cfg.limit)
    return ImageTensorDataset(
        torch.tensor(images),
        torch.tensor(labels),
        image_transform(
            cfg.image_size,
            augment=cfg.augment and split == "train",
            fill=1.0 if cfg.dataset.startswith("emoji") else 0.0,  # the background of the data
        ),
        classes=dataset_classes(cfg.dataset),
        source=source,
    )


def transform_images(images: np.ndarray | torch.Tensor, image_size: int) -> torch.Tensor:
    """uint8 images (N, H, W) or (N, C, H, W) -> float32 (N, C, S, S) in [-1, 1], 4,096 at a time.

    Transforming a stack in one call is far faster on a CPU than item by item
    through a ``DataLoader`` (60,000 MNIST digits: about 2 s on two cores). Only uint8
    is accepted: other integer or float pixels would wrap or clip silently.
    """
    if images.dtype not in (np.uint8, torch.uint8):
        raise ValueError(f"images must be uint8 (0..255), got {images.dtype}: scale them to 0..255 and convert first")
    stack = torch.as_tensor(np.array(images, dtype=np.uint8))  # a copy: cached arrays are read-only
    if stack.ndim == 3:
        stack = stack.unsqueeze(1)  # (N, 1, H, W)
    if stack.ndim != 4:
        raise ValueError(f"images must be (N, H, W) or (N, C, H, W), got shape {tuple(stack.shape)}")
    transform = image_transform(image_size)
    return torch.cat([transform(chunk) for chunk in stack.split(4096)])


def preload(
    cfg: DataConfig | None = None, split: str = "train", root: str | os.PathLike | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """The whole split as ``(images float32 (N, C, S, S) in [-1, 1], labels (N,))``, without augmentation.

    ``C`` follows the data: 1 for MNIST-family, 3 for emoji, CIFAR-10, CelebA and folders.
    Small data sets fit in memory (60,000 MNIST digits at 32 px: 245 MB).
    """
    cfg = cfg or DataConfig()
    images, labels, _ = load_images(cfg.dataset, split, root, cfg.image_size, _folder_of(cfg), cfg.limit)
    return transform_images(images, cfg.image_size), torch.tensor(labels)


def make_loader(dataset: Dataset, cfg: DataConfig | None = None, shuffle: bool = True) -> DataLoader:
    """A ``DataLoader`` with a seeded shuffle; ``drop_last`` keeps every batch the same size."""
    cfg = cfg or DataConfig()
    generator = torch.Generator().manual_seed(cfg.seed)
    return DataLoader(
        dataset,
        batch_size=cfg.batch_size,
        shuffle=shuffle,
        drop_last=shuffle and len(dataset) >= cfg.batch_size,
        num_workers=cfg.num_workers,
        persistent_workers=cfg.num_workers > 0,
        pin_memory=torch.cuda.is_available(),
        generator=generator,
    )
