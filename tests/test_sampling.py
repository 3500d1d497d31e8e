"""gancourse.train.sampling: the one way G draws samples, with its trainer or without it."""

import pytest
import torch
from torch import nn

from gancourse import train
from gancourse.config import DCGANConfig, Pix2PixConfig
from gancourse.models import UNetGenerator
from gancourse.train import sampling

CPU = torch.device("cpu")


def _tiny_dcgan(monkeypatch) -> train.GANTrainer:
    images = torch.rand(32, 1, 16, 16, generator=torch.Generator().manual_seed(0)) * 2 - 1
    monkeypatch.setattr(train.recipes, "_images", lambda cfg: train.TensorSampler(images))
    cfg = DCGANConfig(image_size=16, base_channels=8, batch_size=8, steps=2, checkpoint_every=0, ema_decay=0.9)
    trainer = train.dcgan(cfg, CPU)
    trainer.train(progress=False)
    return trainer


def test_the_trainer_samples_through_the_one_function(monkeypatch):
    trainer = _tiny_dcgan(monkeypatch)
    z = torch.randn(5, trainer.latent_dim, generator=torch.Generator().manual_seed(1))
    modes = trainer.generator.training, trainer.generator_ema.training
    averaged = trainer.generate(z)
    assert (trainer.generator.training, trainer.generator_ema.training) == modes  # eval mode only while sampling
    torch.testing.assert_close(averaged, sampling.generate(trainer.generator_ema, z), rtol=0, atol=0)
    plain = sampling.generate(trainer.generator, z)
    torch.testing.assert_close(trainer.generate(z, averaged=False), plain, rtol=0, atol=0)
    assert not torch.equal(averaged, plain)  # the moving average is a different network
    recipe = train.RECIPES["dcgan"]  # a loaded model samples the same z from its seed, as the trainer would
    seeded = torch.randn(5, trainer.latent_dim, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(recipe.sample(trainer.cfg, trainer.sampler(), 5, seed=3), trainer.generate(seeded))


def test_generate_chunks_checks_conditions_and_clamps():
    generator = nn.Linear(4, 3)  # outputs beyond [-1, 1]: a linear output layer, as ProGAN's
    nn.init.constant_(generator.weight, 10.0)
    z = torch.randn(2500, 4, generator=torch.Generator().manual_seed(0))  # more than one chunk of 1024
    images = sampling.generate(generator, z)
    torch.testing.assert_close(images, generator(z).detach())
    assert images.abs().max() > 1 and sampling.generate(generator, z, clamp=True).abs().max() <= 1
    with pytest.raises(ValueError, match="condition has 3 entries for 2500 noise vectors"):
        sampling.generate(generator, z, torch.arange(3))
    with pytest.raises(ValueError, match="pix2pix's generator needs the input image"):
        sampling.image_inputs(z, None)


def test_eval_mode_restores_the_mode_even_after_an_error():
    generator = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    with pytest.raises(RuntimeError), sampling.eval_mode(generator):
        assert not generator.training
        raise RuntimeError("interrupted")
    assert generator.training


def _unet() -> UNetGenerator:
    torch.manual_seed(0)
    return UNetGenerator(1, 1, 4, 32, "batch", dropout=0.5, test_dropout=True)


def test_paired_mode_draws_dropout_from_its_own_stream_and_keeps_the_running_statistics():
    generator, x = _unet(), torch.rand(4, 1, 32, 32, generator=torch.Generator().manual_seed(1)) * 2 - 1
    stats = {k: v.clone() for k, v in generator.state_dict().items() if "running" in k}
    before = torch.get_rng_state()
    rng = torch.Generator().manual_seed(5)
    a = sampling.generate(
        generator, torch.empty(4, 0), x, inference=sampling.paired_inference(rng), inputs=sampling.image_inputs
    )
    b = sampling.generate(
        generator, torch.empty(4, 0), x, inference=sampling.paired_inference(rng), inputs=sampling.image_inputs
    )
    again = sampling.paired_inference(torch.Generator().manual_seed(5))
    c = sampling.generate(generator, torch.empty(4, 0), x, inference=again, inputs=sampling.image_inputs)
    assert torch.equal(a, c) and not torch.equal(a, b)  # the same stream, the same masks; it advances
    assert torch.equal(torch.get_rng_state(), before)  # the global stream is untouched
    assert all(torch.equal(generator.state_dict()[k], v) for k, v in stats.items())  # batch statistics only
    assert generator.training


def test_pix2pix_trainer_samples_as_a_loaded_model_does(monkeypatch):
    edges = torch.rand(8, 1, 32, 32, generator=torch.Generator().manual_seed(2)) * 2 - 1
    monkeypatch.setattr(train.recipe_parts, "edge_pairs", lambda cfg, split, threshold: (edges, edges.flip(-1), None))
    cfg = Pix2PixConfig(base_channels=4, d_layers=1, batch_size=2, steps=1, checkpoint_every=0, dataset="mnist")
    trainer = train.pix2pix(cfg, CPU)
    stream = torch.Generator().set_state(trainer.inference_rng.get_state())
    expected = sampling.generate(
        trainer.generator,
        torch.empty(8, 0),
        edges,
        inference=sampling.paired_inference(stream),
        inputs=sampling.image_inputs,
    )
    torch.testing.assert_close(trainer.translate(edges), expected, rtol=0, atol=0)
    recipe = train.RECIPES["pix2pix"]
    one = recipe.sample(cfg, trainer.generator, 8, seed=1, inputs=edges)
    assert torch.equal(one, recipe.sample(cfg, trainer.generator, 8, seed=1, inputs=edges))  # the seed decides
    assert not torch.equal(one, recipe.sample(cfg, trainer.generator, 8, seed=2, inputs=edges))
