"""Emoji: the same 3,786 emoji drawn by two designers, a small colour data set with classes and pairs.

The data root's ``emoji/`` folder holds the two 64 px RGBA sprite sheets of the npm
packages ``emoji-datasource-twitter@16.0.0`` (Twemoji, CC-BY 4.0: "Twemoji graphics by
Twitter, Inc. and other contributors") and ``emoji-datasource-google@16.0.0`` (Noto
Emoji, Apache 2.0), and ``emoji.json`` (MIT, the emoji-data project by Cal Henderson)
with each emoji's cell and category. Each cell is 66 x 66 px: a 1 px transparent border
around a 64 px image. Images are composited on white (their alpha is coverage), then
resized.

How the two renderings are exposed, as data set names:

- ``emoji``: both designers, interleaved (Twemoji 0, Noto 0, Twemoji 1, ...), so that
  ``limit`` keeps both styles; 7,572 images, labels = the 10 categories;
- ``emoji_twemoji`` / ``emoji_noto``: one designer, 3,786 images;
- :func:`emoji_pairs`: the aligned pairs (row i of both tensors is the same emoji) for
  image-to-image translation (pix2pix, Twemoji -> Noto).

The split is by base emoji: every 10th base emoji, with all its skin-tone variants,
is in ``test`` (so no variant of a test emoji is seen in training); the rest is ``train``.

Where the files come from, in this order: the data root; a download of the four files
from the npm packages through the jsDelivr CDN, each checked against the sha256 listed
in ``SOURCES.md`` (readers online); the 32 px copy embedded in the package
(``gancourse/assets/``, read by :func:`embedded_emoji`), with one printed line saying so.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
from pathlib import Path

import numpy as np
import torch
from torchvision.transforms.v2 import functional as TF

from gancourse.data.files import (
    ASSETS,
    DataError,
    cache_dir,
    data_root,
    download,
    offline,
    one_line,
    read_npz_xz,
    writable,
)

CATEGORIES = (
    "Smileys & Emotion",
    "People & Body",
    "Component",
    "Animals & Nature",
    "Food & Drink",
    "Travel & Places",
    "Activities",
    "Objects",
    "Symbols",
    "Flags",
)  # the order of categories.json
DESIGNERS = {"twemoji": "twitter", "noto": "google"}  # our name -> emoji-data's image-set name
NAMES = ("emoji", "emoji_twemoji", "emoji_noto")
CELL, SIDE = 66, 64  # a sheet cell, and the image inside its 1 px border
TEST_EVERY = 10  # every 10th base emoji (with its variants) is in the test split
NATIVE_SIZE = SIDE
EMBEDDED_EMOJI_FILE = ASSETS / "emoji-32px.npz.xz"  # every emoji at 32 px (build_embedded.py)

_NPM = "https://cdn.jsdelivr.net/npm"
# relative path under <root>/emoji -> (URL of the npm file through the jsDelivr CDN, sha256 of SOURCES.md)
FILES = {
    "emoji.json": (
        f"{_NPM}/emoji-datasource@16.0.0/emoji.json",
        "1d602e65be88772bf8cc368ce16b855d719eeddbafe128d471b80203f494d29f",
    ),
    "img/twitter/sheets-clean/64.png": (
        f"{_NPM}/emoji-datasource-twitter@16.0.0/img/twitter/sheets-clean/64.png",
        "daa7711b29897de6bd811a4cfeae911d8d8baa7f7e25c97d9b64354ae425ff5c",
    ),
    "img/google/sheets-clean/64.png": (
        f"{_NPM}/emoji-datasource-google@16.0.0/img/google/sheets-clean/64.png",
        "795a0c598d162c9a4aae23f2188c607b8c9bc1912cb7d84382459f8de91a3ae1",
    ),
}


@dataclasses.dataclass(frozen=True)
class EmojiSet:
    """Both renderings of every emoji, row-aligned: row i of ``twemoji`` and ``noto`` is one emoji."""

    twemoji: np.ndarray  # (N, 3, S, S) uint8, composited on white
    noto: np.ndarray  # (N, 3, S, S) uint8
    labels: np.ndarray  # (N,) int64: index into CATEGORIES
    names: np.ndarray  # (N,) str: emoji-data's short name (a variant adds its skin-tone code)
    base: np.ndarray  # (N,) int64: index of the base emoji (a variant shares its base's)
    source: str

    def __len__(self) -> int:
        return len(self.labels)

    def split(self, split: str) -> "EmojiSet":
        """The ``train`` or ``test`` rows (every TEST_EVERY-th base emoji is test)."""
        if split not in ("train", "test"):
            raise ValueError(f"split = {split!r} is not allowed: choose 'train' or 'test'")
        keep = (self.base % TEST_EVERY == TEST_EVERY - 1) == (split == "test")
        return dataclasses.replace(
            self,
            twemoji=self.twemoji[keep],
            noto=self.noto[keep],
            labels=self.labels[keep],
            names=self.names[keep],
            base=self.base[keep],
        )

    def resized(self, size: int) -> "EmojiSet":
        """Both renderings resized to ``size`` (antialiased), still uint8."""
        if size == self.twemoji.shape[-1]:
            return self
        return dataclasses.replace(self, twemoji=resize_uint8(self.twemoji, size), noto=resize_uint8(self.noto, size))


def resize_uint8(images: np.ndarray, size: int) -> np.ndarray:
    """uint8 (N, C, H, W) -> uint8 (N, C, size, size), antialiased bilinear, 4,096 at a time."""
    stack = torch.from_numpy(np.array(images))  # a writable copy: the cached arrays are read-only
    out = [TF.resize(chunk, [size, size], antialias=True) for chunk in stack.split(4096)]
    return torch.cat(out).numpy()


def composite_on_white(rgba: np.ndarray) -> np.ndarray:
    """uint8 (..., H, W, 4) RGBA -> uint8 (..., H, W, 3): ``rgb * a + 255 * (1 - a)``, rounded."""
    rgb = rgba[..., :3].astype(np.uint32)
    alpha = rgba[..., 3:].astype(np.uint32)
    return ((rgb * alpha + 255 * (255 - alpha) + 127) // 255).astype(np.uint8)


def _entries(meta: list[dict]) -> tuple[list[tuple[int, int]], list[int], list[str], list[int]]:
    """(sheet_x, sheet_y) of every emoji (base, then its skin-tone variants), category, name, base index."""
    cells, labels, names, base = [], [], [], []
    for i, entry in enumerate(meta):
        if not (entry.get("has_img_twitter") and entry.get("has_img_google")):
            continue  # a pair needs both drawings (every entry of 16.0.0 has them)
        label = CATEGORIES.index(entry["category"])
        variants = [("", entry)] + sorted((entry.get("skin_variations") or {}).items())
        for code, item in variants:
            if code and not (item.get("has_img_twitter") and item.get("has_img_google")):
                continue
            cells.append((int(item["sheet_x"]), int(item["sheet_y"])))
            labels.append(label)
            names.append(entry["short_name"] + (f":{code}" if code else ""))
            base.append(i)
    return cells, labels, names, base


def _cut(sheet_path: Path, cells: list[tuple[int, int]]) -> np.ndarray:
    """uint8 (N, 3, 64, 64): the cells of one sheet, composited on white."""
    from gancourse.data.files import load_image_rgba

    sheet = np.asarray(load_image_rgba(sheet_path))  # (H, W, 4)
    need = (max(y for _, y in cells) + 1) * CELL, (max(x for x, _ in cells) + 1) * CELL
    if sheet.shape[0] < need[0] - 2 or sheet.shape[1] < need[1] - 2:
        raise DataError(
            f"{sheet_path} is {sheet.shape[1]}x{sheet.shape[0]} px, too small for the cells emoji.json lists: "
            "it is not the 64 px sheet of emoji-datasource 16.0.0. Replace it"
        )
    out = np.empty((len(cells), 3, SIDE, SIDE), np.uint8)
    for start in range(0, len(cells), 512):  # composite 512 cells at a time (bounded memory)
        block = np.stack(
            [
                sheet[y * CELL + 1 : y * CELL + 1 + SIDE, x * CELL + 1 : x * CELL + 1 + SIDE]
                for x, y in cells[start : start + 512]
            ]
        )
        out[start : start + len(block)] = composite_on_white(block).transpose(0, 3, 1, 2)
    return out


@functools.lru_cache(maxsize=1)
def embedded_emoji() -> EmojiSet:
    """The emoji embedded in the package (``EMBEDDED_EMOJI_FILE``) as an :class:`EmojiSet` (32 px)."""
    a = read_npz_xz(EMBEDDED_EMOJI_FILE)
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
        source=f"embedded {EMBEDDED_EMOJI_FILE.name}",
    )


def _has_files(folder: Path) -> bool:
    return all((folder / rel).is_file() for rel in FILES)


def read_emoji_folder(folder: str | os.PathLike) -> EmojiSet:
    """Every emoji of an ``emoji/`` folder (emoji.json + both 64 px sheets) at 64 px; cached per file version."""
    folder = Path(folder)
    missing = [rel for rel in FILES if not (folder / rel).is_file()]
    if missing:
        raise DataError(f"{folder} lacks {', '.join(missing)}: copy the emoji folder again (see its SOURCES.md)")
    stamp = tuple((folder / rel).stat().st_mtime_ns for rel in FILES)
    return _read_folder_cached(folder, stamp)


@functools.lru_cache(maxsize=2)
def _read_folder_cached(folder: Path, stamp: tuple) -> EmojiSet:
    try:
        meta = json.loads((folder / "emoji.json").read_text(encoding="utf-8"))
        cells, labels, names, base = _entries(meta)
    except (ValueError, KeyError, TypeError) as err:
        raise DataError(f"{folder / 'emoji.json'} is not emoji-data's emoji.json ({err!r}): replace it") from err
    images = {d: _cut(folder / f"img/{s}/sheets-clean/64.png", cells) for d, s in DESIGNERS.items()}
    arrays = dict(labels=np.array(labels, np.int64), names=np.array(names), base=np.array(base, np.int64))
    for a in (*images.values(), *arrays.values()):
        a.setflags(write=False)
    return EmojiSet(images["twemoji"], images["noto"], source=str(folder), **arrays)


def _download_emoji(base: Path) -> Path:
    """Download the three files (sha256-checked) into ``<root>/emoji`` if writable, else the cache."""
    target = (base if writable(base) else cache_dir() / "data") / "emoji"
    for rel, (url, sha) in FILES.items():
        download(url, target / rel, sha)
    return target


_announced: set[tuple] = set()


def _announce(key: tuple, line: str) -> None:
    """Print ``line`` once per key and process (a fallback is never silent, and never noisy)."""
    if key not in _announced:
        _announced.add(key)
        print(line)


def emoji_set(size: int = NATIVE_SIZE, root: str | os.PathLike | None = None) -> EmojiSet:
    """All 3,786 emoji in both renderings at ``size`` px, from the data root, a download, or the embedded copy.

    The root is looked at on every call (nothing about its absence is cached), so files
    copied in later are used.
    """
    base = data_root(root)
    folder = next((f for f in (base / "emoji", cache_dir() / "data" / "emoji") if _has_files(f)), None)
    reason = "downloads are off ($GANCOURSE_OFFLINE)"
    if folder is None and not offline():
        try:
            folder = _download_emoji(base)
        except (DataError, OSError) as err:
            reason = f"the download failed ({one_line(err, 200)})"
    if folder is not None:
        return read_emoji_folder(folder).resized(size)
    shipped = embedded_emoji()
    stored = shipped.twemoji.shape[-1]
    _announce(
        ("emoji", str(base)),
        f"No emoji sheets under {base / 'emoji'} and {reason}: using the {stored} px copy of all "
        f"{len(shipped):,} emoji embedded in gancourse (Twemoji CC-BY 4.0, Noto Apache 2.0)"
        + (f", upscaled to {size} px (blurrier than the 64 px sheets)" if size > stored else "")
        + ".",
    )
    return shipped.resized(size)


def emoji_arrays(
    name: str = "emoji", split: str = "train", size: int = 32, root: str | os.PathLike | None = None
) -> tuple[np.ndarray, np.ndarray, str]:
    """``(images uint8 (N, 3, size, size), category labels int64 (N,), source)`` for an emoji data set name."""
    if name not in NAMES:
        raise ValueError(f"name = {name!r} is not an emoji data set: allowed {', '.join(map(repr, NAMES))}")
    part = emoji_set(size, root).split(split)
    if name == "emoji_twemoji":
        return part.twemoji, part.labels, part.source + " (Twemoji)"
    if name == "emoji_noto":
        return part.noto, part.labels, part.source + " (Noto)"
    both = np.stack([part.twemoji, part.noto], axis=1).reshape(-1, *part.twemoji.shape[1:])  # interleaved
    return both, np.repeat(part.labels, 2), part.source + " (Twemoji and Noto, interleaved)"
