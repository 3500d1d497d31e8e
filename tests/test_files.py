"""gancourse.data.files: IDX files, images, the data root, verified downloads (file:// URLs only), bombs."""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from datafiles import write_idx

from gancourse import data


@pytest.mark.parametrize("compress", [True, False])
def test_read_idx_roundtrip(tmp_path, compress):
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = tmp_path / ("a.gz" if compress else "a")
    write_idx(path, array, compress)
    assert np.array_equal(data.read_idx(path), array)


def test_read_idx_truncated_gzip_names_file_and_fix(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    write_idx(path, np.zeros((5, 28, 28)), compress=True)
    path.write_bytes(path.read_bytes()[:-30])
    with pytest.raises(data.DataError, match=r"train-images-idx3-ubyte.gz is corrupt or truncated .* Delete it"):
        data.read_idx(path)


def test_read_idx_partial_payload(tmp_path):
    path = tmp_path / "labels"
    write_idx(path, np.zeros((10,)))
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(data.DataError, match=r"labels holds 15 bytes but its header \(10,\) needs 18"):
        data.read_idx(path)


def test_read_idx_bad_magic(tmp_path):
    path = tmp_path / "not-idx"
    path.write_bytes(b"<html>rate limited</html>")
    with pytest.raises(data.DataError, match="not-idx is not an IDX file"):
        data.read_idx(path)


def test_data_root_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv("GANCOURSE_DATA", str(tmp_path / "env"))
    assert data.data_root() == tmp_path / "env"
    assert data.data_root(tmp_path / "arg") == tmp_path / "arg"
    monkeypatch.delenv("GANCOURSE_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert data.data_root() == tmp_path / "cache" / "gancourse" / "data"


def test_download_verifies_sha256(tmp_path):
    import hashlib

    payload = b"emoji sheet bytes" * 100
    source = tmp_path / "source.png"
    source.write_bytes(payload)
    good = hashlib.sha256(payload).hexdigest()
    target = data.download(source.as_uri(), tmp_path / "out" / "64.png", good)
    assert target.read_bytes() == payload
    bad = "0" * 64
    with pytest.raises(data.DataError, match=r"its sha256 is [0-9a-f]{64}, not the expected 0000.* Nothing was saved"):
        data.download(source.as_uri(), tmp_path / "out2" / "64.png", bad)
    assert list((tmp_path / "out2").iterdir()) == []  # no partial file left behind
    # a target with the wrong content is replaced only by a verified download
    target.write_bytes(b"stale")
    data.download(source.as_uri(), target, good)
    assert target.read_bytes() == payload


@pytest.mark.parametrize("url", ["ftp://example.org/64.png", "gopher://x/y", "example.org/64.png"])
def test_download_refuses_other_schemes(tmp_path, url):
    with pytest.raises(data.DataError, match="is not supported; use one of https://, http://, file://"):
        data.download(url, tmp_path / "x")


def test_download_failure_is_a_data_error(tmp_path):
    with pytest.raises(data.DataError, match="could not download file://"):
        data.download((tmp_path / "missing").as_uri(), tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_gzip_bomb_is_refused_while_streaming(tmp_path, monkeypatch):
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    header = bytes([0, 0, 0x08, 1]) + struct.pack(">i", 10)
    with gzip.open(path, "wb") as fh:  # a 10-label header followed by 64 MiB of zeros (64 KiB compressed)
        fh.write(header + bytes(10))
        for _ in range(64):
            fh.write(bytes(1 << 20))
    read = []
    real_open = gzip.open

    def counting_open(*args, **kwargs):
        fh = real_open(*args, **kwargs)
        original = fh.read

        def read_counted(n=-1):
            chunk = original(n)
            read.append(len(chunk))
            return chunk

        fh.read = read_counted
        return fh

    monkeypatch.setattr(data.files.gzip, "open", counting_open)
    with pytest.raises(data.DataError, match=r"holds more than 18 bytes but its header \(10,\) needs 18"):
        data.read_idx(path)
    assert sum(read) < 1 << 16  # the header, 10 bytes and 1 more: never the 64 MiB


def test_idx_header_asking_for_gigabytes_is_refused_before_reading(tmp_path):
    path = tmp_path / "huge-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(bytes([0, 0, 0x08, 3]) + struct.pack(">iii", 100_000_000, 28, 28)))
    with pytest.raises(data.DataError, match="asks for 78,400,000,000 bytes, more than"):
        data.read_idx(path)


@pytest.mark.parametrize("type_byte, dtype", [(0x0D, ">f4"), (0x0C, ">i4"), (0x0B, ">i2")])
def test_idx_wide_types_read_with_their_values(tmp_path, type_byte, dtype):
    values = np.array([[0.5, 300.0], [-2.0, 70000.0]]).astype(dtype)
    path = tmp_path / "wide-idx"
    path.write_bytes(bytes([0, 0, type_byte, 2]) + struct.pack(">ii", 2, 2) + values.tobytes())
    read = data.read_idx(path)
    assert np.array_equal(read, values.astype(np.dtype(dtype).newbyteorder("=")))
    assert read.dtype.isnative
    torch.as_tensor(read)  # torch refuses big-endian arrays


def test_16_bit_png_is_scaled_by_bit_depth(tmp_path):
    from PIL import Image

    grey = np.full((8, 8), 32768, np.uint16)  # mid grey in 16 bits
    Image.fromarray(grey).save(tmp_path / "grey16.png")
    assert Image.open(tmp_path / "grey16.png").mode.startswith("I")
    image = np.asarray(data.load_image(tmp_path / "grey16.png"))
    assert image.shape == (8, 8, 3) and np.all(image == 128)  # 32768 * 255 / 65535 = 127.5 -> 128


def test_load_image_bad_paths_name_the_problem(tmp_path):
    with pytest.raises(data.DataError, match="is a folder, not an image"):
        data.load_image(tmp_path)
    with pytest.raises(data.DataError, match="ftp://example.org/a.png is a URL: load_image reads local files"):
        data.load_image("ftp://example.org/a.png")
    with pytest.raises(data.DataError, match="is a URL"):
        data.load_image(Path("ftp://example.org/a.png"))  # Path collapses "//": still recognised
    for bad in (3, None, b"/tmp/a.png", ["a.png"]):
        with pytest.raises(TypeError, match="path must be a str or os.PathLike"):
            data.load_image(bad)
    with pytest.raises(TypeError, match="folder must be a str or os.PathLike"):
        data.folder_arrays(42)
    with pytest.raises(data.DataError, match="is a folder, not an IDX file"):
        data.read_idx(tmp_path)


def test_decompression_bomb_names_the_file(tmp_path, monkeypatch):
    from PIL import Image

    Image.new("RGB", (100, 100)).save(tmp_path / "bomb.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # PIL refuses images over twice this
    with pytest.raises(data.DataError, match="bomb.png is too large to open safely"):
        data.load_image(tmp_path / "bomb.png")


def test_as_path_refuses_what_is_not_a_path_by_name(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert data.files.as_path("~/x.png") == tmp_path / "x.png"  # expanded
    assert data.files.as_path(tmp_path / "y") == tmp_path / "y"
    with pytest.raises(TypeError, match=r"root must be a str or os.PathLike \(a file path\), got bytes: b'/data'"):
        data.files.as_path(b"/data", "root")
    with pytest.raises(TypeError, match="path must be a str or os.PathLike .*got int: 42"):
        data.files.as_path(42)


def test_one_line_joins_lines_and_cuts_at_the_limit():
    assert data.files.one_line("Error downloading:\n  Tried http://a/,\tgot 404") == (
        "Error downloading: Tried http://a/, got 404"
    )
    cut = data.files.one_line(RuntimeError("x" * 200), limit=20)
    assert cut == "x" * 17 + "..." and len(cut) == 20
    assert data.files.one_line("y" * 20, limit=20) == "y" * 20  # at the limit: kept whole


def test_writable_looks_at_the_nearest_existing_parent(tmp_path):
    assert data.files.writable(tmp_path / "not" / "yet" / "made")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as root: permissions are not enforced")
        assert not data.files.writable(locked / "sub" / "file.pt")
    finally:
        locked.chmod(0o700)
