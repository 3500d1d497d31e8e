"""gancourse.train.parallel: the one-process default of how a trainer's networks run across processes."""

import pytest
import torch

from gancourse import train
from gancourse.checkpoints import CheckpointError, generator_state, load_checkpoint, rng_state, save_checkpoint
from gancourse.config import ToyGANConfig
from gancourse.train.parallel import OneProcess

CPU = torch.device("cpu")


def toy(**kwargs):
    return train.toy_gan(ToyGANConfig(steps=4, hidden=8, batch_size=16), CPU, **kwargs)


def streams(trainer):
    return [trainer.data_rng.get_state(), trainer.noise_rng.get_state(), torch.get_rng_state()]


def test_one_process_is_main_and_attaches_the_trainers_networks():
    trainer = toy()
    one = OneProcess()
    assert one.rank == 0 and one.world_size == 1 and one.is_main
    assert one.attach(trainer) is one
    assert one.generator is trainer.generator and one.discriminator is trainer.discriminator
    assert one.rng_states(trainer) is None  # the trainer's own streams are checkpointed
    assert trainer.parallel.generator is trainer.generator  # the trainer attached its default itself


def test_an_unfinished_checkpoint_of_two_processes_is_refused():
    trainer = toy()
    two = [{"data_rng": None, "noise_rng": None, "global_rng": None}] * 2
    with pytest.raises(CheckpointError, match=r"written by 2 process\(es\) .* --nproc_per_node=2"):
        OneProcess().restore_rng_states(trainer, {"step": 1, "rank_rng": two})
    before = streams(trainer)
    OneProcess().restore_rng_states(trainer, {"step": 4, "rank_rng": two})  # finished: only sampled from
    assert all(torch.equal(a, b) for a, b in zip(before, streams(trainer), strict=True))


def test_one_rank_state_is_restored():
    trainer = toy()
    saved = {"data_rng": generator_state(trainer.data_rng), "noise_rng": generator_state(trainer.noise_rng)}
    saved["global_rng"] = rng_state()
    before = streams(trainer)
    for generator in (trainer.data_rng, trainer.noise_rng, None):
        torch.randn(3, generator=generator)  # advance every stream
    assert not any(torch.equal(a, b) for a, b in zip(before, streams(trainer), strict=True))
    OneProcess().restore_rng_states(trainer, {"step": 1, "rank_rng": [saved]})
    assert all(torch.equal(a, b) for a, b in zip(before, streams(trainer), strict=True))


def test_trainer_load_refuses_a_two_process_checkpoint_and_keeps_its_state(tmp_path):
    source = toy(checkpoint_path=tmp_path / "run.pt")
    source.train(steps=2, progress=False)
    source.save()
    state = load_checkpoint(tmp_path / "run.pt")
    rank = {"data_rng": state["data_rng"], "noise_rng": state["noise_rng"], "global_rng": state["global_rng"]}
    state["rank_rng"] = [rank, rank]
    save_checkpoint(tmp_path / "two.pt", state)
    target = toy()
    kept = [p.detach().clone() for p in target.generator.parameters()]
    with pytest.raises(CheckpointError, match="nproc_per_node=2"):
        target.load(tmp_path / "two.pt")
    assert target.step == 0
    assert all(torch.equal(a, b) for a, b in zip(kept, target.generator.parameters(), strict=True))
