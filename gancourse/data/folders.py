"""The reader's own images: a folder of pictures, and the paired layout of the pix2pix data sets.

A folder is searched recursively for image files (:data:`IMAGE_SUFFIXES`); every image
is converted to RGB, its centre square cropped and resized (the DCGAN tutorial's
``Resize`` + ``CenterCrop``). Unreadable files are skipped and counted in one printed
line; a folder with no readable image is an error naming it.

Files with other extensions and folders that cannot be listed are passed over and
counted in another printed line, naming them. An image more than :data:`MAX_ASPECT` times
longer than wide (or wider than long) is skipped as unusable: its short side resized to
the image size would take gigabytes. Phone photos are turned upright by their EXIF
orientation (:func:`gancourse.data.files.load_image`).

Splits: a folder with ``train/`` and ``test/`` (or ``val/``) subfolders, in any case
(``Train/``), uses them, as the pix2pix downloads (facades, maps) do; one with only one of
them is an error (the other split would come from its images); any other folder puts
every 10th image (sorted by path) in ``test`` and the rest in ``train``.

Paired images (Isola et al. 2017, the ``datasets/`` of pix2pix): each file holds A and B
side by side, A on the left; ``direction='AtoB'`` maps A to B, ``'BtoA'`` B to A. In the
facades download A is the photo and B the label map, so labels -> photo is ``BtoA`` (as
the pix2pix scripts train it); in maps A is the aerial photo and B the map.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from pathlib import Path

import numpy as np
import torch
from torchvision.transforms.v2 import functional as TF

from gancourse.data.files import IMAGE_SUFFIXES, DataError, as_path, load_image

TEST_EVERY = 10
DIRECTIONS = ("AtoB", "BtoA")
_TEST_FOLDERS = ("test", "val")
#: The widest aspect ratio (long side / short side) a folder image may have. The short side
#: is resized to ``image_size`` before the centre crop, so a 150,000 x 1 px strip would
#: become 256 x 38 million px (29 GB) for a 256-px square holding 1/150,000 of the picture;
#: 8:1 admits panoramas and keeps the resized image under 8 x 4096^2 x 3 bytes (400 MB).
MAX_ASPECT = 8


def _split_folders(folder: Path) -> tuple[Path | None, Path | None, bool]:
    """(train folder, test folder, whether the layout is split) among ``folder``'s children, case-blind."""
    children = {}
    with contextlib.suppress(OSError):
        children = {p.name.lower(): p for p in sorted(folder.iterdir()) if p.is_dir()}
    train = children.get("train")
    test = next((children[s] for s in _TEST_FOLDERS if s in children), None)
    return train, test, train is not None or test is not None


def _scan(search: Path) -> tuple[list[Path], list[tuple[Path, str]]]:
    """(image files under ``search``, sorted; (path, why) of every file or folder passed over)."""
    paths, passed = [], []

    def unreadable(err: OSError) -> None:
        passed.append((Path(err.filename or search), f"an unreadable folder ({err.strerror or err})"))

    for top, _dirs, names in os.walk(search, onerror=unreadable):
        for name in names:
            path = Path(top) / name
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                passed.append((path, f"the extension {path.suffix or '(none)'!r} is not an image's"))
            elif path.is_file():
                paths.append(path)
    return sorted(paths), sorted(passed)


def report_passed(folder: Path, passed: list[tuple[Path, str]]) -> None:
    """One printed line for the files and folders a listing passed over, naming the first few."""
    if passed:
        shown = "; ".join(f"{path.name}: {why}" for path, why in passed[:3])
        more = f"; and {len(passed) - 3} more" if len(passed) > 3 else ""
        print(f"{folder}: passed over {len(passed)} files or folders that are not image files ({shown}{more})"[:400])


def image_paths(
    folder: str | os.PathLike, split: str | None = None, passed: list[tuple[Path, str]] | None = None
) -> list[Path]:
    """The image files under ``folder`` (recursively, sorted); with ``split``, that split's share.

    Files with other extensions (:data:`IMAGE_SUFFIXES` lists the read ones) and folders
    that cannot be listed are passed over and counted: appended to ``passed`` as
    ``(path, why)`` when it is given, else printed in one line. A folder with a ``train/``
    or a ``test/`` (``val/``) child, in any case, is a split layout: each split comes from
    its own folder, and a missing one is an error (never the other split's images).
    """
    folder = as_path(folder, "folder")
    if not folder.is_dir():
        raise DataError(f"folder = {str(folder)!r} is not a folder: give a folder of images")
    if split is not None and split not in ("train", "test"):
        raise ValueError(f"split = {split!r} is not allowed: choose 'train' or 'test'")
    sub = None
    if split is not None:
        train, test, layout = _split_folders(folder)
        sub = train if split == "train" else test
        if layout and sub is None:
            have, want = (train, "test/ (or val/)") if split == "test" else (test, "train/")
            raise DataError(
                f"{folder} has {have.name}/ but no {want}: its {split} split would have to come from the "
                f"other split's images. Add {want.rstrip('/')} there, or move all images into one folder "
                f"(every {TEST_EVERY}th then tests)"
            )
    search = sub or folder
    paths, skipped = _scan(search)
    if passed is None:
        report_passed(search, skipped)
    else:
        passed += skipped
    if not paths:
        seen = f"; passed over {len(skipped)} (first: {skipped[0][0].name}: {skipped[0][1]})" if skipped else ""
        raise DataError(
            f"{search} holds no image files ({', '.join(IMAGE_SUFFIXES)}){seen}: put images there (convert others "
            "to PNG or JPEG), or fix the path"
        )
    if split is None or sub is not None:
        return paths
    is_test = np.arange(len(paths)) % TEST_EVERY == TEST_EVERY - 1
    chosen = [p for p, t in zip(paths, is_test, strict=True) if t == (split == "test")]
    if not chosen:
        raise DataError(
            f"{folder} holds {len(paths)} images, too few for a test split (every {TEST_EVERY}th image): "
            "add images, or make train/ and test/ subfolders"
        )
    return chosen


def square_uint8(img, size: int) -> torch.Tensor:
    """An RGB PIL image -> uint8 (3, size, size): the short side resized to ``size``, the centre cropped.

    An image longer than :data:`MAX_ASPECT` times its width (or wider than that times its
    height) raises :class:`DataError`: resizing its short side would take gigabytes.
    """
    width, height = img.size
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise DataError(
            f"{width} x {height} px is narrower than 1:{MAX_ASPECT} (MAX_ASPECT): its centre square would keep "
            f"1/{max(width, height) // max(1, min(width, height))} of it and resizing it takes too much memory; "
            "crop it yourself"
        )
    image = TF.pil_to_tensor(img)  # (3, H, W) uint8
    image = TF.resize(image, size, antialias=True)  # the short side -> size
    return TF.center_crop(image, [size, size])


def square_file(path: Path, size: int) -> torch.Tensor:
    """:func:`square_uint8` of the image file ``path``; every :class:`DataError` names the file."""
    img = load_image(path)
    try:
        return square_uint8(img, size)
    except DataError as err:
        raise DataError(f"{path}: {err}") from err


def _check_size(size: int) -> None:
    if not isinstance(size, int) or not 8 <= size <= 4096:
        raise ValueError(f"image_size = {size!r} is out of range: allowed 8 <= image_size <= 4096")


def _report(folder: Path, bad: list[tuple[Path, str]], used: int) -> None:
    if bad:
        example = f"{bad[0][0].name}: {bad[0][1]}"
        print(
            f"{folder}: skipped {len(bad)} of {len(bad) + used} files that are not usable images "
            f"(first: {example[:160]})"
        )


def folder_arrays(
    folder: str | os.PathLike, split: str | None = "train", image_size: int = 64, limit: int = 0
) -> tuple[np.ndarray, np.ndarray, str]:
    """``(images uint8 (N, 3, S, S), labels zeros (N,), source)`` of every readable image under ``folder``."""
    _check_size(image_size)
    folder = as_path(folder, "folder")
    passed: list[tuple[Path, str]] = []
    paths = image_paths(folder, split, passed)
    report_passed(folder, passed)
    images, bad = [], []
    for path in paths:
        if limit and len(images) >= limit:
            break
        try:
            images.append(square_file(path, image_size))
        except DataError as err:
            bad.append((path, str(err).removeprefix(str(path)).lstrip(": ").strip()))
    _report(folder, bad, len(images))
    if not images:
        raise DataError(f"{folder} holds no readable image: all {len(bad)} image files failed to open")
    stack = torch.stack(images).numpy()
    return stack, np.zeros(len(stack), np.int64), str(folder)


class ImageFiles(torch.utils.data.Dataset):
    """Every image file under a folder (recursively), as RGB tensors in [-1, 1] of one size, read lazily.

    For folders too large to hold in memory; :func:`folder_arrays` reads a folder at
    once and skips bad files. Here an unreadable file raises :class:`DataError` naming it
    when it is reached.
    """

    def __init__(self, folder: str | os.PathLike, image_size: int = 64) -> None:
        _check_size(image_size)
        self.paths = image_paths(folder)
        self.image_size = image_size

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        image = square_file(self.paths[index], self.image_size)
        return image.float().div(127.5).sub(1), 0  # [0, 255] -> [-1, 1]


def split_pair(image: torch.Tensor, direction: str = "AtoB") -> tuple[torch.Tensor, torch.Tensor]:
    """(C, H, 2W) side by side -> (source, target), each (C, H, W); A is the left half."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction = {direction!r} is not allowed: choose 'AtoB' or 'BtoA'")
    width = image.shape[-1]
    if width % 2:
        raise ValueError(f"a paired image must have an even width (A and B side by side), got {width}")
    a, b = image[..., : width // 2], image[..., width // 2 :]
    return (a, b) if direction == "AtoB" else (b, a)


def paired_folder_arrays(
    folder: str | os.PathLike, split: str = "train", image_size: int = 256, direction: str = "AtoB", limit: int = 0
) -> tuple[np.ndarray, np.ndarray, str]:
    """``(source uint8 (N, 3, S, S), target uint8 (N, 3, S, S), folder)`` of a pix2pix paired folder.

    Each file is A|B side by side (facades and maps: 512 x 256, A and B 256 x 256);
    each half is resized to ``image_size`` (no crop: the halves are already square).
    Files whose width is not twice their height are skipped and counted, as unreadable ones.
    """
    _check_size(image_size)
    if direction not in DIRECTIONS:
        raise ValueError(f"direction = {direction!r} is not allowed: choose 'AtoB' or 'BtoA'")
    folder = as_path(folder, "folder")
    sources, targets, bad = [], [], []
    passed: list[tuple[Path, str]] = []
    paths = image_paths(folder, split, passed)
    report_passed(folder, passed)
    for path in paths:
        if limit and len(sources) >= limit:
            break
        try:
            image = TF.pil_to_tensor(load_image(path))  # (3, H, 2W)
        except DataError as err:
            bad.append((path, str(err).removeprefix(str(path)).strip()))
            continue
        height, width = image.shape[-2:]
        if width != 2 * height:
            bad.append((path, f"{width}x{height} px is not two squares side by side (A|B)"))
            continue
        source, target = split_pair(image, direction)
        sources.append(TF.resize(source, [image_size, image_size], antialias=True))
        targets.append(TF.resize(target, [image_size, image_size], antialias=True))
    _report(folder, bad, len(sources))
    if not sources:
        raise DataError(f"{folder} holds no usable paired image (A|B side by side): {len(bad)} files skipped")
    return torch.stack(sources).numpy(), torch.stack(targets).numpy(), str(folder)


def write_image_folder(images: np.ndarray | torch.Tensor, folder: str | os.PathLike, prefix: str = "image") -> Path:
    """Save images as PNG files ``<prefix>_00000.png``, ... in ``folder`` (made if missing); returns the folder.

    ``images``: uint8 (N, C, H, W) with values 0-255, or float (N, C, H, W) in [-1, 1] (a
    generator's range, as every loader here serves images); C is 1 (grey) or 3 (RGB).
    Files of the same names are overwritten, other files are left alone. The result is
    a folder that ``dataset='folder'`` reads back: a stand-in for the reader's own pictures.
    """
    from PIL import Image

    stack = torch.as_tensor(images).detach().cpu()
    if stack.ndim != 4 or stack.shape[1] not in (1, 3) or len(stack) == 0:
        raise ValueError(
            f"images must be a non-empty batch (N, C, H, W) with C = 1 or 3, got shape {tuple(stack.shape)}"
        )
    if stack.dtype == torch.uint8:
        pixels = stack
    elif stack.dtype.is_floating_point:
        low, high = stack.min().item(), stack.max().item()
        if low < -1 - 1e-4 or high > 1 + 1e-4:
            raise ValueError(f"float images must lie in [-1, 1], got values in [{low:.3g}, {high:.3g}]")
        pixels = ((stack.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    else:
        raise ValueError(f"images must be uint8 (0-255) or float in [-1, 1], got {stack.dtype}")
    if not prefix or "/" in prefix or "\\" in prefix or prefix.startswith("."):
        raise ValueError(f"prefix = {prefix!r} is not allowed: a plain file-name stem, not starting with '.'")
    folder = as_path(folder, "folder")
    folder.mkdir(parents=True, exist_ok=True)
    arrays = pixels.permute(0, 2, 3, 1).numpy()  # (N, H, W, C) for PIL
    for i, array in enumerate(arrays):
        Image.fromarray(array[..., 0] if array.shape[-1] == 1 else array).save(folder / f"{prefix}_{i:05d}.png")
    return folder


@dataclasses.dataclass(frozen=True)
class FolderReport:
    """What a folder gives a training run: images found, skipped (with why), the train/held-out split.

    ``skipped`` holds ``(file name, reason)``; ``train`` and ``test`` count the usable
    images of each split; ``layout`` says how the split was made.
    """

    folder: Path
    found: int
    skipped: tuple[tuple[str, str], ...]
    train: int
    test: int
    layout: str

    def warnings(self, batch_size: int | None = None) -> list[str]:
        """What will go wrong or mislead: fewer images than one batch, no held-out images."""
        out = []
        if batch_size is not None and self.train < batch_size:
            out.append(
                f"WARNING: {self.train} training images, fewer than one batch of {batch_size}: every batch "
                f"holds all {self.train} (a smaller batch than asked), and the GAN can only learn these few; "
                "add images or lower batch_size"
            )
        if self.test == 0:
            out.append(
                f"WARNING: no held-out images (every {TEST_EVERY}th file needs at least {TEST_EVERY} files): "
                "the run's FID cannot be scored against unseen real images"
            )
        return out

    def lines(self, batch_size: int | None = None) -> list[str]:
        """The report as printed lines: counts, skipped files and reasons (the first three), split, warnings."""
        out = [f"{self.folder}: {self.found} image files found, {self.found - len(self.skipped)} usable"]
        if self.skipped:
            shown = "; ".join(f"{name}: {why}"[:160] for name, why in self.skipped[:3])
            more = f"; and {len(self.skipped) - 3} more" if len(self.skipped) > 3 else ""
            out.append(f"skipped {len(self.skipped)}: {shown}{more}")
        out.append(f"split ({self.layout}): {self.train} train, {self.test} held out for the final FID")
        return out + self.warnings(batch_size)

    def __str__(self) -> str:
        return "\n".join(self.lines())


def folder_report(folder: str | os.PathLike) -> FolderReport:
    """Open every image file under ``folder`` as training would, and count what it gives (see :class:`FolderReport`).

    A folder with ``train/`` and ``test/`` subfolders is split by them; any other keeps
    every 10th file (sorted by path) out of training for the final FID. Every file is
    decoded once, as :func:`folder_arrays` decodes it.
    """
    folder = as_path(folder, "folder")
    train_paths = image_paths(folder, "train")
    if (folder / "train").is_dir():
        layout = "its train/ and test/ subfolders"
    else:
        layout = f"every {TEST_EVERY}th file, sorted by path, held out"
    try:
        test_paths = image_paths(folder, "test")
    except DataError:  # fewer than TEST_EVERY files, or no test/ beside train/
        test_paths = []
        if layout.startswith("every"):
            train_paths = image_paths(folder)
    skipped, usable = [], {"train": 0, "test": 0}
    for split, paths in (("train", train_paths), ("test", test_paths)):
        for path in paths:
            try:
                square_uint8(load_image(path), 8)
            except DataError as err:
                skipped.append((path.name, str(err).removeprefix(str(path)).lstrip(": ").strip()))
            else:
                usable[split] += 1
    return FolderReport(
        folder, len(train_paths) + len(test_paths), tuple(skipped), usable["train"], usable["test"], layout
    )
