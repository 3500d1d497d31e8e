"""Images for style transfer: where they come from, and how they become tensors.

Style transfer works on RGB tensors in [0, 1] of shape (1, 3, S, S). A source
may be a file path or an http(s) URL; the file is opened with
:func:`gancourse.data.load_image`, so a missing or corrupt file raises
:class:`gancourse.data.DataError` naming it. Greyscale, palette and RGBA images
are converted to RGB and images larger than ``MAX_SIDE`` are shrunk first, each
with one printed line.

The book's images: the paintings and photos under ``<data root>/style`` (see
its SOURCES.md; the data root is ``$GANCOURSE_DATA`` or the cache folder).
Without them, images that installed packages ship are used instead, and one
line says which.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import os
import urllib.parse
import urllib.request
from pathlib import Path

import torch
import torch.nn.functional as F
from torchvision.transforms.functional import pil_to_tensor

from gancourse.data import IMAGE_SUFFIXES, DataError, cache_dir, data_root, load_image

#: Images larger than this (pixels, longer side) are shrunk to it before anything else.
MAX_SIDE = 4096
_URL_TIMEOUT_S = 30

#: Paintings and photos of ``<data root>/style`` (titles and artists from its SOURCES.md).
PAINTINGS = {
    "starry_night": "Vincent van Gogh, The Starry Night (1889)",
    "the_scream": "Edvard Munch, The Scream (1893)",
    "wave": "Katsushika Hokusai, The Great Wave off Kanagawa (c. 1831)",
    "composition_vii": "Wassily Kandinsky, Composition VII (1913)",
    "shipwreck": "J. M. W. Turner, The Shipwreck of the Minotaur (c. 1810)",
}
PHOTOS = {
    "tubingen": "Neckarfront, Tübingen (the photo of Gatys et al., Fig. 2)",
    "golden_gate": "Golden Gate Bridge",
    "hoovertowernight": "Hoover Tower, Stanford, at night",
}


@dataclasses.dataclass(frozen=True)
class ImageSet:
    """Named content photos and style images (paths), with a caption per name and where they came from."""

    contents: dict[str, Path]
    styles: dict[str, Path]
    captions: dict[str, str]
    source: str


def book_images(root: str | os.PathLike | None = None, verbose: bool = True) -> ImageSet:
    """The book's images: ``<data root>/style`` if it holds any, else images shipped by installed packages.

    Known paintings come first, in the order of ``PAINTINGS``; any other image
    in the folder that is not a known photo counts as a style.
    """
    folder = data_root(root) / "style"
    if folder.is_dir():
        files = {p.stem: p for p in sorted(folder.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES}
        contents = {name: files[name] for name in PHOTOS if name in files}
        known = {name: files[name] for name in PAINTINGS if name in files}  # in the order above
        styles = {**known, **{n: p for n, p in files.items() if n not in PHOTOS}}  # any other image is a style
        if contents and styles:
            captions = {**PAINTINGS, **PHOTOS}
            return ImageSet(contents, styles, {n: captions.get(n, n) for n in files}, str(folder))
    return _shipped_images(folder, verbose)


def _shipped_images(folder: Path, verbose: bool) -> ImageSet:
    """Photos that matplotlib and scikit-learn ship; with no paintings, photos stand in as styles."""
    contents: dict[str, Path] = {}
    styles: dict[str, Path] = {}
    captions: dict[str, str] = {}
    mpl = importlib.util.find_spec("matplotlib")
    if mpl is not None and mpl.submodule_search_locations:
        hopper = Path(mpl.submodule_search_locations[0]) / "mpl-data" / "sample_data" / "grace_hopper.jpg"
        if hopper.is_file():
            contents["grace_hopper"] = hopper
            captions["grace_hopper"] = "Grace Hopper (matplotlib sample data)"
    sklearn = importlib.util.find_spec("sklearn")  # located, not imported: importing it is slow
    if sklearn is not None and sklearn.submodule_search_locations:
        shipped = Path(sklearn.submodule_search_locations[0]) / "datasets" / "images"
        for name, caption in (("flower", "a flower (scikit-learn sample, CC BY 2.0)"),
                              ("china", "a temple in China (scikit-learn sample, CC BY 2.0)")):  # fmt: skip
            if (shipped / f"{name}.jpg").is_file():
                styles[name] = shipped / f"{name}.jpg"
                captions[name] = caption
    if not contents or not styles:
        raise DataError(
            f"No style images under {folder} and no shipped sample images (matplotlib's grace_hopper.jpg, "
            "scikit-learn's flower.jpg): put a photo and a painting into that folder, or pass paths or URLs."
        )
    if verbose:
        print(
            f"No paintings under {folder}: using images shipped by installed packages: "
            f"{', '.join(f'{n}.jpg' for n in contents)} (content) and {', '.join(f'{n}.jpg' for n in styles)} "
            "(style; photos, not paintings)."
        )
    return ImageSet(contents, styles, captions, "images shipped by matplotlib and scikit-learn")


def fetch(source: str | os.PathLike) -> Path:
    """A local path for ``source``: the path itself, or an http(s) URL downloaded once into the cache."""
    text = str(source)
    if not text.lower().startswith(("http://", "https://")):
        return Path(source).expanduser()
    name = Path(urllib.parse.urlparse(text).path).name or "image"
    target = cache_dir() / "style" / f"{hashlib.sha1(text.encode()).hexdigest()[:12]}-{name}"
    if target.is_file():
        return target
    try:
        with urllib.request.urlopen(text, timeout=_URL_TIMEOUT_S) as response:
            payload = response.read()
    except Exception as err:  # URLError, HTTPError, timeout, bad address: all mean "no image"
        raise DataError(
            f"could not download {text} ({type(err).__name__}: {err}): check the address and your "
            "connection, or download the image yourself and pass its path"
        ) from err
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(target.suffix + ".part")
    partial.write_bytes(payload)
    partial.replace(target)  # atomic: an interrupted download leaves no half image behind
    return target


def open_rgb(source: str | os.PathLike, verbose: bool = True):
    """An RGB ``PIL.Image`` from a path or URL, converted and shrunk as needed, each change announced."""
    from PIL import Image

    path = fetch(source)
    mode = None
    try:
        with Image.open(path) as probe:  # reads the header only
            mode = probe.mode
    except Exception:
        pass  # load_image below raises the DataError that names the file
    try:
        img = load_image(path)
    except Image.DecompressionBombError as err:
        raise DataError(
            f"{path} is too large to open safely ({err}): shrink it below {MAX_SIDE} pixels per side first"
        ) from err
    if verbose and mode not in (None, "RGB"):
        kind = {"L": "greyscale", "LA": "greyscale with alpha", "RGBA": "RGBA", "P": "palette", "CMYK": "CMYK"}
        what = kind.get(mode, f"mode {mode}")
        dropped = "; its alpha channel (transparency) is dropped" if "A" in mode or mode == "P" else ""
        print(f"{path.name}: {what} image converted to RGB{dropped}")
    if max(img.size) > MAX_SIDE:
        before = img.size
        img.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
        if verbose:
            print(f"{path.name}: {before[0]}x{before[1]} pixels is huge; shrunk to {img.size[0]}x{img.size[1]} first")
    return img


def load_style_image(
    source: str | os.PathLike, size: int, verbose: bool = True, keep_aspect: bool = False
) -> torch.Tensor:
    """(1, 3, size, size) float32 RGB in [0, 1]: the image's centre square, resized (antialiased).

    With ``keep_aspect`` the whole image, its longer side resized to ``size``: (1, 3, H, W).
    """
    if not 8 <= size <= MAX_SIDE:
        raise ValueError(f"size = {size} is out of range: allowed 8 <= size <= {MAX_SIDE}")
    img = open_rgb(source, verbose)
    image = pil_to_tensor(img).unsqueeze(0).float() / 255  # (1, 3, H, W) in [0, 1]
    return fit_longer_side(image, size) if keep_aspect else square(image, size)


#: The shortest side an aspect-kept image may have: VGG19's four poolings leave conv5_1 a 1 x 1 map at 16 px.
MIN_SIDE = 16


def fit_longer_side(images: torch.Tensor, size: int) -> torch.Tensor:
    """(B, 3, H, W) -> (B, 3, h, w) with max(h, w) = ``size`` and the aspect ratio kept (short side >= 16)."""
    if images.ndim == 3:
        images = images.unsqueeze(0)
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"images must have shape (B, 3, H, W) or (3, H, W), got {tuple(images.shape)}")
    h, w = images.shape[-2:]
    scale = size / max(h, w)
    new = (max(MIN_SIDE, round(h * scale)), max(MIN_SIDE, round(w * scale)))
    if new == (h, w):
        return images
    return F.interpolate(images, size=new, mode="bilinear", antialias=True, align_corners=False).clamp(0, 1)


def square(images: torch.Tensor, size: int) -> torch.Tensor:
    """(B, 3, H, W) -> (B, 3, size, size): resize the shorter side to ``size``, keep the centre."""
    if images.ndim == 3:
        images = images.unsqueeze(0)
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"images must have shape (B, 3, H, W) or (3, H, W), got {tuple(images.shape)}")
    h, w = images.shape[-2:]
    if (h, w) == (size, size):
        return images
    scale = size / min(h, w)
    new = (max(size, round(h * scale)), max(size, round(w * scale)))
    images = F.interpolate(images, size=new, mode="bilinear", antialias=True, align_corners=False).clamp(0, 1)
    top, left = (new[0] - size) // 2, (new[1] - size) // 2
    return images[:, :, top : top + size, left : left + size].contiguous()
