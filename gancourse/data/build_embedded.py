"""Rebuild the embedded data files from a data root: ``python -m gancourse.data.build_embedded --root DATA_ROOT``.

Reads ``DATA_ROOT/emoji`` (the two 64 px sheets and emoji.json) and
``DATA_ROOT/FashionMNIST/raw`` and writes ``emoji-32px.npz.xz`` and
``fashion-mnist-7000.npz.xz`` into ``gancourse/assets/`` (see :mod:`gancourse.assets`),
where :func:`gancourse.data.emoji.embedded_emoji` and
:func:`gancourse.data.mnist.embedded_fashion_mnist` read them.
The same inputs give the same arrays (the zip and xz containers may differ in timestamps).
"""

from __future__ import annotations

import argparse
import io
import lzma
from pathlib import Path

import numpy as np

from gancourse.data.emoji import EMBEDDED_EMOJI_FILE, read_emoji_folder
from gancourse.data.files import ASSETS, sha256_file
from gancourse.data.mnist import EMBEDDED_FASHION_FILE, read_split

EMOJI_SIZE = 32
FASHION_PER_CLASS = {"train": 600, "test": 100}


def write_npz_xz(path: Path, **arrays: np.ndarray) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # uncompressed: xz compresses far better than zip's deflate
    path.write_bytes(lzma.compress(buffer.getvalue(), preset=9 | lzma.PRESET_EXTREME))


def first_per_class(labels: np.ndarray, count: int) -> np.ndarray:
    """Indices of the first ``count`` items of every class, in the file's order."""
    rank = np.zeros_like(labels)
    for c in np.unique(labels):
        rank[labels == c] = np.arange((labels == c).sum())
    return np.flatnonzero(rank < count)


def build(root: Path) -> None:
    emoji = read_emoji_folder(root / "emoji").resized(EMOJI_SIZE)
    hwc = (0, 2, 3, 1)  # stored (N, H, W, 3): colour last compresses 25 % better than (N, 3, H, W)
    write_npz_xz(
        EMBEDDED_EMOJI_FILE,
        twemoji=emoji.twemoji.transpose(hwc),
        noto=emoji.noto.transpose(hwc),
        labels=emoji.labels.astype(np.uint8),
        names=emoji.names,
        base=emoji.base.astype(np.int16),
    )
    arrays = {}
    for split, count in FASHION_PER_CLASS.items():
        images, labels = read_split(root / "FashionMNIST" / "raw", split)
        keep = first_per_class(labels, count)
        arrays[f"{split}_images"], arrays[f"{split}_labels"] = images[keep], labels[keep].astype(np.uint8)
    write_npz_xz(EMBEDDED_FASHION_FILE, **arrays)
    for path in (EMBEDDED_EMOJI_FILE, EMBEDDED_FASHION_FILE):
        print(f"{path.relative_to(ASSETS.parent.parent)}  {path.stat().st_size:,} bytes  sha256 {sha256_file(path)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, required=True, help="data root with emoji/ and FashionMNIST/raw/")
    build(parser.parse_args(argv).root)


if __name__ == "__main__":
    main()
