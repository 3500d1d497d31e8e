"""Small data files for the tests of gancourse.data: IDX files, a fake MNIST folder, a failing download."""

from __future__ import annotations

import gzip
import struct

import numpy as np


def write_idx(path, array: np.ndarray, compress: bool = False) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(struct.pack(">i", s) for s in array.shape)
    payload = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(payload) if compress else payload)


def fake_mnist(root, n=20, compress=True, folder="MNIST"):
    raw = root / folder / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    suffix = ".gz" if compress else ""
    for split, count in (("train", n), ("t10k", n // 2)):
        write_idx(raw / f"{split}-images-idx3-ubyte{suffix}", rng.integers(0, 256, (count, 28, 28)), compress)
        write_idx(raw / f"{split}-labels-idx1-ubyte{suffix}", rng.integers(0, 10, (count,)), compress)
    return raw


def no_network(name, root):  # torchvision's message spans lines
    raise RuntimeError("Error downloading train-images-idx3-ubyte.gz:\nTried http://mirror/, got:\n(no network)")
