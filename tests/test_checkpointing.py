"""gancourse.train.checkpointing: a trainer's save and load over its registered state, all or nothing."""

import pytest
import torch

from gancourse import train
from gancourse.checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from gancourse.config import ToyGANConfig
from gancourse.losses import R1Regularised

CPU = torch.device("cpu")


def tiny(**overrides):
    settings = {"steps": 8, "hidden": 8, "batch_size": 16, "log_every": 2, "sample_every": 4}
    return ToyGANConfig(**{**settings, **overrides})


def weights(trainer):
    return [t.detach().clone() for m in (trainer.generator, trainer.discriminator) for t in m.state_dict().values()]


def same_tensors(a, b):
    return len(a) == len(b) and all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


def optimiser_tensors(opt):
    return [v for s in opt.state_dict()["state"].values() for v in s.values() if isinstance(v, torch.Tensor)]


def test_round_trip_restores_everything_and_continues_identically(tmp_path):
    cfg = tiny()
    first = train.toy_gan(cfg, CPU, checkpoint_path=tmp_path / "run.pt")
    first.train(steps=4, progress=False)
    first.save()
    saved_global = torch.get_rng_state()
    second = train.toy_gan(cfg, CPU, checkpoint_path=tmp_path / "run.pt")
    torch.manual_seed(123)  # disturb the global RNG (after the build, which seeds it): the load must restore it
    assert not same_tensors(weights(first), weights(second))  # the check below can fail
    assert not torch.equal(torch.get_rng_state(), saved_global)
    assert second.load() == 4 == second.step
    assert torch.equal(torch.get_rng_state(), saved_global)
    assert same_tensors(weights(first), weights(second))
    for name in ("opt_g", "opt_d"):
        mine, theirs = optimiser_tensors(getattr(first, name)), optimiser_tensors(getattr(second, name))
        assert mine and same_tensors(mine, theirs)
    assert second.history == first.history
    assert [s for s, _ in second.samples] == [s for s, _ in first.samples] == [4]
    assert torch.equal(second.samples[0][1], first.samples[0][1])
    for name in ("data_rng", "noise_rng"):
        assert torch.equal(getattr(first, name).get_state(), getattr(second, name).get_state())
    first.load()
    first.train(steps=7, progress=False)  # up to step 7
    torch.manual_seed(5)
    second.load()
    second.train(steps=7, progress=False)
    assert first.step == second.step == 7
    assert same_tensors(weights(first), weights(second))


def test_load_is_all_or_nothing(tmp_path):
    cfg = tiny()
    source = train.toy_gan(cfg, CPU, checkpoint_path=tmp_path / "run.pt")
    source.train(steps=2, progress=False)
    source.save()
    state = load_checkpoint(tmp_path / "run.pt")
    last = list(state["discriminator"])[-1]
    state["discriminator"][last] = torch.zeros(*state["discriminator"][last].shape, 2)  # one dimension too many
    save_checkpoint(tmp_path / "bad.pt", state)
    target = train.toy_gan(cfg, CPU)
    kept = weights(target)
    with pytest.raises(CheckpointError, match="nothing was loaded"):
        target.load(tmp_path / "bad.pt")
    assert target.step == 0 and same_tensors(weights(target), kept)
    # the generator is restored before the discriminator fails: its trained weights must have been put back
    assert not same_tensors(kept, weights(source))


def test_checkpoint_lacking_opt_d_is_refused_by_name(tmp_path):
    cfg = tiny()
    source = train.toy_gan(cfg, CPU, checkpoint_path=tmp_path / "run.pt")
    source.save()
    state = load_checkpoint(tmp_path / "run.pt")
    del state["opt_d"]
    save_checkpoint(tmp_path / "partial.pt", state)
    with pytest.raises(CheckpointError, match=r"lacks opt_d"):
        train.toy_gan(cfg, CPU).load(tmp_path / "partial.pt")


def test_objective_state_travels_in_the_checkpoint(tmp_path):
    cfg = tiny(r1_gamma=5.0, r1_every=3)
    trainer = train.toy_gan(cfg, CPU, checkpoint_path=tmp_path / "run.pt")
    assert isinstance(trainer.objective, R1Regularised)
    trainer.train(steps=2, progress=False)
    trainer.save()
    state = load_checkpoint(tmp_path / "run.pt")
    assert state["objective"]["r1_steps"] == trainer.objective.steps > 0
    resumed = train.toy_gan(cfg, CPU, checkpoint_path=tmp_path / "run.pt")
    assert resumed.objective.steps == 0
    resumed.load()
    assert resumed.objective.steps == trainer.objective.steps
    assert torch.equal(resumed.objective.last_penalty, trainer.objective.last_penalty)
