"""The command line on the reader's own images: folders the tests write themselves, reference models by name."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from gancourse import cli
from gancourse.data.folders import write_image_folder
from gancourse.metrics import classifier as classifier_module
from gancourse.metrics import judge


def grey_folder(path, n, seed=0):
    rng = np.random.default_rng(seed)
    return write_image_folder(rng.integers(0, 256, size=(n, 1, 28, 28), dtype=np.uint8), path)


def colour_folder(path, n, seed=0):
    rng = np.random.default_rng(seed)
    return write_image_folder(rng.integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8), path)


@pytest.fixture
def no_classifier_training(monkeypatch):
    """The shipped classifiers must serve: training one here fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("a classifier was trained")

    monkeypatch.setattr(classifier_module, "train_classifier", refuse)
    monkeypatch.setattr(judge, "load_or_train_classifier", refuse)


def test_sample_writes_a_folder_that_fid_reads_and_refuses_a_folder_as_out(tmp_path, capsys, no_classifier_training):
    out = tmp_path / "gen_dir"
    assert cli.main(["sample", "dcgan_mnist", "-n", "12", "--seed", "3", "--out-dir", str(out)]) == 0
    files = sorted(out.glob("*.png"))
    assert [f.name for f in files] == [f"seed3_{i:05d}.png" for i in range(12)]
    record = json.loads((out / "seed3.json").read_text())
    assert record["seed"] == 3 and record["source"] == "dcgan_mnist" and len(record["files"]) == 12
    assert "wrote 12 images to" in capsys.readouterr().out
    # the same seed draws the same images
    again = tmp_path / "again"
    assert cli.main(["sample", "dcgan_mnist", "-n", "12", "--seed", "3", "--out-dir", str(again)]) == 0
    assert files[5].read_bytes() == (again / files[5].name).read_bytes()
    capsys.readouterr()
    for bad in (f"{out}/", str(out), str(tmp_path / "grid")):
        assert cli.main(["sample", "dcgan_mnist", "--out", bad]) == 2
        err = capsys.readouterr().err
        assert "--out-dir" in err and "unknown file extension" not in err
    # the folder feeds fid, judged by the shipped MNIST classifier, beside the floor of the real folder
    real = grey_folder(tmp_path / "real", 40)
    assert cli.main(["fid", str(real), str(out), "--dataset", "mnist"]) == 0
    text = capsys.readouterr().out
    assert "the mnist classifier shipped with gancourse.pretrained" in text
    assert "real-vs-real floor" in text and "(12 images a side)" in text and "KID x 10^3" in text


def test_reference_names_wherever_a_checkpoint_is_accepted(tmp_path, capsys, no_classifier_training):
    grid = tmp_path / "grid.png"
    assert cli.main(["sample", "dcgan_mnist", "-n", "4", "--out", str(grid)]) == 0
    assert grid.is_file() and "loaded the reference model dcgan_mnist" in capsys.readouterr().out
    real = grey_folder(tmp_path / "real", 24)
    assert cli.main(["fid", str(real), "dcgan_mnist", "--dataset", "mnist"]) == 0
    assert "(12 images a side)" in capsys.readouterr().out  # the model draws half the real folder
    assert cli.main(["sample", "dcgan_mnst", "--out", str(grid)]) == 2
    err = capsys.readouterr().err
    assert "not a checkpoint file, a recipe name" in err and "dcgan_mnist" in err


def test_fid_refuses_what_it_cannot_judge(tmp_path, monkeypatch, capsys, no_classifier_training):
    colour = colour_folder(tmp_path / "photos", 30)
    other = colour_folder(tmp_path / "more", 30, seed=1)
    assert cli.main(["fid", str(colour), str(other), "--dataset", "mnist"]) == 2
    assert "the images are colour but the mnist classifier judges grey images" in capsys.readouterr().err
    # offline, without InceptionV3's file: no judge for photographs, and the message says which file goes where
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    monkeypatch.setenv("GANCOURSE_OFFLINE", "1")
    assert cli.main(["fid", str(colour), str(other)]) == 2
    err = capsys.readouterr().err
    assert "no sensible judge for colour images" in err and "inception_v3_google-0cc3c7bd.pth" in err
    assert str(tmp_path / "hub" / "checkpoints") in err


def test_fid_of_too_few_images_says_so_before_any_network(tmp_path, capsys, no_classifier_training):
    big, tiny = grey_folder(tmp_path / "big", 40), grey_folder(tmp_path / "tiny", 2)
    assert cli.main(["fid", str(big), str(tiny), "--dataset", "mnist"]) == 2
    err = capsys.readouterr().err
    assert "holds 2 image(s): FID and KID need at least 10" in err and "subset_size" not in err


class _Projection(torch.nn.Module):
    """A fixed random projection standing in for InceptionV3 (its scores test the plumbing only)."""

    name = "random projection (test only)"

    def __init__(self) -> None:
        super().__init__()
        self.proj = torch.nn.Linear(3 * 8 * 8, 6)
        torch.nn.init.normal_(self.proj.weight, generator=torch.Generator().manual_seed(0))

    def forward(self, images):
        return self.proj(torch.nn.functional.interpolate(images, size=8).flatten(1))


def test_folder_training_reports_its_data_and_scores_against_the_held_out_split(tmp_path, monkeypatch, capsys):
    folder = colour_folder(tmp_path / "mine", 110)
    (folder / "broken.png").write_bytes(b"not an image")
    monkeypatch.setattr(judge, "inception_unavailable", lambda: None)
    monkeypatch.setattr(judge, "load_judge", lambda *args, **kwargs: _Projection())
    sets = ["dataset=folder", f"image_folder={folder}", "image_size=32", "batch_size=128", "steps=2",
            "base_channels=8", "sample_every=1"]  # fmt: skip
    argv = ["train", "dcgan", "--mode", "quick", "--no-progress", "--device", "cpu", "--eval_n", "20"]
    out = tmp_path / "run"
    assert cli.main([*argv, "--out", str(out), *[a for s in sets for a in ("--set", s)]]) == 0
    text = capsys.readouterr().out
    assert "111 image files found, 110 usable" in text and "skipped 1: broken.png" in text
    assert "every 10th file, sorted by path, held out): 99 train, 11 held out" in text
    assert "fewer than one batch of 128" in text
    assert "against the 11 held-out images" in text and "real-vs-real floor" in text
    scores = json.loads((out / "scores.json").read_text())["held_out"]
    assert scores["n"] == 11 and scores["fid"] > 0 and scores["floor_fid"] > 0
    # offline without InceptionV3 there is no judge for these photos: the run says so instead of a number
    monkeypatch.setattr(judge, "inception_unavailable", lambda: "offline (test)")
    assert cli.main([*argv, "--out", str(tmp_path / "run2"), *[a for s in sets for a in ("--set", s)]]) == 0
    assert "no FID against the held-out images: no sensible judge for colour images" in capsys.readouterr().out


def test_stylize_keeps_the_photos_shape_and_checks_files_first(tmp_path, monkeypatch, capsys):
    from PIL import Image

    from gancourse.style import vgg

    def offline():
        raise OSError("no network in the tests")

    monkeypatch.setattr(vgg, "_imagenet_state_dict", offline)
    pagoda = tmp_path / "pagoda.png"
    Image.new("RGB", (30, 60), (120, 40, 20)).save(pagoda)  # portrait: a centre square would cut the roof
    style = tmp_path / "style.png"
    Image.new("RGB", (40, 40), (10, 90, 200)).save(style)
    out = tmp_path / "out.png"
    argv = ["stylize", str(pagoda), str(style), "--mode", "quick", "--device", "cpu", "--out", str(out),
            "--set", "image_size=32", "--steps", "1", "--style_layers", "conv1_1"]  # fmt: skip
    assert cli.main(argv) == 0
    assert Image.open(out).size == (16, 32)
    text = capsys.readouterr().out
    assert "vgg19-dcbb9e9d.pth" in text and "put it at" in text and "sha256 begins with dcbb9e9d" in text
    assert cli.main([*argv, "--square"]) == 0 and Image.open(out).size == (32, 32)
    capsys.readouterr()
    assert cli.main(["stylize", str(tmp_path / "missing.jpg"), str(style), "--out", str(out)]) == 1
    captured = capsys.readouterr()
    assert "missing.jpg does not exist" in captured.err and "VGG19" not in captured.out
