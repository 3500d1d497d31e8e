from pathlib import Path

import numpy as np
import pytest
import torch

from gancourse import data
from gancourse.config import DataConfig


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


def test_a_strip_image_is_skipped_and_named_not_resized_to_gigabytes(tmp_path, capsys):
    """A 1-px-high strip: its short side resized to image_size would be image_size x (image_size * length) px."""
    from PIL import Image

    write_images(tmp_path / "pics", 3)
    Image.new("RGB", (20_000, 1), (255, 0, 0)).save(tmp_path / "pics" / "strip.png")
    images, _, _ = data.folder_arrays(tmp_path / "pics", split=None, image_size=16)
    out = capsys.readouterr().out
    assert images.shape == (3, 3, 16, 16)
    assert "skipped 1 of 4 files" in out and "strip.png: 20000 x 1 px is narrower than 1:8" in out
    with pytest.raises(data.DataError, match=r"strip\.png: 20000 x 1 px"):
        data.ImageFiles(tmp_path / "pics", image_size=16)[3]
    Image.new("RGB", (80, 10)).save(tmp_path / "pics" / "panorama.png")  # 8:1 is still an image
    assert data.folder_arrays(tmp_path / "pics", split=None, image_size=16)[0].shape == (4, 3, 16, 16)


@pytest.mark.parametrize("names", [("train", None), (None, "test"), ("Train", None), (None, "Val")])
def test_a_folder_with_one_split_folder_refuses_the_other_split(tmp_path, names):
    """Never the other split's images: a train/ without test/ once served its own images as the test split."""
    train, test = names
    if train:
        write_images(tmp_path / "set" / train, 3)
    if test:
        write_images(tmp_path / "set" / test, 2)
    missing, present = ("test", "train") if train else ("train", "test")
    with pytest.raises(data.DataError, match=f"has {train or test}/ but no {missing}"):
        data.image_paths(tmp_path / "set", missing)
    assert len(data.image_paths(tmp_path / "set", present)) == (3 if train else 2)
    with pytest.raises(data.DataError, match="but no"):
        data.paired_folder(tmp_path / "set", missing, image_size=16)


def test_capitalised_split_folders_are_the_splits(tmp_path):
    write_images(tmp_path / "set" / "Train", 3)
    write_images(tmp_path / "set" / "Test", 2)
    train, test = data.image_paths(tmp_path / "set", "train"), data.image_paths(tmp_path / "set", "test")
    assert len(train) == 3 and len(test) == 2 and not set(train) & set(test)
    assert {p.parent.name for p in train} == {"Train"} and {p.parent.name for p in test} == {"Test"}


def test_exif_orientation_turns_a_portrait_photo_upright(tmp_path):
    from PIL import Image

    stored = np.zeros((2, 4, 3), np.uint8)  # landscape as stored: 4 wide, 2 high
    stored[0, 0] = (255, 0, 0)  # the stored top-left pixel is red
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 degrees clockwise to display
    Image.fromarray(stored).save(tmp_path / "portrait.png", exif=exif)
    image = data.load_image(tmp_path / "portrait.png")
    assert image.size == (2, 4)  # upright: 2 wide, 4 high
    assert np.asarray(image)[0, 1].tolist() == [255, 0, 0]  # the stored top-left is now top-right


def test_other_extensions_and_unreadable_folders_are_counted_and_named(tmp_path, capsys, monkeypatch):
    import os

    write_images(tmp_path / "pics", 3)
    (tmp_path / "pics" / "IMG_0001.heic").write_bytes(b"heic")
    (tmp_path / "pics" / "locked").mkdir()
    from PIL import Image

    Image.new("RGB", (8, 8)).save(tmp_path / "pics" / "photo.jfif", format="JPEG")  # JPEG under another name
    scandir = os.scandir

    def refusing(path="."):
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", refusing)
    images, _, _ = data.folder_arrays(tmp_path / "pics", split=None, image_size=8)
    out = capsys.readouterr().out
    assert images.shape == (4, 3, 8, 8)  # the .jfif is read
    assert "passed over 2 files or folders" in out and "IMG_0001.heic: the extension '.heic'" in out
    assert "locked: an unreadable folder (Permission denied)" in out
    for path in (tmp_path / "pics").iterdir():
        if path.suffix == ".png":
            path.unlink()
    (tmp_path / "pics" / "photo.jfif").unlink()
    with pytest.raises(data.DataError, match="holds no image files .*passed over 2 .*IMG_0001.heic"):
        data.folder_arrays(tmp_path / "pics", split=None)


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
# Hardening: each test failed before its fix
# --------------------------------------------------------------------------------------


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
