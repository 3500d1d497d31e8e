"""Where data lives and how files are read safely: the data root, IDX files, images, downloads.

Every reader here checks before it trusts: an IDX file's header before its payload
(and while streaming a gzip, so a small file that expands to gigabytes is refused
after reading only what the header promises), an image's mode before converting it
(16-bit images are scaled by their bit depth, not clipped), a download's sha256
before it replaces anything. A bad file raises :class:`DataError` naming the file and the fix.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import lzma
import math
import os
import re
import tempfile
import time
import urllib.parse
import urllib.request
import zlib
from pathlib import Path

import numpy as np

from gancourse.cache import cache_dir  # also what data.cache_dir names

DATA_ENV = "GANCOURSE_DATA"
OFFLINE_ENV = "GANCOURSE_OFFLINE"  # "1": never try a download (the embedded copies are used at once)
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".jfif", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")
MAX_IDX_BYTES = 2**31  # 2 GiB: 45x the largest file of the MNIST family (47 MB unpacked)
DOWNLOAD_TIMEOUT_S = 60  # per read: a server silent this long has stalled
#: The whole download: a server that trickles a byte now and then never trips the per-read
#: timeout; an hour is a 3.6 GB file at 1 MB/s.
DOWNLOAD_DEADLINE_S = 3600
URL_SCHEMES = ("https", "http", "file")
ASSETS = Path(__file__).resolve().parents[1] / "assets"  # the data files shipped inside the package


class DataError(RuntimeError):
    """A data file or folder is missing, partial or corrupt; the message says which and what to do."""


def as_path(value, name: str = "path") -> Path:
    """``value`` as a :class:`Path`; anything but ``str`` / ``os.PathLike`` is a ``TypeError`` naming ``name``."""
    if isinstance(value, bytes) or not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a str or os.PathLike (a file path), got {type(value).__name__}: {value!r:.80}")
    return Path(value).expanduser()


def one_line(err: object, limit: int = 160) -> str:
    """An error message on one line (torchvision's download errors span several), cut at ``limit`` characters."""
    text = " ".join(str(err).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The data root: ``root``, else ``$GANCOURSE_DATA``, else ``cache_dir() / 'data'``."""
    if root is None:
        root = os.environ.get(DATA_ENV) or cache_dir() / "data"
    return as_path(root, "root")


def offline() -> bool:
    """True when ``$GANCOURSE_OFFLINE`` is set to 1/true/yes: downloads are not even tried."""
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in ("1", "true", "yes")


def writable(path: Path) -> bool:
    """Whether ``path`` (or its nearest existing parent) can be written to."""
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return os.access(probe, os.W_OK)


# --------------------------------------------------------------------------------------
# IDX files (LeCun's MNIST format)
# --------------------------------------------------------------------------------------

# type byte -> (dtype, what it holds); MNIST-family files use 0x08 only
IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_IDX_FIX = (
    "Delete it and run again to download a fresh copy, or copy it again from a good source "
    "(torchvision/datasets/mnist.py lists the md5 of every file)."
)


def _read_exactly(fh, n: int, path: Path) -> bytes:
    """``n`` bytes from a (possibly decompressing) stream, 16 MiB at a time; fewer is a DataError."""
    chunks, got = [], 0
    while got < n:
        chunk = fh.read(min(n - got, 1 << 24))
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def read_idx(path: str | os.PathLike, max_bytes: int = MAX_IDX_BYTES) -> np.ndarray:
    """Read an IDX file, gzip-compressed or not, into a NumPy array in native byte order.

    The header is a magic number ``0 0 type ndim`` followed by ``ndim`` big-endian
    int32 sizes; the data must fill exactly the product of the sizes times the item
    size of ``type`` (uint8, int8, int16, int32, float32, float64). The header is read
    and checked first and the payload is then read as a stream of exactly the size it
    promises, so a gzip bomb (a small file that expands to gigabytes) costs at most
    ``max_bytes`` and a payload longer than its header is refused without reading it all.
    """
    path = as_path(path)
    if path.is_dir():
        raise DataError(f"{path} is a folder, not an IDX file: give the path of one *-ubyte[.gz] file")
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            magic = _read_exactly(fh, 4, path)
            if len(magic) < 4 or magic[0] != 0 or magic[1] != 0 or magic[2] not in IDX_DTYPES:
                raise DataError(f"{path} is not an IDX file (bad magic number {magic[:4]!r}). {_IDX_FIX}")
            ndim = magic[3]
            sizes = _read_exactly(fh, 4 * ndim, path)
            if len(sizes) < 4 * ndim:
                raise DataError(f"{path} is truncated inside its header. {_IDX_FIX}")
            shape = tuple(int.from_bytes(sizes[4 * i : 4 * i + 4], "big") for i in range(ndim))
            dtype = np.dtype(IDX_DTYPES[magic[2]])
            expected = math.prod(shape) * dtype.itemsize
            if expected > max_bytes:
                raise DataError(
                    f"{path}: its header {shape} of {dtype.name} asks for {expected:,} bytes, more than the "
                    f"{max_bytes:,} allowed (max_bytes): not an MNIST-family file, or a corrupt one. {_IDX_FIX}"
                )
            payload = _read_exactly(fh, expected, path)
            extra = fh.read(1)
    except DataError:
        raise
    except (OSError, EOFError, zlib.error) as err:  # BadGzipFile is an OSError
        raise DataError(f"{path} is corrupt or truncated ({err}). {_IDX_FIX}") from err
    header = 4 + 4 * ndim
    if len(payload) != expected or extra:
        held = f"{header + len(payload)} bytes" if not extra else f"more than {header + expected} bytes"
        raise DataError(
            f"{path} holds {held} but its header {shape} needs {header + expected}: "
            f"the file is partial or corrupt. {_IDX_FIX}"
        )
    array = np.frombuffer(payload, dtype=dtype).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=False)  # torch reads native byte order only


# --------------------------------------------------------------------------------------
# Images
# --------------------------------------------------------------------------------------


def _looks_like_url(text: str) -> bool:
    """``scheme://...`` (or ``scheme:/...``, what ``Path`` makes of it); "C:\\x" has a one-letter scheme."""
    return re.match(r"^[A-Za-z][A-Za-z0-9+.-]+:/", text) is not None


def load_image(path: str | os.PathLike):
    """Open an image file as an RGB ``PIL.Image``; a bad path or file raises :class:`DataError`.

    16-bit greyscale images (PNG mode ``I;16``, ``I``) are scaled by their bit depth
    (65535 -> 255) before the conversion, which would otherwise clip them to white.
    Alpha is dropped here; :func:`composite_on` keeps it by compositing on a background.
    The EXIF orientation tag is applied (``PIL.ImageOps.exif_transpose``): a phone's
    portrait photo, stored landscape with "rotate 90" in its EXIF, loads upright.
    """
    return _open(path).convert("RGB")


def load_image_rgba(path: str | os.PathLike):
    """Like :func:`load_image`, keeping transparency: an RGBA ``PIL.Image``."""
    return _open(path).convert("RGBA")


def _open(path):
    from PIL import Image, ImageOps, UnidentifiedImageError

    if isinstance(path, (str, os.PathLike)) and _looks_like_url(os.fspath(path)):
        raise DataError(
            f"{path} is a URL: load_image reads local files. Download it first "
            "(gancourse.data.download for https://, or your browser), then pass its path"
        )
    path = as_path(path)
    if path.is_dir():
        raise DataError(f"{path} is a folder, not an image: pass one image file (a folder of images: dataset='folder')")
    if not path.is_file():
        raise DataError(f"{path} does not exist: check the path")
    try:
        with Image.open(path) as img:
            img.load()
            upright = ImageOps.exif_transpose(img)  # a copy, turned as the EXIF orientation says (none: as stored)
            return _to_8bit(upright, path)
    except Image.DecompressionBombError as err:
        raise DataError(
            f"{path} is too large to open safely ({err}): "
            "shrink it, or raise PIL.Image.MAX_IMAGE_PIXELS if you trust it"
        ) from err
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise DataError(f"{path} is not a readable image ({err}): replace the file") from err


def _to_8bit(img, path: Path):
    """An 8-bit PIL image: 16- and 32-bit integer greyscale scaled by bit depth, float refused."""
    from PIL import Image

    if img.mode.startswith("I;16") or img.mode == "I":
        values = np.asarray(img).astype(np.int64)
        bits = 16 if img.mode.startswith("I;16") or values.max(initial=0) <= 65535 else 32
        if values.min(initial=0) < 0:
            raise DataError(f"{path}: a signed {img.mode} image with negative values; convert it to 8 or 16 bit")
        scaled = (values * 255 + (2**bits - 1) // 2) // (2**bits - 1)  # round(v * 255 / (2^bits - 1))
        return Image.fromarray(scaled.astype(np.uint8), mode="L")
    if img.mode == "F":
        raise DataError(f"{path} holds floating-point pixels (mode F): save it as an 8- or 16-bit image")
    return img.copy()


# --------------------------------------------------------------------------------------
# Downloads with a checksum
# --------------------------------------------------------------------------------------


def read_npz_xz(path: Path) -> dict[str, np.ndarray]:
    """The arrays of an xz-compressed ``.npz``, read-only; a missing or damaged file names itself."""
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


def sha256_file(path: str | os.PathLike) -> str:
    """The hex sha256 of a file, read 1 MiB at a time."""
    digest = hashlib.sha256()
    with open(as_path(path), "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download(
    url: str,
    target: str | os.PathLike,
    sha256: str | None = None,
    timeout: float = DOWNLOAD_TIMEOUT_S,
    deadline: float = DOWNLOAD_DEADLINE_S,
) -> Path:
    """Download ``url`` (https, http or file) to ``target``, verifying ``sha256`` before it lands.

    The bytes go to a unique temporary file beside ``target``, are hashed, and only a
    verified file is renamed into place (atomic): an interrupted or altered download
    leaves nothing behind. A ``target`` that already exists with the right sha256 is kept.
    ``timeout`` bounds each read (seconds), ``deadline`` the whole download: past it the
    download stops with a :class:`DataError` (at most one read's timeout late, and each
    read's timeout is at most the deadline).
    """
    for name, value in (("timeout", timeout), ("deadline", deadline)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
            raise ValueError(f"{name} = {value!r} is out of range: allowed a finite number of seconds > 0")
    if not isinstance(url, str):
        raise TypeError(f"url must be a str, got {type(url).__name__}")
    scheme = urllib.parse.urlparse(url).scheme.lower()
    if scheme not in URL_SCHEMES:
        raise DataError(
            f"url = {url!r}: the scheme {scheme + '://' if scheme else '(none)'} is not supported; "
            f"use one of {', '.join(s + '://' for s in URL_SCHEMES)}, or download the file yourself and pass its path"
        )
    target = as_path(target, "target")
    sha256 = sha256.lower() if isinstance(sha256, str) else sha256  # hex digits: either case
    if target.is_file() and (sha256 is None or sha256_file(target) == sha256):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        start, received = time.monotonic(), 0
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=min(timeout, deadline)) as response:
            read = getattr(response, "read1", response.read)  # what has arrived: a trickle returns, read() would wait
            for block in iter(lambda: read(1 << 20), b""):
                digest.update(block)
                out.write(block)
                received += len(block)
                elapsed = time.monotonic() - start
                if elapsed > deadline:
                    raise DataError(
                        f"{url}: the download did not finish within its deadline of {deadline:g} s ({received:,} "
                        f"bytes in {elapsed:.0f} s, {received / elapsed / 1e3:.3g} kB/s): the server is too slow or "
                        f"stalls. Nothing was saved; try again later, pass a longer deadline, or copy the file to "
                        f"{target} yourself"
                    )
            out.flush()
            os.fsync(out.fileno())
        if sha256 is not None and digest.hexdigest() != sha256:
            raise DataError(
                f"{url} downloaded, but its sha256 is {digest.hexdigest()}, not the expected {sha256}: "
                "the mirror serves another version or the transfer was altered. Nothing was saved; "
                f"try again later or copy the file to {target} yourself"
            )
        os.replace(tmp, target)
    except DataError:
        tmp.unlink(missing_ok=True)
        raise
    except Exception as err:  # URLError, HTTPError, timeout, disk full: the download failed
        tmp.unlink(missing_ok=True)
        raise DataError(f"could not download {url} ({type(err).__name__}: {err})") from err
    return target
