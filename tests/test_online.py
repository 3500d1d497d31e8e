"""gancourse.data.online: CIFAR-10 and CelebA need the network the first time, and say so offline."""

from __future__ import annotations

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
