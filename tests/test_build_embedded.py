"""gancourse.data.build_embedded and the readers of its files: the xz-compressed .npz files shipped in the package
(gancourse/assets/), read back exactly."""

from __future__ import annotations

import numpy as np
import pytest

from gancourse import data
from gancourse.data import build_embedded as build
from gancourse.data.emoji import EMBEDDED_EMOJI_FILE, embedded_emoji
from gancourse.data.files import read_npz_xz
from gancourse.data.mnist import embedded_fashion_mnist


def test_npz_xz_round_trip_is_exact_and_read_only(tmp_path):
    path = tmp_path / "a.npz.xz"
    rng = np.random.default_rng(0)
    images, labels = rng.integers(0, 256, (5, 3, 4, 4), dtype=np.uint8), np.arange(5, dtype=np.int16)
    build.write_npz_xz(path, images=images, labels=labels)
    back = read_npz_xz(path)
    assert set(back) == {"images", "labels"}
    assert np.array_equal(back["images"], images) and back["images"].dtype == np.uint8
    assert np.array_equal(back["labels"], labels) and back["labels"].dtype == np.int16
    with pytest.raises(ValueError, match="read-only"):
        back["images"][0, 0, 0, 0] = 1  # a shared cached copy must not be changed by a caller


def test_a_damaged_missing_or_pickled_file_names_itself(tmp_path):
    damaged = tmp_path / "damaged.npz.xz"
    damaged.write_bytes(b"not xz at all")
    pickled = tmp_path / "pickled.npz.xz"
    build.write_npz_xz(pickled, objects=np.array([{"a": 1}], dtype=object))  # np.load would need a pickle
    for path in (damaged, pickled, tmp_path / "missing.npz.xz"):
        with pytest.raises(data.DataError, match=f"{path}, a data file shipped with gancourse.*reinstall gancourse"):
            read_npz_xz(path)


def test_first_per_class_keeps_the_first_items_of_every_class_in_order():
    labels = np.array([2, 0, 2, 1, 0, 2, 1, 0])
    assert build.first_per_class(labels, 2).tolist() == [0, 1, 2, 3, 4, 6]  # class 0: 1, 4; 1: 3, 6; 2: 0, 2
    assert build.first_per_class(labels, 1).tolist() == [0, 1, 3]
    assert build.first_per_class(labels, 10).tolist() == list(range(8))  # fewer than asked: all of them


def test_the_shipped_fashion_file_holds_the_counts_build_writes():
    for split, count in build.FASHION_PER_CLASS.items():
        images, labels = embedded_fashion_mnist(split)
        assert images.shape == (10 * count, 28, 28) and images.dtype == np.uint8
        assert np.bincount(labels, minlength=10).tolist() == [count] * 10
        assert np.array_equal(build.first_per_class(labels, count), np.arange(10 * count))  # already the first
        assert not images.flags.writeable and not labels.flags.writeable


def test_the_embedded_emoji_are_channels_first_at_the_built_size():
    emoji = embedded_emoji()
    n = len(emoji.labels)
    for images in (emoji.twemoji, emoji.noto):
        assert images.shape == (n, 3, build.EMOJI_SIZE, build.EMOJI_SIZE) and images.dtype == np.uint8
        assert images.flags.c_contiguous and not images.flags.writeable
    assert set(np.unique(emoji.labels)) <= set(range(len(data.EMOJI_CATEGORIES)))
    assert len(emoji.names) == len(emoji.base) == n
    assert emoji.source == f"embedded {EMBEDDED_EMOJI_FILE.name}"
