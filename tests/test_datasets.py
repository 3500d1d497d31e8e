"""gancourse.data.datasets: scaling to [-1, 1], transforms, loaders, preloading, the registry of data sets."""

from __future__ import annotations

import pytest
import torch
from datafiles import fake_mnist

from gancourse import data
from gancourse.config import DataConfig


def test_load_dataset_scales_to_minus_one_one(tmp_path):
    fake_mnist(tmp_path)
    ds = data.load_dataset(DataConfig(image_size=32, limit=8), "train", tmp_path)
    assert len(ds) == 8
    image, label = ds[0]
    assert image.shape == (1, 32, 32) and image.dtype == torch.float32
    assert -1.0 <= image.min() and image.max() <= 1.0
    assert isinstance(label, int) and ds.classes[0] == "0"


def test_transform_maps_extremes_exactly():
    t = data.image_transform(28)
    assert torch.equal(t(torch.zeros(1, 28, 28, dtype=torch.uint8)), -torch.ones(1, 28, 28))
    assert torch.equal(t(torch.full((1, 28, 28), 255, dtype=torch.uint8)), torch.ones(1, 28, 28))


def test_augmentation_changes_train_images_only(tmp_path):
    fake_mnist(tmp_path)
    cfg = DataConfig(augment=True, limit=4)
    train, test = data.load_dataset(cfg, "train", tmp_path), data.load_dataset(cfg, "test", tmp_path)
    torch.manual_seed(0)
    assert not torch.equal(train[0][0], train[0][0])  # a new random affine per access
    assert torch.equal(test[0][0], test[0][0])


def test_loader_batches_and_seeded_order(tmp_path):
    fake_mnist(tmp_path, n=20)
    cfg = DataConfig(batch_size=8)
    ds = data.load_dataset(cfg, "train", tmp_path)
    batches = list(data.make_loader(ds, cfg))
    assert [b[0].shape for b in batches] == [(8, 1, 32, 32)] * 2  # drop_last
    again = list(data.make_loader(ds, cfg))
    assert torch.equal(batches[0][1], again[0][1])


def test_dataset_rejects_bad_tensors():
    with pytest.raises(ValueError, match="uint8 of shape"):
        data.ImageTensorDataset(torch.zeros(2, 28, 28), torch.zeros(2))
    with pytest.raises(ValueError, match="differ in length"):
        data.ImageTensorDataset(torch.zeros(2, 1, 28, 28, dtype=torch.uint8), torch.zeros(3))


def test_preload_matches_the_per_item_transform(tmp_path):
    fake_mnist(tmp_path, n=20)
    cfg = DataConfig(limit=6)
    images, labels = data.preload(cfg, "train", tmp_path)
    ds = data.load_dataset(cfg, "train", tmp_path)
    assert images.shape == (6, 1, 32, 32) and labels.tolist() == ds.labels.tolist()
    assert torch.allclose(images[3], ds[3][0])


def test_dataset_names_and_channels():
    assert data.dataset_channels("mnist") == 1 and data.dataset_channels("cifar10") == 3
    assert data.dataset_classes("cifar10")[1] == "automobile"
    with pytest.raises(ValueError, match="dataset = 'svhn' is not a known data set: allowed 'mnist'"):
        data.dataset_info("svhn")


def test_every_config_dataset_name_is_served():
    from gancourse.config import DATASETS, IMAGE_DATASETS, LABELLED_DATASETS

    assert set(IMAGE_DATASETS) == set(data.DATASETS)
    assert set(DATASETS) == set(data.SPECS)
    assert all(len(data.dataset_classes(name)) >= 2 for name in LABELLED_DATASETS)
