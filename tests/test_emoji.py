"""gancourse.data.emoji: the emoji sheets cut into images, splits, the embedded copy, the verified download."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gancourse import data
from gancourse.config import DataConfig


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
    from gancourse.data.emoji import embedded_emoji

    shipped, full = embedded_emoji(), data.emoji_set(32, root)
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


@pytest.mark.slow
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


@pytest.mark.slow
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


def test_augmented_emoji_keep_a_white_background(tmp_path, no_downloads):
    cfg = DataConfig(dataset="emoji_noto", augment=True, limit=64)
    ds = data.load_dataset(cfg, "train", tmp_path / "empty")
    torch.manual_seed(0)
    corners = torch.stack([ds[i][0][:, [0, 0, -1, -1], [0, -1, 0, -1]] for i in range(64)])
    assert corners.mean() > 0.95  # uncovered corners are white like the data, not black


def test_composite_on_white_is_the_alpha_blend_rounded():
    rgba = np.array([[[[10, 20, 30, 255], [10, 20, 30, 0], [200, 0, 100, 128], [0, 0, 0, 1]]]], dtype=np.uint8)
    out = data.emoji.composite_on_white(rgba)
    assert out.shape == (1, 1, 4, 3) and out.dtype == np.uint8
    expected = [[10, 20, 30], [255, 255, 255]]  # opaque: the colour; transparent: white
    a = 128 / 255
    expected.append([round(200 * a + 255 * (1 - a)), round(255 * (1 - a)), round(100 * a + 255 * (1 - a))])
    expected.append([254, 254, 254])  # 255 * 254 / 255 = 254 exactly
    assert out[0, 0].tolist() == expected


def test_resize_uint8_keeps_flat_images_flat_and_leaves_the_input_alone():
    images = np.full((3, 3, 64, 64), 77, dtype=np.uint8)
    images[1] = 200
    images.setflags(write=False)  # the cached arrays are read-only
    out = data.emoji.resize_uint8(images, 32)
    assert out.shape == (3, 3, 32, 32) and out.dtype == np.uint8
    assert (out[0] == 77).all() and (out[1] == 200).all()
    halves = np.zeros((1, 1, 4, 4), dtype=np.uint8)
    halves[..., 2:] = 255
    (left, right), _ = data.emoji.resize_uint8(halves, 2)[0, 0].tolist()
    assert 0 <= left < 128 < right <= 255 and left + right == 255  # a symmetric filter: an edge stays centred
    assert images.flags.writeable is False and (images[2] == 77).all()  # the input is left as it was
