"""The model cache (gancourse.train.cache): the key holds the experiment, and a longer run continues a shorter one."""

import dataclasses

import torch

from gancourse import checkpoints, train
from gancourse.config import ToyGANConfig
from gancourse.train.cache import shorter_run

CPU = torch.device("cpu")


def small_toy(**overrides):
    settings = {"steps": 40, "hidden": 16, "batch_size": 32, "log_every": 5, "sample_every": 20, "ema_decay": 0.9}
    return ToyGANConfig(**{**settings, **overrides})


def state(trainer):
    """Every tensor a continued run must reproduce: weights, the average, optimiser moments, the noise stream."""
    tensors = [t.detach().clone() for m in (trainer.generator, trainer.discriminator) for t in m.state_dict().values()]
    tensors += [t.clone() for t in trainer.generator_ema.state_dict().values()]
    for optimizer in (trainer.opt_g, trainer.opt_d):
        tensors += [v.clone() for entry in optimizer.state.values() for v in entry.values() if torch.is_tensor(v)]
    return tensors + [trainer.noise_rng.get_state(), trainer.data_rng.get_state()]


def run(cfg, folder):
    return train.load_or_train("toy", cfg, train.toy_gan, directory=folder, device=CPU, progress=False)


def test_the_key_ignores_how_a_run_is_watched_and_how_long_it_is():
    cfg = small_toy()
    key = checkpoints.config_key(cfg)
    for field, value in [("log_every", 7), ("sample_every", 3), ("checkpoint_every", 11), ("steps", 400)]:
        assert checkpoints.config_key(dataclasses.replace(cfg, **{field: value})) == key, field
    for field, value in [("lr_g", 3e-3), ("seed", 1), ("amp", True), ("channels_last", True), ("ema_decay", 0.5)]:
        assert checkpoints.config_key(dataclasses.replace(cfg, **{field: value})) != key, field
    assert checkpoints.cache_file("toy", cfg, "/c").name == f"toy-{key}-40steps.pt"


def test_logging_more_often_loads_the_finished_run(tmp_path, capsys):
    run(small_toy(), tmp_path)
    capsys.readouterr()
    again = run(small_toy(log_every=2, sample_every=7, checkpoint_every=3), tmp_path)
    assert "loaded the finished run" in capsys.readouterr().out
    assert again.step == 40


def test_training_longer_continues_the_shorter_run_bit_for_bit(tmp_path, capsys):
    short, long = small_toy(steps=20), small_toy(steps=40)
    run(short, tmp_path / "cache")
    capsys.readouterr()
    continued = run(long, tmp_path / "cache")
    out = capsys.readouterr().out
    assert "continuing the 20-step run of the same experiment" in out and "to 40 steps" in out
    assert checkpoints.cache_file("toy", short, tmp_path / "cache").exists()  # the shorter run stays
    straight = run(long, tmp_path / "fresh")  # one uninterrupted run of the longer length
    for a, b in zip(state(straight), state(continued), strict=True):
        assert torch.equal(a, b)
    # logged on the same grid (step 20 is on it), so the histories agree too
    assert straight.history == continued.history
    again = run(long, tmp_path / "cache")
    assert "loaded the finished run" in capsys.readouterr().out and again.step == 40


def test_shorter_run_takes_the_longest_below_and_nothing_else(tmp_path):
    cfg = small_toy(steps=100)
    for steps in (10, 50, 100, 200):
        checkpoints.cache_file("toy", dataclasses.replace(cfg, steps=steps), tmp_path).touch()
    checkpoints.cache_file("toy", dataclasses.replace(cfg, seed=9, steps=60), tmp_path).touch()  # another experiment
    checkpoints.cache_file("other", dataclasses.replace(cfg, steps=70), tmp_path).touch()  # another name
    assert shorter_run("toy", cfg, tmp_path) == checkpoints.cache_file(
        "toy", dataclasses.replace(cfg, steps=50), tmp_path
    )
    assert shorter_run("toy", dataclasses.replace(cfg, steps=10), tmp_path) is None
