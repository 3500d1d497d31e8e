"""gancourse.data.online: CIFAR-10 and CelebA need the network the first time, and say so offline."""

from __future__ import annotations

import numpy as np
import pytest

from gancourse import data
from gancourse.config import DataConfig


@pytest.mark.parametrize("name", ["cifar10", "celeba"])
def test_network_datasets_offline_say_so(tmp_path, monkeypatch, name):
    import torchvision.datasets as tvd

    class NoNetwork:
        def __init__(self, *args, download=False, **kwargs):
            raise RuntimeError("Dataset not found." if not download else "<urlopen error no network>")

    monkeypatch.setattr(tvd, "CIFAR10", NoNetwork)
    monkeypatch.setattr(tvd, "CelebA", NoNetwork)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("GANCOURSE_OFFLINE", raising=False)
    with pytest.raises(
        data.DataError, match=f"dataset = '{name}' needs the network the first time .*no network.*dataset='emoji'"
    ):
        data.preload(DataConfig(dataset=name), "train", tmp_path)
    monkeypatch.setenv("GANCOURSE_OFFLINE", "1")
    with pytest.raises(data.DataError, match="downloads are off"):
        data.load_images(name, "train", tmp_path)


def test_cifar10_on_disk_is_read_without_a_download_and_made_channels_first(tmp_path, monkeypatch):
    import torchvision.datasets as tvd

    rng = np.random.default_rng(0)
    pixels, targets = rng.integers(0, 256, (5, 32, 32, 3), dtype=np.uint8), [3, 1, 4, 1, 5]
    calls = []

    class OnDisk:
        def __init__(self, root, train, download):
            calls.append((root, train, download))
            self.data, self.targets = pixels, targets

    monkeypatch.setattr(tvd, "CIFAR10", OnDisk)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    (tmp_path / "cifar-10-batches-py").mkdir()
    images, labels, source = data.cifar10_arrays("test", tmp_path)
    assert calls == [(str(tmp_path), False, False)]  # the test split, found on disk: no download
    assert images.shape == (5, 3, 32, 32) and images.flags.c_contiguous
    assert images[2, 1, 7, 9] == pixels[2, 7, 9, 1]  # (N, H, W, C) -> (N, C, H, W)
    assert np.array_equal(images.transpose(0, 2, 3, 1), pixels)
    assert labels.dtype == np.int64 and labels.tolist() == targets
    assert source == str(tmp_path / "cifar-10-batches-py")


def test_a_failed_download_is_reported_on_one_line(tmp_path, monkeypatch):
    import torchvision.datasets as tvd

    class Unreachable:
        def __init__(self, *args, **kwargs):
            raise ConnectionError("HTTP Error 503:\n  Service Unavailable")

    monkeypatch.setattr(tvd, "CelebA", Unreachable)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("GANCOURSE_OFFLINE", raising=False)
    with pytest.raises(data.DataError) as err:
        data.online.celeba_paths("train", tmp_path)
    message = str(err.value)
    assert "the download failed (ConnectionError: HTTP Error 503: Service Unavailable)" in message
    assert "1.4 GB" in message and f"it is not under {tmp_path}" in message and "\n" not in message


def test_celeba_arrays_centre_crop_resize_and_limit(tmp_path, monkeypatch):
    import torchvision.datasets as tvd
    from PIL import Image

    folder = tmp_path / "celeba" / "img_align_celeba"
    folder.mkdir(parents=True)
    names = [f"{i:06d}.jpg" for i in range(1, 4)]
    for i, name in enumerate(names):
        Image.new("RGB", (178, 218), (40 * i, 100, 200)).save(folder / name, quality=100)

    class OnDisk:
        base_folder = "celeba"

        def __init__(self, root, split, target_type, download):
            assert (split, target_type, download) == ("test", [], False)
            self.root, self.filename = root, names

    monkeypatch.setattr(tvd, "CelebA", OnDisk)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert data.online.celeba_paths("test", tmp_path) == [folder / name for name in names]
    images, labels, source = data.celeba_arrays("test", image_size=16, limit=2, root=tmp_path)
    assert images.shape == (2, 3, 16, 16) and images.dtype == np.uint8
    assert labels.tolist() == [0, 0] and source == str(folder)
    assert np.abs(images[1].astype(int) - np.array([40, 100, 200]).reshape(3, 1, 1)).max() <= 2  # flat colour kept
