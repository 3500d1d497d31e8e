"""gancourse.train.generation: sampling from a trainer never changes its training run."""

import pytest
import torch

from gancourse import train
from gancourse.config import DCGANConfig, ToyGANConfig

CPU = torch.device("cpu")


def toy():
    trainer = train.toy_gan(ToyGANConfig(steps=2, hidden=8, batch_size=16), CPU)
    trainer.train(progress=False)
    return trainer


def test_generate_by_count_leaves_the_training_streams_alone():
    trainer = toy()
    torch.manual_seed(3)
    before = [trainer.noise_rng.get_state(), trainer.data_rng.get_state(), torch.get_rng_state()]
    inference = trainer.inference_rng.get_state()
    first = trainer.generate(16)
    after = [trainer.noise_rng.get_state(), trainer.data_rng.get_state(), torch.get_rng_state()]
    assert all(torch.equal(a, b) for a, b in zip(before, after, strict=True))
    assert not torch.equal(trainer.inference_rng.get_state(), inference)  # the noise came from somewhere
    assert first.shape == (16, 2) and not torch.equal(first, trainer.generate(16))  # fresh noise each call


def test_generator_is_back_in_training_mode_also_after_an_error():
    trainer = toy()
    assert trainer.generator.training
    seen = []
    handle = trainer.generator.register_forward_hook(lambda module, args, out: seen.append(module.training))
    trainer.generate(4)
    assert seen == [False] and trainer.generator.training  # eval inside, training again after

    def fail(module, args, out):
        raise RuntimeError("inside G")

    handle.remove()
    trainer.generator.register_forward_hook(fail)
    with pytest.raises(RuntimeError, match="inside G"):
        trainer.generate(4)
    assert trainer.generator.training


def test_a_condition_of_the_wrong_length_is_refused():
    trainer = toy()
    with pytest.raises(ValueError, match=r"condition has 3 entries for 4 noise vectors"):
        trainer.generate(trainer.fixed_z[:4], condition=torch.zeros(3, dtype=torch.long))


def test_average_with_batch_norm_samples_deterministically(monkeypatch):
    images = torch.rand(32, 1, 16, 16) * 2 - 1
    monkeypatch.setattr(train.recipes, "_images", lambda cfg: train.TensorSampler(images))
    cfg = DCGANConfig(steps=2, image_size=16, base_channels=4, batch_size=8, latent_dim=8, ema_decay=0.9)
    trainer = train.dcgan(cfg, CPU)
    trainer.train(progress=False)
    assert trainer.average.batch_norms
    trainer.average.statistics_at = None  # stale, as after a load: the next generate recomputes the statistics
    for norm in trainer.average.batch_norms:
        norm.reset_running_stats()
    z = trainer.fixed_z[:4]
    first = trainer.generate(z)
    assert all(not torch.equal(n.running_mean, torch.zeros_like(n.running_mean)) for n in trainer.average.batch_norms)
    assert trainer.average.statistics_at == trainer.step == 2
    trainer.average.statistics_at = None  # force a second recomputation: it must give the same statistics
    second = trainer.generate(z)
    assert trainer.average.statistics_at == trainer.step
    assert torch.equal(first, second)
    assert not torch.equal(first, trainer.generate(z, averaged=False))  # the average samples, not G
