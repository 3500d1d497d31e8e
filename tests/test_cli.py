"""The command line (gancourse.cli): every recipe trains from it, bad values fail with the config's message."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gancourse import cli, metrics, train
from gancourse.checkpoints import load_checkpoint
from gancourse.config import DCGANConfig, ProGANConfig
from gancourse.metrics.features import FeatureExtractor
from gancourse.train import RECIPES

ROOT = Path(__file__).resolve().parent.parent
RUN = ["--mode", "quick", "--no-progress", "--no-eval", "--device", "cpu"]
SMALL_IMAGES = ["data_limit=64", "batch_size=8", "sample_every=1", "steps=2"]
#: a few steps of each recipe, on tiny networks
TINY = {
    "toy_gan": ["steps=2", "batch_size=16", "hidden=16", "sample_every=1"],
    "mlp_gan": [*SMALL_IMAGES, "hidden=32"],
    "dcgan": [*SMALL_IMAGES, "base_channels=8"],
    "wgan": [*SMALL_IMAGES, "base_channels=8", "n_critic=1"],
    "wgan_gp": [*SMALL_IMAGES, "base_channels=8", "n_critic=1"],
    "resnet_gan": [*SMALL_IMAGES, "base_channels=8", "n_critic=1"],
    "conditional_gan": [*SMALL_IMAGES, "base_channels=8"],
    "pix2pix": ["dataset=mnist", "data_limit=64", "batch_size=2", "sample_every=1", "steps=2", "base_channels=8",
                "image_size=16"],  # MNIST: the package ships a sample of it for machines without data
    "progan": ["data_limit=64", "latent_dim=16", "fmap_base=32", "fmap_max=16", "fade_images=16", "stable_images=16",
               "batch_sizes=8,8,8,8", "sample_every=1"],
    "stylegan2": [*SMALL_IMAGES, "latent_dim=8", "w_dim=8", "mapping_layers=2", "fmap_base=32", "fmap_max=8",
                  "image_size=16"],
}  # fmt: skip


def _sets(items: list[str]) -> list[str]:
    return [arg for item in items for arg in ("--set", item)]


def test_recipe_names_are_the_registry():
    assert cli.RECIPE_NAMES == tuple(RECIPES)
    assert set(TINY) == set(RECIPES)


def test_help_does_not_import_torch():
    code = "import sys, gancourse.cli as c; c.build_parser(); print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip() == "False"


def test_recipe_help_lists_every_config_field_with_range_and_defaults(capsys):
    with pytest.raises(SystemExit):
        cli.main(["train", "progan", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for field in ProGANConfig.spec():
        if field["name"] != "steps":  # derived from the schedule: not an option
            assert f"--{field['name']}" in text
    assert "--steps" not in text
    assert "1e-06 <= value <= 1.0" in text and "quick mode 0.003" in text  # lr_g's range, and its quick value


#: the paired tasks besides the edges: each must sample its own test inputs
PAIRED = {
    "pix2pix_emoji": [*TINY["pix2pix"][1:], "dataset=emoji"],
    "pix2pix_folder": [*TINY["pix2pix"][1:], "dataset=paired_folder"],
}


def _paired_folder(root: Path) -> Path:
    """A|B files (16 x 32: input left, target right) in train/ and test/, like the facades."""
    g = torch.Generator().manual_seed(0)
    for split in ("train", "test"):
        (root / split).mkdir(parents=True)
        for i in range(6):
            pair = torch.rand(3, 1, 1, generator=g).expand(3, 16, 32).clone()
            pair[:, :, 16:] = 1 - pair[:, :, 16:]  # the target: the input's negative
            Image.fromarray((pair.permute(1, 2, 0).numpy() * 255).astype("uint8")).save(root / split / f"{i}.png")
    return root


def _grid_cell(grid: Path, row: int, col: int, size: int) -> torch.Tensor:
    """The image at (row, col) of a torchvision grid (2 px padding) as (3, S, S) in [-1, 1]."""
    pixels = torch.from_numpy(np.array(Image.open(grid).convert("RGB"))).permute(2, 0, 1).float()
    top, left = 2 + row * (size + 2), 2 + col * (size + 2)
    return pixels[:, top : top + size, left : left + size] / 127.5 - 1


@pytest.mark.parametrize("name", [*TINY, *PAIRED])
def test_every_recipe_trains_samples_and_scores_from_the_command_line(name, tmp_path, monkeypatch, capsys):
    recipe = "pix2pix" if name in PAIRED else name
    sets = PAIRED.get(name) or TINY[name]
    if name == "pix2pix_folder":
        sets = [*sets, f"image_folder={_paired_folder(tmp_path / 'pairs')}"]
    out = tmp_path / name
    stop = ["--stop-after", "3"] if name == "progan" else []  # 4 x 4, then into the fade-in to 8 x 8
    assert cli.main(["train", recipe, *RUN, *_sets(sets), "--out", str(out), *stop]) == 0
    state = load_checkpoint(out / "checkpoint.pt")
    assert state["step"] == (3 if name == "progan" else 2)
    assert list((out / "samples").glob("step_*.png"))
    assert json.loads((out / "config.json").read_text())["recipe"] == recipe
    grid = tmp_path / "grid.png"  # and draws from its checkpoint
    assert cli.main(["sample", str(out / "checkpoint.pt"), "-n", "4", "--out", str(grid), "--device", "cpu"]) == 0
    assert Image.open(grid).size[0] > 16
    if recipe == "pix2pix":  # rows: the task's own test inputs, the outputs, the targets
        cfg = cli.sampling.load_trainer(str(out / "checkpoint.pt"), None, "cpu")[0].cfg
        inputs, targets = train.RECIPES["pix2pix"].held_out_pairs(cfg, 4)
        for col in range(4):
            for row, expected in ((0, inputs[col]), (2, targets[col])):
                torch.testing.assert_close(
                    _grid_cell(grid, row, col, cfg.image_size), expected.expand(3, -1, -1), atol=2 / 255, rtol=0
                )
    from gancourse.metrics import judge

    monkeypatch.setattr(judge, "load_judge", lambda *args, **kwargs: TinyFeatures())
    real = _folder(tmp_path / "real", torch.rand(24, 3, 32, 32, generator=torch.Generator().manual_seed(0)))
    capsys.readouterr()
    status = cli.main(["fid", str(out / "checkpoint.pt"), str(real), "--device", "cpu"])  # 12 vs 12, floor 12 vs 12
    if name == "toy_gan":
        assert status == 2 and "2-D points" in capsys.readouterr().err
    elif name == "pix2pix_folder":  # its test split has 6 pairs: fewer than fid's 10, refused by name
        assert status == 2 and "holds only 6 pairs" in capsys.readouterr().err
    else:
        assert status == 0 and "FID " in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, cfg",
    [
        (["train", "dcgan", "--set", "lr_g=5"], lambda: DCGANConfig.for_mode("quick", lr_g=5.0)),
        (["train", "dcgan", "--lr_g", "fast"], lambda: DCGANConfig.for_mode("quick", lr_g="fast")),
        (["train", "dcgan", "--set", "dataset=cifar"], lambda: DCGANConfig.for_mode("quick", dataset="cifar")),
        (["train", "dcgan", "--set", "image_size=48"], lambda: DCGANConfig.for_mode("quick", image_size=48)),
        (["train", "dcgan", "--set", "amp=maybe"], lambda: DCGANConfig.for_mode("quick", amp="maybe")),
        (["train", "dcgan", "--set", "colour=red"], lambda: DCGANConfig.for_mode("quick", colour="red")),
        (["train", "progan", "--set", "batch_sizes=32,32,16"],
         lambda: ProGANConfig.for_mode("quick", batch_sizes=(32, 32, 16))),
    ],
)  # fmt: skip
def test_bad_values_fail_with_the_configs_message(argv, cfg, capsys):
    with pytest.raises(ValueError) as python:
        cfg()
    assert cli.main([*argv, "--mode", "quick"]) == 2
    err = capsys.readouterr().err
    assert str(python.value) in err
    assert "Traceback" not in err


def test_parse_value_follows_the_field_types():
    assert cli.parse_value("32,32,16,16", tuple[int, ...]) == (32, 32, 16, 16)
    assert cli.parse_value("", tuple[float, ...]) == ()
    assert cli.parse_value("3000", int | tuple[int, ...]) == 3000
    assert cli.parse_value("3000,2000", int | tuple[int, ...]) == (3000, 2000)
    assert cli.parse_value("false", bool) is False and cli.parse_value("1e-4", float) == 1e-4
    assert cli.parse_value("1e4", int) == 1e4  # a whole float: the config turns it into 10000
    assert cli.parse_value("many", int) == "many"  # left for the config to reject by name


@pytest.fixture
def dcgan_args():
    return [*RUN, *_sets([*SMALL_IMAGES[:-1], "base_channels=8", "steps=4"])]


def test_resume_from_the_command_line_is_exact(tmp_path, dcgan_args, capsys):
    assert cli.main(["train", "dcgan", *dcgan_args, "--out", str(tmp_path / "whole")]) == 0
    assert cli.main(["train", "dcgan", *dcgan_args, "--out", str(tmp_path / "parts"), "--stop-after", "2"]) == 0
    assert "continue with --resume" in capsys.readouterr().out
    assert cli.main(["train", "dcgan", *dcgan_args, "--out", str(tmp_path / "parts")]) == 2  # exists: needs --resume
    assert "pass --resume" in capsys.readouterr().err
    assert cli.main(["train", "dcgan", *dcgan_args, "--out", str(tmp_path / "parts"), "--resume"]) == 0
    whole, parts = (load_checkpoint(tmp_path / run / "checkpoint.pt") for run in ("whole", "parts"))
    assert parts["step"] == whole["step"] == 4
    assert parts["history"] == whole["history"]
    for net in ("generator", "discriminator"):
        for name, value in whole[net].items():
            assert torch.equal(parts[net][name], value), f"{net}.{name}"
    assert sorted(p.name for p in (tmp_path / "parts" / "samples").iterdir()) == [
        f"step_000000{i}.png" for i in (1, 2, 3, 4)
    ]

    grid = tmp_path / "grid.png"
    assert (
        cli.main(["sample", str(tmp_path / "whole" / "checkpoint.pt"), "-n", "12", "--nrow", "4", "--out", str(grid)])
        == 0
    )
    assert Image.open(grid).size == (4 * 34 + 2, 3 * 34 + 2)  # 32 px images, 2 px padding


def test_sample_a_conditional_gan_by_class(tmp_path, capsys):
    out = tmp_path / "cgan"
    assert (
        cli.main(["train", "conditional_gan", *RUN, *_sets([*SMALL_IMAGES, "base_channels=8"]), "--out", str(out)]) == 0
    )
    grid = tmp_path / "sevens.png"
    assert cli.main(["sample", str(out / "checkpoint.pt"), "-n", "8", "--label", "7", "--out", str(grid)]) == 0
    assert grid.exists()
    assert cli.main(["sample", str(out / "checkpoint.pt"), "--label", "10", "--out", str(grid)]) == 2
    assert "0 <= label <= 9" in capsys.readouterr().err


class TinyFeatures(FeatureExtractor):
    """A fixed random projection: features for tests of the plumbing (its scores mean nothing)."""

    name = "tiny random projection (test only)"
    dim = 8

    def __init__(self) -> None:
        super().__init__()
        self.proj = torch.nn.Linear(32 * 32, 8)
        torch.nn.init.normal_(self.proj.weight, generator=torch.Generator().manual_seed(0))

    def forward(self, images):
        grey = torch.nn.functional.interpolate(images.mean(dim=1, keepdim=True), size=32)
        return self.proj(grey.flatten(1))


def test_training_ends_with_fid_and_kid_next_to_the_real_floor(tmp_path, monkeypatch, capsys):
    from gancourse.pretrained import scores as shipped

    monkeypatch.setattr(shipped, "domain_features", lambda dataset: None)  # as if no classifier shipped
    monkeypatch.setattr(metrics, "load_feature_extractor", lambda *args, **kwargs: TinyFeatures())
    out = tmp_path / "dcgan"
    argv = ["train", "dcgan", "--mode", "quick", "--no-progress", "--device", "cpu", "--out", str(out)]
    argv += ["--eval_n", "40", "--eval_class_histogram", "false"]  # no domain classifier to train
    assert cli.main([*argv, *_sets([*SMALL_IMAGES, "base_channels=8"])]) == 0
    printed = capsys.readouterr().out
    assert "features: tiny random projection" in printed and "real floor" in printed and "dcgan" in printed
    scores = json.loads((out / "scores.json").read_text())
    assert scores["n"] == 40 and scores["dcgan"]["fid"] > scores["floor"]["fid"] >= 0


def test_training_is_judged_by_the_shipped_classifier_as_fid_is(tmp_path, monkeypatch, capsys):
    def trained_here(*args, **kwargs):
        raise AssertionError("train's final scores trained or loaded a classifier of this machine")

    monkeypatch.setattr(metrics, "load_feature_extractor", trained_here)
    argv = ["train", "dcgan", "--mode", "quick", "--no-progress", "--device", "cpu", "--out", str(tmp_path / "r")]
    argv += ["--eval_n", "40", "--eval_class_histogram", "false"]
    assert cli.main([*argv, *_sets([*SMALL_IMAGES, "base_channels=8"])]) == 0
    assert "the copy shipped with gancourse.pretrained" in capsys.readouterr().out


@pytest.mark.slow
def test_training_on_emoji_ends_with_scores_on_at_most_the_test_split(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(metrics, "load_feature_extractor", lambda *args, **kwargs: TinyFeatures())
    out = tmp_path / "dcgan"
    argv = ["train", "dcgan", "--mode", "quick", "--no-progress", "--device", "cpu", "--out", str(out)]
    argv += ["--eval_n", "5000", "--eval_class_histogram", "false"]
    assert cli.main([*argv, *_sets([*SMALL_IMAGES, "base_channels=8", "dataset=emoji"])]) == 0
    printed = capsys.readouterr().out
    test_images = metrics.split_size("emoji", "test")
    assert f"n = 5,000 asked, but the emoji test split holds {test_images:,} images" in printed
    scores = json.loads((out / "scores.json").read_text())
    assert scores["n"] == test_images and scores["dcgan"]["fid"] > scores["floor"]["fid"] >= 0


def test_the_toy_gan_ends_with_mode_coverage_next_to_the_real_floor(tmp_path, capsys):
    out = tmp_path / "toy"
    argv = ["train", "toy_gan", "--mode", "quick", "--no-progress", "--device", "cpu", "--out", str(out)]
    argv += ["--eval_n", "400"]
    assert cli.main([*argv, *_sets(TINY["toy_gan"])]) == 0
    scores = json.loads((out / "scores.json").read_text())
    assert scores["floor"]["modes_captured"] == 8 and scores["toy_gan"]["modes_captured"] <= 8
    assert "real floor" in capsys.readouterr().out


def _folder(path: Path, images: torch.Tensor) -> Path:
    path.mkdir()
    for i, image in enumerate(images):  # (3, S, S) in [0, 1]
        Image.fromarray((image.permute(1, 2, 0).numpy() * 255).astype("uint8")).save(path / f"{i:03d}.png")
    return path


def test_fid_between_two_folders(tmp_path, monkeypatch, capsys):
    from gancourse.metrics import judge

    monkeypatch.setattr(judge, "load_judge", lambda *args, **kwargs: TinyFeatures())
    monkeypatch.setattr(judge, "inception_unavailable", lambda: None)  # InceptionV3 would judge these photos
    g = torch.Generator().manual_seed(0)
    noise = _folder(tmp_path / "noise", torch.rand(48, 3, 32, 32, generator=g))
    flat = _folder(tmp_path / "flat", torch.rand(24, 3, 1, 1, generator=g).expand(-1, -1, 32, 32) * 0.2)
    assert cli.main(["fid", str(noise), str(noise)]) == 0
    same = capsys.readouterr().out
    assert "judge: colour images of no domain gancourse trains on -> InceptionV3" in same
    assert "features: tiny random projection" in same and "48 images" in same and "(24 images a side)" in same

    def numbers(out):
        line = next(line for line in out.splitlines() if line.startswith("FID "))
        return float(line.split()[1]), float(line.split("floor ")[1].split()[0])

    score, floor = numbers(same)
    assert abs(score - floor) < floor  # a sample of the same images scores about the floor
    assert cli.main(["fid", str(noise), str(flat)]) == 0
    score, floor_again = numbers(capsys.readouterr().out)
    assert floor_again == floor and score > 3 * floor
    assert cli.main(["fid", str(noise), str(tmp_path / "missing")]) == 1


def test_fid_with_the_emoji_classifier_keeps_the_colour(tmp_path, monkeypatch, capsys):
    from gancourse.metrics import classifier as classifier_module
    from gancourse.metrics import judge

    cfg = metrics.ClassifierConfig(dataset="emoji", channels=4, feature_dim=8)
    model = classifier_module.new_classifier(cfg).eval()  # takes (B, 3, 32, 32): grey input would be refused
    extractor = metrics.ClassifierFeatures(metrics.TrainedClassifier(model, cfg, 0.5, 1, 0.0, "test"))
    monkeypatch.setattr(judge, "load_judge", lambda *args, **kwargs: extractor)
    g = torch.Generator().manual_seed(0)
    a = _folder(tmp_path / "a", torch.rand(24, 3, 48, 48, generator=g))
    b = _folder(tmp_path / "b", torch.rand(12, 3, 48, 48, generator=g))
    assert cli.main(["fid", str(a), str(b), "--dataset", "emoji"]) == 0
    out = capsys.readouterr().out
    assert "features: domain classifier (emoji (category x designer)" in out
    assert "the emoji classifier shipped with gancourse.pretrained" in out


def test_stylize_writes_the_image(tmp_path, monkeypatch, capsys):
    from gancourse.style import vgg

    def offline():
        raise OSError("no network in the tests")

    monkeypatch.setattr(vgg, "_imagenet_state_dict", offline)
    g = torch.Generator().manual_seed(0)
    content = _folder(tmp_path / "content", torch.rand(1, 3, 40, 40, generator=g)) / "000.png"
    style = _folder(tmp_path / "style", torch.rand(1, 3, 40, 40, generator=g)) / "000.png"
    out = tmp_path / "out.png"
    argv = ["stylize", str(content), str(style), "--mode", "quick", "--device", "cpu", "--out", str(out)]
    assert cli.main([*argv, "--set", "image_size=32", "--steps", "2", "--style_layers", "conv1_1,conv2_1"]) == 0
    assert Image.open(out).size == (32, 32)
    assert "random VGG19" in capsys.readouterr().out
    assert cli.main([*argv, "--style_layers", "conv9_9"]) == 2
    assert "conv9_9" in capsys.readouterr().err


def test_sample_a_chapters_model_by_recipe_name(tmp_path, monkeypatch, capsys):
    from gancourse import checkpoints
    from gancourse.config import ToyGANConfig
    from gancourse.train import toy_gan

    monkeypatch.setattr(checkpoints, "checkpoint_dir", lambda: tmp_path)
    grid = tmp_path / "toy.png"
    assert cli.main(["sample", "toy_gan", "--mode", "quick", "--out", str(grid)]) == 2
    assert "no trained toy_gan for quick mode" in capsys.readouterr().err
    cfg = ToyGANConfig.for_mode("quick")  # the chapter's config: its cache file is named by it
    trainer = toy_gan(cfg, device=torch.device("cpu"), checkpoint_path=checkpoints.cache_file("toy-gan", cfg, tmp_path))
    trainer.train(1, progress=False)  # an unfinished run stands in for chapter 4's
    assert cli.main(["sample", "toy_gan", "--mode", "quick", "-n", "200", "--out", str(grid)]) == 0
    assert grid.exists() and "step 1 of 2000" in capsys.readouterr().out
