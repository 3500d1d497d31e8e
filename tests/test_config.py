import dataclasses

import pytest

from gancourse import config
from gancourse.config import DataConfig, DCGANConfig, GaussianPair1D, RegressionConfig


@pytest.mark.parametrize("value, expected", [("quick", "quick"), ("FULL", "full"), (" quick ", "quick")])
def test_run_mode_argument(value, expected):
    assert config.run_mode(value) == expected


def test_run_mode_environment(monkeypatch):
    monkeypatch.setenv("GANCOURSE_MODE", "full")
    assert config.run_mode() == "full"
    assert config.run_mode("quick") == "quick"  # the argument wins


def test_run_mode_default_follows_hardware(monkeypatch):
    monkeypatch.delenv("GANCOURSE_MODE", raising=False)
    from gancourse.device import pick_device

    expected = "full" if pick_device().type in ("cuda", "mps") else "quick"
    assert config.run_mode() == expected


@pytest.mark.parametrize("cuda, mps", [(True, False), (False, True), (False, False)])
def test_run_mode_and_pick_device_see_the_same_hardware(monkeypatch, cuda, mps):
    import torch

    from gancourse.device import pick_device

    monkeypatch.delenv("GANCOURSE_MODE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)
    assert pick_device().type == ("cuda" if cuda else "mps" if mps else "cpu")
    assert config.run_mode() == ("full" if cuda or mps else "quick")


@pytest.mark.parametrize("bad", ["fast", "", 3])
def test_unknown_mode_names_the_parameter(bad):
    with pytest.raises(ValueError, match="mode.*'quick', 'full' or 'paper'"):
        config.run_mode(bad)


def test_unknown_mode_from_environment(monkeypatch):
    monkeypatch.setenv("GANCOURSE_MODE", "turbo")
    with pytest.raises(ValueError, match="GANCOURSE_MODE = 'turbo'"):
        config.run_mode()


@pytest.mark.parametrize(
    "cls, field, value, message",
    [
        (RegressionConfig, "lr", -1e-3, r"RegressionConfig.lr = -0.001 is out of range: allowed 1e-05 <= value <= 1.0"),
        (
            RegressionConfig,
            "batch_size",
            0,
            r"RegressionConfig.batch_size = 0 is out of range: allowed 1 <= value <= 4096",
        ),
        (DataConfig, "batch_size", 0, r"DataConfig.batch_size = 0 is out of range"),
        (DataConfig, "image_size", 4, r"DataConfig.image_size = 4 is out of range: allowed 8 <= value <= 256"),
        (
            DataConfig,
            "dataset",
            "cifar",
            r"DataConfig.dataset = 'cifar' is not allowed: choose one of 'mnist', 'fashion_mnist'",
        ),
        (RegressionConfig, "lr", float("nan"), r"RegressionConfig.lr = nan must be a finite number"),
        (RegressionConfig, "steps", 2.5, r"RegressionConfig.steps = 2.5 must be an integer"),
        (RegressionConfig, "steps", True, r"RegressionConfig.steps = True must be an integer"),
        (DataConfig, "augment", 1, r"DataConfig.augment = 1 must be a bool"),
        (GaussianPair1D, "gen_std", 0.0, r"GaussianPair1D.gen_std = 0.0 is out of range"),
    ],
)
def test_invalid_values_name_field_and_range(cls, field, value, message):
    with pytest.raises(ValueError, match=message):
        cls(**{field: value})
    with pytest.raises(ValueError, match=message):
        cls().replace(**{field: value})


def test_lossless_conversions():
    cfg = RegressionConfig(lr=1, steps=10.0)
    assert isinstance(cfg.lr, float) and cfg.lr == 1.0
    assert isinstance(cfg.steps, int) and cfg.steps == 10


def test_frozen():
    cfg = RegressionConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.lr = 0.5


def test_replace_unknown_field():
    with pytest.raises(ValueError, match="RegressionConfig has no field learning_rate: fields are hidden, lr"):
        RegressionConfig().replace(learning_rate=0.1)


def test_for_mode_applies_quick_values_and_overrides():
    full, quick = RegressionConfig.for_mode("full"), RegressionConfig.for_mode("quick")
    assert full == RegressionConfig()
    assert quick.steps == RegressionConfig.QUICK["steps"] < full.steps
    assert RegressionConfig.for_mode("quick", lr=0.05).lr == 0.05
    assert DataConfig.for_mode("quick").limit == DataConfig.QUICK["limit"]


def test_spec_lists_ranges():
    spec = {s["name"]: s for s in RegressionConfig.spec()}
    assert spec["lr"]["low"] == 1e-5 and spec["lr"]["high"] == 1.0 and spec["lr"]["log"]
    assert spec["hidden"]["type"] is int and spec["hidden"]["default"] == 20
    assert {s["name"] for s in DataConfig.spec()} >= {"dataset", "image_size", "batch_size"}
    choices = dict((s["name"], s) for s in DataConfig.spec())["dataset"]["choices"]
    assert choices[:2] == ("mnist", "fashion_mnist") and {"emoji", "cifar10", "celeba", "folder"} <= set(choices)


def test_quick_overrides_are_valid_fields():
    for cls in (RegressionConfig, DataConfig, GaussianPair1D):
        cls().quick()  # raises if QUICK names an unknown field or an invalid value


def test_sweep():
    cfgs = list(config.sweep(RegressionConfig(), "lr", [1e-3, 1e-2]))
    assert [c.lr for c in cfgs] == [1e-3, 1e-2]
    assert all(c.hidden == 20 for c in cfgs)
    with pytest.raises(ValueError, match="lr"):
        list(config.sweep(RegressionConfig(), "lr", [-1.0]))


def test_dataset_names_and_image_folder():
    from gancourse.config import ConditionalGANConfig, DCGANConfig, Pix2PixConfig, ProGANConfig

    assert DCGANConfig(dataset="emoji", image_size=64).dataset == "emoji"
    for cls in (DataConfig, DCGANConfig, ProGANConfig):
        with pytest.raises(ValueError, match=r"image_folder = '' but dataset = 'folder'"):
            cls(dataset="folder")
        with pytest.raises(ValueError, match=r"image_folder = '/x' is used only with dataset = 'folder'"):
            cls(dataset="mnist", image_folder="/x")
    with pytest.raises(ValueError, match="ConditionalGANConfig.dataset = 'celeba' has no class labels"):
        ConditionalGANConfig(dataset="celeba")
    with pytest.raises(ValueError, match="image_folder = '' but dataset = 'paired_folder'"):
        Pix2PixConfig(dataset="paired_folder")
    assert Pix2PixConfig(dataset="paired_folder", image_folder="/f", direction="BtoA").direction == "BtoA"


def test_numpy_numbers_are_accepted_as_plain_numbers():
    import numpy as np

    cfg = RegressionConfig(steps=np.int64(30), hidden=np.int32(8), lr=np.float32(0.5), beta1=np.float64(0.25))
    assert (cfg.steps, cfg.hidden, cfg.beta1) == (30, 8, 0.25) and cfg.lr == pytest.approx(0.5)
    assert type(cfg.steps) is int and type(cfg.hidden) is int and type(cfg.lr) is float
    assert [c.steps for c in config.sweep(RegressionConfig(), "steps", np.arange(10, 13))] == [10, 11, 12]
    assert config.ProGANConfig(batch_sizes=np.array([16, 16, 16, 16])).batch_sizes == (16, 16, 16, 16)
    with pytest.raises(ValueError, match="RegressionConfig.steps = .* must be an integer"):
        RegressionConfig(steps=np.bool_(True))
    with pytest.raises(ValueError, match="RegressionConfig.steps = .* must be an integer"):
        RegressionConfig(steps=np.float64(2.5))


@pytest.mark.parametrize("value", [10**400, -(10**400)])
def test_huge_integer_for_a_float_field_names_the_field(value):
    with pytest.raises(ValueError, match=r"RegressionConfig.lr = about -?10\^400 is beyond the float range"):
        RegressionConfig(lr=value)


def test_empty_batch_sizes_is_named_clearly():
    message = r"ProGANConfig.batch_sizes = \(\) is empty: give one batch size per resolution 4, 8, 16, 32 \(4 entries\)"
    with pytest.raises(ValueError, match=message):
        config.ProGANConfig(batch_sizes=())
    for name in ("fade_images", "stable_images"):
        with pytest.raises(ValueError, match=f"ProGANConfig.{name} = \\(\\) has 0 entries"):
            config.ProGANConfig(**{name: ()})


def test_paper_mode_is_the_defaults_and_full_mode_applies_full(monkeypatch):
    from gancourse.config import DCGANConfig, ProGANConfig

    monkeypatch.delenv("GANCOURSE_SMOKE", raising=False)
    assert config.run_mode("Paper") == "paper"
    assert DCGANConfig.for_mode("paper") == DCGANConfig()
    full = DCGANConfig.for_mode("full")
    assert full == DCGANConfig().replace(**DCGANConfig.FULL) and full.steps < DCGANConfig().steps
    assert ProGANConfig.for_mode("full").steps < ProGANConfig.for_mode("paper").steps
    assert DCGANConfig.for_mode("quick") == DCGANConfig().quick()  # quick mode unchanged


def test_smoke_caps_full_and_paper_mode_but_not_quick(monkeypatch):
    from gancourse.config import DCGANConfig, EvalConfig, ProGANConfig, ResNetGANConfig

    monkeypatch.setenv("GANCOURSE_SMOKE", "1")
    assert DCGANConfig.for_mode("quick") == DCGANConfig().quick()
    for mode in ("full", "paper"):
        cfg = DCGANConfig.for_mode(mode, steps=10_000)  # caps win over overrides
        assert cfg.steps == 2 and cfg.batch_size == 4 and cfg.base_channels == 8
        assert cfg.data_limit == 256 and cfg.checkpoint_every == 0  # 0 = all images is capped; 0 = off stays
        assert all(p.steps == 1 for p in ProGANConfig.for_mode(mode).phases())  # every stage still runs
        assert EvalConfig.for_mode(mode, n=700).n == 50 and EvalConfig.for_mode(mode).features == "classifier"
        assert ResNetGANConfig.cifar10(mode).steps == 2
    monkeypatch.setenv("GANCOURSE_SMOKE", "0")
    assert DCGANConfig.for_mode("paper").steps == 5000


def test_diff_augment_runs_train_on_a_tenth_of_the_emoji_outside_quick_mode(monkeypatch):
    monkeypatch.delenv("GANCOURSE_SMOKE", raising=False)
    full, paper = DCGANConfig.diff_augment_runs("full", 6830), DCGANConfig.diff_augment_runs("paper", 6830)
    assert (full.dataset, full.data_limit, full.image_size, full.steps) == ("emoji", 683, 32, 2000)
    assert (paper.data_limit, paper.image_size, paper.steps) == (683, 64, DCGANConfig().steps)
    quick = DCGANConfig.diff_augment_runs("quick", 6830)
    assert (quick.dataset, quick.data_limit, quick.steps) == ("emoji", DCGANConfig.QUICK["data_limit"], 100)
