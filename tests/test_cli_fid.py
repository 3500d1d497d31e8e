"""``python -m gancourse fid`` (gancourse.cli.fid): what -n counts, KID's scale, inputs checked before any network."""

from __future__ import annotations

import numpy as np
import pytest

from gancourse import cli
from gancourse.data.folders import write_image_folder
from gancourse.metrics import MeanStd, judge
from gancourse.metrics import classifier as classifier_module


def colour_folder(path, n, seed=0):
    rng = np.random.default_rng(seed)
    return write_image_folder(rng.integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8), path)


@pytest.fixture
def projection(monkeypatch):
    """The judge InceptionV3 would be, replaced by test_cli's fixed random projection; no classifier may be trained."""
    from test_cli import TinyFeatures

    def refuse(*args, **kwargs):
        raise AssertionError("a classifier was trained or loaded")

    monkeypatch.setattr(judge, "inception_unavailable", lambda: None)
    monkeypatch.setattr(judge, "load_judge", lambda *args, **kwargs: TinyFeatures())
    monkeypatch.setattr(judge, "load_or_train_classifier", refuse)
    monkeypatch.setattr(classifier_module, "train_classifier", refuse)


def test_n_is_the_images_a_side(tmp_path, projection, capsys):
    real, fake = colour_folder(tmp_path / "real", 30), colour_folder(tmp_path / "fake", 14, seed=1)
    assert cli.main(["fid", str(real), str(fake), "-n", "12"]) == 0
    out = capsys.readouterr().out
    assert "(12 images a side)" in out and f"{real}: 24 images, {fake}: 12 images" in out
    assert cli.main(["fid", str(real), str(fake), "-n", "16"]) == 2  # 2 x 16 real images needed, 30 there
    err = capsys.readouterr().err
    assert f"-n = 16 needs 32 images of {real}" in err and "holds 30" in err and "allowed n <= 15" in err
    assert cli.main(["fid", str(real), str(fake), "-n", "15"]) == 2
    assert f"-n = 15 needs 15 images of {fake}, but it holds 14: allowed n <= 14" in capsys.readouterr().err


def test_kid_is_printed_times_a_thousand_and_says_so(tmp_path, projection, monkeypatch, capsys):
    kids = iter([MeanStd(0.0123, 0.0004), MeanStd(0.0021, 0.0003)])  # the score's MMD^2, then the floor's
    monkeypatch.setattr(judge, "kid_from_features", lambda *args, **kwargs: next(kids))
    real, fake = colour_folder(tmp_path / "real", 24), colour_folder(tmp_path / "fake", 12, seed=1)
    assert cli.main(["fid", str(real), str(fake)]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("KID"))
    assert line.startswith("KID x 10^3 12.3 ± 0.4   floor 2.1 ± 0.3") and "MMD^2 x 1000, as papers print KID" in line


@pytest.mark.parametrize("missing", ["a", "b"])
@pytest.mark.parametrize("features", ["classifier", "auto"])
def test_a_missing_folder_is_reported_before_any_network(tmp_path, projection, monkeypatch, capsys, missing, features):
    def no_network(*args, **kwargs):
        raise AssertionError("a network was loaded before the inputs were checked")

    monkeypatch.setattr(judge, "load_judge", no_network)
    real = colour_folder(tmp_path / "real", 24)
    gone = tmp_path / "gone"
    argv = [str(gone), str(real)] if missing == "a" else [str(real), str(gone)]
    assert cli.main(["fid", *argv, "--dataset", "emoji", "--features", features]) == 1
    err = capsys.readouterr().err
    assert f"{gone} does not exist" in err and "Traceback" not in err


def test_inception_offline_is_one_line_saying_which_file_to_put_where(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GANCOURSE_OFFLINE", "1")
    monkeypatch.setattr(judge, "inception_weights_path", lambda: tmp_path / "hub" / judge.INCEPTION_FILE)
    real, fake = colour_folder(tmp_path / "real", 24), colour_folder(tmp_path / "fake", 12, seed=1)
    assert cli.main(["fid", str(real), str(fake), "--features", "inception"]) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and "InceptionV3's ImageNet weights cannot be loaded" in lines[0]
    assert judge.INCEPTION_URL in lines[0] and str(tmp_path / "hub" / judge.INCEPTION_FILE) in lines[0]
