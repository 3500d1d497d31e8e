import numpy as np
import pytest

from gancourse.data import folders


def write_folder(folder, n, size=12, colour=True):
    rng = np.random.default_rng(0)
    channels = 3 if colour else 1
    images = rng.integers(0, 256, size=(n, channels, size, size), dtype=np.uint8)
    return folders.write_image_folder(images, folder)


def test_counts_skipped_files_and_the_every_tenth_split(tmp_path):
    folder = write_folder(tmp_path / "pics", 25)
    (folder / "broken.png").write_bytes(b"not a png")
    (folder / "empty.jpg").write_bytes(b"")
    report = folders.folder_report(folder)
    assert report.found == 27 and len(report.skipped) == 2
    assert {name for name, _ in report.skipped} == {"broken.png", "empty.jpg"}
    assert all("not a readable image" in why for _, why in report.skipped)
    # 27 sorted paths: rows 9, 19 held out (broken.png sorts first, so one held-out file is an image)
    paths = folders.image_paths(folder)
    held_out = [p.name for i, p in enumerate(paths) if i % 10 == 9]
    assert report.test == sum(name not in ("broken.png", "empty.jpg") for name in held_out)
    assert report.train + report.test == 25
    lines = report.lines(batch_size=64)
    assert lines[0].endswith("27 image files found, 25 usable")
    assert lines[1].startswith("skipped 2: ") and "broken.png" in lines[1]
    assert "every 10th file, sorted by path, held out" in lines[2] and f"{report.train} train" in lines[2]
    assert any("fewer than one batch of 64" in line for line in lines)
    assert not report.warnings(batch_size=16)


def test_train_and_test_subfolders_and_a_folder_too_small_to_hold_out(tmp_path):
    write_folder(tmp_path / "split" / "train", 12)
    write_folder(tmp_path / "split" / "test", 3)
    report = folders.folder_report(tmp_path / "split")
    assert (report.found, report.train, report.test) == (15, 12, 3) and "train/ and test/" in report.layout
    small = folders.folder_report(write_folder(tmp_path / "small", 6))
    assert (small.found, small.train, small.test) == (6, 6, 0)
    assert any("no held-out images" in w for w in small.warnings())
    (tmp_path / "nothing").mkdir()
    with pytest.raises(folders.DataError, match="holds no image files"):
        folders.folder_report(tmp_path / "nothing")
