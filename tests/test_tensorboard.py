"""gancourse.train.tensorboard: the after-step logger, read back from its event file; metrics.fid_probe."""

from __future__ import annotations

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from gancourse import cli, metrics
from gancourse.config import DCGANConfig
from gancourse.train import RECIPES
from gancourse.train.tensorboard import TensorBoardLogger, tag

TINY = dict(data_limit=64, batch_size=8, base_channels=8, steps=4, log_every=2, sample_every=2)


def read_events(folder) -> EventAccumulator:
    events = EventAccumulator(str(folder), size_guidance={"scalars": 0, "images": 0, "tensors": 0})
    events.Reload()
    return events


def scalars(events: EventAccumulator, name: str) -> list[tuple[int, float]]:
    return [(e.step, e.value) for e in events.Scalars(name)]


def test_tags_group_losses_and_the_discriminators_outputs():
    assert tag("loss_d") == "loss/loss_d" and tag("loss_g") == "loss/loss_g"
    assert tag("d_real") == "discriminator/d_real" and tag("d_fake") == "discriminator/d_fake"
    assert tag("lr_g") == "train/lr_g"


def test_the_event_file_holds_what_the_trainer_logged(tmp_path):
    cfg = DCGANConfig.for_mode("quick", **TINY)
    plain = RECIPES["dcgan"].build(cfg, device=torch.device("cpu"))
    plain.train(progress=False)
    trainer = RECIPES["dcgan"].build(cfg, device=torch.device("cpu"))
    logger = TensorBoardLogger(tmp_path / "tb", fid=lambda t: 100.0 / t.step, fid_every=2, features="a test's 1/step")
    history = trainer.train(progress=False, tensorboard=logger)
    assert history == plain.history  # the logger only reads: the run is the same without it
    events = read_events(tmp_path / "tb")
    assert history["step"] == [2.0, 4.0]
    for name in ("loss_d", "loss_g", "d_real", "d_fake"):
        got = scalars(events, tag(name))
        assert [s for s, _ in got] == [2, 4]
        assert [v for _, v in got] == pytest.approx(history[name], rel=1e-6)  # float32 in the file
    assert 0 < history["d_real"][0] < 1  # the minimax D's mean output is a probability
    assert scalars(events, "fid/a_test_s_1_step") == [(2, 50.0), (4, 25.0)]
    grids = events.Images("samples")
    assert [g.step for g in grids] == [2, 4]
    side = 64 // 8  # 64 fixed samples in an 8 x 8 grid of 32 px images, 2 px padding
    assert (grids[0].height, grids[0].width) == (side * 34 + 2, side * 34 + 2)


def test_a_folder_logs_losses_and_grids_without_fid(tmp_path):
    trainer = RECIPES["dcgan"].build(DCGANConfig.for_mode("quick", **{**TINY, "steps": 2}), device=torch.device("cpu"))
    trainer.train(progress=False, tensorboard=tmp_path / "tb")
    events = read_events(tmp_path / "tb")
    assert set(events.Tags()["scalars"]) >= {"loss/loss_d", "loss/loss_g", "discriminator/d_real"}
    assert not any(t.startswith("fid/") for t in events.Tags()["scalars"])
    assert [g.step for g in events.Images("samples")] == [2]


def test_logger_arguments_are_checked(tmp_path):
    with pytest.raises(ValueError, match="fid_every"):
        TensorBoardLogger(tmp_path, fid=lambda t: 0.0)
    with pytest.raises(ValueError, match="fid_every is set but fid is None"):
        TensorBoardLogger(tmp_path, fid_every=10)


def test_fid_probe_scores_samples_against_fixed_real_features():
    extractor = lambda images: images.flatten(1)[:, :6]  # noqa: E731  (B, 6): a 6-d feature space
    real = torch.rand(200, 1, 8, 8, generator=torch.Generator().manual_seed(0)) * 2 - 1
    same = metrics.fid_probe(real, extractor, sample=lambda trainer, n: real[:n])
    assert same(None) == pytest.approx(0.0, abs=1e-6)
    shifted = metrics.fid_probe(real, extractor, sample=lambda trainer, n: (real[:n] - 0.5).clamp(-1, 1))
    assert shifted(None) > 0.1
    seen = []

    def recording(images):
        seen.append(tuple(images.shape[-2:]))
        return extractor(images)

    large = metrics.fid_probe(real, recording, sample=lambda trainer, n: torch.zeros(n, 1, 16, 16))
    assert large(None) > 0.1
    assert seen == [(8, 8), (8, 8)]  # 16 px samples are resized to the real images' 8 px


@pytest.mark.slow
def test_the_command_lines_tensorboard_option_logs_an_fid(tmp_path, monkeypatch, capsys):
    from test_cli import SMALL_IMAGES, TinyFeatures, _sets

    monkeypatch.setattr(metrics, "load_feature_extractor", lambda *args, **kwargs: TinyFeatures())
    argv = ["train", "dcgan", "--mode", "quick", "--no-progress", "--device", "cpu", "--out", str(tmp_path / "run")]
    argv += ["--eval_n", "40", "--eval_class_histogram", "false", "--tensorboard", str(tmp_path / "tb")]
    assert cli.main([*argv, *_sets([*SMALL_IMAGES, "base_channels=8"])]) == 0
    assert "FID of 40 in tiny random projection" in capsys.readouterr().out
    events = read_events(tmp_path / "tb")
    fid = scalars(events, "fid/tiny_random_projection_test_only")
    assert [s for s, _ in fid] == [1, 2] and all(v > 0 for _, v in fid)
    assert [g.step for g in events.Images("samples")] == [1, 2]
