"""Data sets that need the network the first time, through torchvision: CIFAR-10 and CelebA.

Both are downloaded into the data root (if writable, else the cache folder) on first
use and read from there afterwards. Offline, or with ``$GANCOURSE_OFFLINE=1``, a missing
data set is a :class:`DataError` that says so and names what works offline: ``emoji``
(shipped with gancourse) or ``folder`` (your own images).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from gancourse.data.files import DATA_ENV, DataError, cache_dir, data_root, offline, one_line, writable

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
_SIZES = {"cifar10": "170 MB", "celeba": "1.4 GB"}


def _offline_error(name: str, base: Path, err: Exception | None) -> DataError:
    why = (
        f"the download failed ({type(err).__name__}: {one_line(err, 160)})"
        if err
        else "downloads are off ($GANCOURSE_OFFLINE)"
    )
    return DataError(
        f"dataset = {name!r} needs the network the first time ({_SIZES[name]} from torchvision's source) and "
        f"{why}, and it is not under {base}. Offline, use dataset='emoji' (shipped with gancourse) or "
        f"dataset='folder' with a folder of your own images; or copy torchvision's {name} files into {DATA_ENV}."
    )


def _target(base: Path) -> Path:
    return base if writable(base) else cache_dir() / "data"


def cifar10_arrays(split: str = "train", root: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray, str]:
    """``(images uint8 (N, 3, 32, 32), labels int64 (N,), source)`` of CIFAR-10 (Krizhevsky 2009)."""
    import torchvision.datasets as tvd

    base = data_root(root)
    for folder in (base, cache_dir() / "data"):
        if (folder / "cifar-10-batches-py").is_dir():
            try:
                ds = tvd.CIFAR10(str(folder), train=split == "train", download=False)
            except RuntimeError:
                continue
            return _cifar(ds, folder)
    if offline():
        raise _offline_error("cifar10", base, None)
    try:
        ds = tvd.CIFAR10(str(_target(base)), train=split == "train", download=True)
    except Exception as err:  # URLError, HTTPError, timeout, checksum: no usable download
        raise _offline_error("cifar10", base, err) from err
    return _cifar(ds, _target(base))


def _cifar(ds, folder: Path) -> tuple[np.ndarray, np.ndarray, str]:
    images = np.ascontiguousarray(ds.data.transpose(0, 3, 1, 2))  # (N, 32, 32, 3) -> (N, 3, 32, 32)
    return images, np.asarray(ds.targets, np.int64), str(folder / "cifar-10-batches-py")


def celeba_paths(split: str = "train", root: str | os.PathLike | None = None) -> list[Path]:
    """The image files of CelebA's ``split`` (``train`` or ``test``; Liu et al. 2015's aligned 178 x 218 faces)."""
    import torchvision.datasets as tvd

    base = data_root(root)
    tv_split = "train" if split == "train" else "test"
    for folder in (base, cache_dir() / "data"):
        if (folder / "celeba" / "img_align_celeba").is_dir():
            try:
                ds = tvd.CelebA(str(folder), split=tv_split, target_type=[], download=False)
            except RuntimeError:
                continue
            return [Path(ds.root) / ds.base_folder / "img_align_celeba" / name for name in ds.filename]
    if offline():
        raise _offline_error("celeba", base, None)
    try:
        ds = tvd.CelebA(str(_target(base)), split=tv_split, target_type=[], download=True)
    except Exception as err:  # Google Drive quota, no network, gdown missing: no usable download
        raise _offline_error("celeba", base, err) from err
    return [Path(ds.root) / ds.base_folder / "img_align_celeba" / name for name in ds.filename]


def celeba_arrays(
    split: str = "train", image_size: int = 64, limit: int = 0, root: str | os.PathLike | None = None
) -> tuple[np.ndarray, np.ndarray, str]:
    """``(images uint8 (N, 3, S, S), zeros (N,), source)``: CelebA faces centre-cropped and resized.

    202,599 faces at 64 px take 2.5 GB as uint8: ``limit`` keeps the first N.
    """
    import torch

    from gancourse.data.files import load_image
    from gancourse.data.folders import square_uint8

    paths = celeba_paths(split, root)
    if limit:
        paths = paths[:limit]
    images = torch.stack([square_uint8(load_image(p), image_size) for p in paths]).numpy()
    return images, np.zeros(len(images), np.int64), str(paths[0].parent) if paths else "celeba"
