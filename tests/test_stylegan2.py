"""StyleGAN2 (Karras et al. 2019, 2020): demodulation's unit variance, truncation, mixing, equalized lr, resume."""

import math

import pytest
import torch
import torch.nn.functional as F

from gancourse import config, losses, models, train
from gancourse.config import StyleGAN2Config
from gancourse.models.stylegan2 import MappingLinear, MappingNetwork, StyleGAN2Discriminator

CPU = torch.device("cpu")


def tiny_generator(**changes):
    torch.manual_seed(0)
    kwargs = dict(latent_dim=8, w_dim=8, resolution=16, channels=3, fmap_base=32, fmap_max=8, mapping_layers=2)
    return models.StyleGAN2Generator(**{**kwargs, **changes})


def test_demodulation_gives_unit_output_std_for_unit_input_and_weights():
    torch.manual_seed(0)
    conv = models.ModulatedConv2d(64, 32, 3, w_dim=16)
    with torch.no_grad():
        conv.affine.weight.normal_()  # styles far from 1 (about 3 +- 1): demodulation must undo their scale
        conv.affine.bias.fill_(3.0)
    x, w = torch.randn(4, 64, 24, 24), torch.randn(4, 16)
    y = conv(x, w)[..., 1:-1, 1:-1]  # (4, 32, 22, 22): the interior, away from the zero padding
    assert y.std(dim=(0, 2, 3)).mean().item() == pytest.approx(1.0, abs=0.05)
    # each output channel's per-sample weights have unit L2 norm (Eq. 3) ...
    norms = conv.modulated_weight(w).pow(2).sum(dim=(2, 3, 4))  # (4, 32)
    torch.testing.assert_close(norms, torch.ones(4, 32), atol=1e-4, rtol=0)
    # ... and without demodulation the output scale follows the style (Eq. 2's sigma_j)
    plain = models.ModulatedConv2d(64, 32, 3, w_dim=16, demodulate=False)
    plain.load_state_dict(conv.state_dict())
    assert plain(x, w)[..., 1:-1, 1:-1].std().item() > 2


def test_the_grouped_convolution_is_one_convolution_per_sample():
    torch.manual_seed(1)
    conv = models.ModulatedConv2d(5, 3, 3, w_dim=4)
    x, w = torch.randn(3, 5, 6, 6), torch.randn(3, 4)
    weight = conv.modulated_weight(w)  # (3, 3, 5, 3, 3)
    expected = torch.cat([F.conv2d(x[i : i + 1], weight[i], padding=1) for i in range(3)])
    torch.testing.assert_close(conv(x, w), expected)
    s = conv.affine(w)  # Eq. 1 by hand, then Eq. 3
    by_hand = conv.weight[None] / math.sqrt(5 * 9) * s[:, None, :, None, None]
    by_hand = by_hand / by_hand.pow(2).sum(dim=(2, 3, 4), keepdim=True).add(1e-8).sqrt()
    torch.testing.assert_close(weight, by_hand)


def test_mapping_layers_have_equalized_lr_with_a_multiplier():
    torch.manual_seed(0)
    layer = MappingLinear(64, 8, lr_multiplier=0.01)
    assert layer.runtime_scale == pytest.approx(0.01 * math.sqrt(2 / 64))
    assert layer.weight.std().item() == pytest.approx(100, rel=0.1)  # stored N(0, 1 / 0.01^2)
    x = torch.randn(5, 64)
    torch.testing.assert_close(layer(x), F.linear(x, layer.weight * 0.01 * math.sqrt(2 / 64), layer.bias * 0.01))
    # the same function as ProGAN's equalized layer at initialisation, but the gradient with respect to the
    # stored weight is lr_multiplier times smaller (ProGAN's relation, Sec. 4.1, once more)
    plain = models.EqualizedLinear(64, 8)
    with torch.no_grad():
        plain.weight.copy_(layer.weight * 0.01)
    torch.testing.assert_close(plain(x), layer(x))
    layer(x).sum().backward()
    plain(x).sum().backward()
    torch.testing.assert_close(layer.weight.grad, plain.weight.grad * 0.01)
    conv = models.ModulatedConv2d(8, 4, 3, w_dim=2)
    assert conv.runtime_scale == pytest.approx(1 / math.sqrt(8 * 9)) and conv.weight.std().item() > 0.8


def test_psi_zero_maps_every_z_to_the_image_of_the_mean_w():
    G = tiny_generator()
    G.train()
    G(torch.randn(64, 8))  # one training forward: w_avg moves off zero
    G.eval()
    w_avg = G.mapping.w_avg.clone()
    assert w_avg.abs().sum() > 0
    with torch.no_grad():
        images = G(torch.randn(6, 8) * 3, psi=0.0)  # (6, 3, 16, 16)
        mean_image = G.synthesis(w_avg[None, None].expand(1, G.n_ws, -1), "const")  # (1, 3, 16, 16)
    torch.testing.assert_close(images, mean_image.expand(6, -1, -1, -1))
    assert torch.equal(G.mapping.w_avg, w_avg)  # eval mode does not update the average


def test_the_average_w_is_a_moving_average_of_the_batch_means():
    torch.manual_seed(0)
    mapping = MappingNetwork(8, 8, layers=2, w_avg_beta=0.9)
    z = torch.randn(16, 8)
    w = mapping(z)
    torch.testing.assert_close(mapping.w_avg, 0.1 * w.mean(0).detach())
    assert "w_avg" in mapping.state_dict()


def test_mixing_switches_latents_at_the_given_layer():
    G = tiny_generator().eval()
    z1, z2 = torch.randn(2, 8), torch.randn(2, 8)
    layer = 3
    ws = G.mixed_styles(z1, z2, layer)  # (2, n_ws, w_dim)
    w1, w2 = G.mapping(z1), G.mapping(z2)
    for i in range(G.n_ws):
        torch.testing.assert_close(ws[:, i], w1 if i < layer else w2)
    # perturbing z2 changes only the styles from the crossover on, z1 only those before it
    moved = G.mixed_styles(z1, z2 + 1, layer)
    assert torch.equal(moved[:, :layer], ws[:, :layer]) and not torch.equal(moved[:, layer:], ws[:, layer:])
    moved = G.mixed_styles(z1 + 1, z2, layer)
    assert not torch.equal(moved[:, :layer], ws[:, :layer]) and torch.equal(moved[:, layer:], ws[:, layer:])
    with torch.no_grad():  # the two ends: all layers from z1, all from z2
        torch.testing.assert_close(G(z1, mix_z=z2, mix_layer=G.n_ws), G(z1))
        torch.testing.assert_close(G(z1, mix_z=z2, mix_layer=0), G(z2))
    with pytest.raises(ValueError, match="mix_layer = 9 is out of range"):
        G.mixed_styles(z1, z2, 9)


def test_training_mode_mixes_with_the_configured_probability():
    never, always = tiny_generator(mixing_prob=0.0).train(), tiny_generator(mixing_prob=1.0).train()
    calls = []
    for G in (never, always):
        original = G.mixed_styles
        G.mixed_styles = lambda *a, _o=original, _g=G, **k: calls.append(_g) or _o(*a, **k)
        G(torch.randn(4, 8))
    assert calls == [always]


@pytest.mark.parametrize("resolution", [4, 8, 16, 32])
def test_shapes_at_every_resolution(resolution):
    G = tiny_generator(resolution=resolution)
    assert G.n_ws == 2 * int(math.log2(resolution)) - 2
    image = G(torch.randn(4, 8))
    assert image.shape == (4, 3, resolution, resolution)
    D = StyleGAN2Discriminator(resolution, 3, fmap_base=32, fmap_max=8)
    assert D(image).shape == (4,)
    with pytest.raises(ValueError, match="given to D"):
        D(torch.zeros(4, 3, 2 * resolution, 2 * resolution))


def test_eval_samples_are_deterministic_and_training_noise_is_fresh():
    G = tiny_generator()
    z = torch.randn(3, 8)
    G.eval()
    assert torch.equal(G(z), G(z))
    G.train()
    G.mixing_prob = 0.0
    assert torch.equal(G(z), G(z))  # the noise strengths start at 0 (official code) ...
    for layer in G.synthesis.layers:
        torch.nn.init.ones_(layer.noise.strength)
    assert not torch.equal(G(z), G(z))  # ... once learnt, every training forward draws fresh noise
    G.eval()
    assert torch.equal(G(z), G(z))
    with pytest.raises(ValueError, match="noise mode"):
        G(z, noise_mode="loud")


def test_config_defaults_and_errors():
    cfg = StyleGAN2Config()
    assert (cfg.lr_g, cfg.beta1, cfg.beta2, cfg.r1_gamma, cfg.r1_every) == (0.002, 0.0, 0.99, 10.0, 16)
    assert (cfg.mapping_layers, cfg.mapping_lr_multiplier, cfg.mixing_prob) == (8, 0.01, 0.9)
    with pytest.raises(ValueError, match="not a power of two"):
        StyleGAN2Config(image_size=24)
    with pytest.raises(ValueError, match="mixing_prob"):
        StyleGAN2Config(mixing_prob=1.5)
    with pytest.raises(ValueError, match="divisible by group_size"):
        StyleGAN2Config(batch_size=6)


def tiny_cfg(**changes):
    base = dict(
        image_size=16, latent_dim=8, w_dim=8, mapping_layers=2, fmap_base=32, fmap_max=8, batch_size=8,
        steps=6, r1_gamma=0.1, r1_every=4, ema_decay=0.9, log_every=2, sample_every=3, checkpoint_every=3,
    )  # fmt: skip
    return StyleGAN2Config(**{**base, **changes})


@pytest.fixture
def images(monkeypatch):
    data = torch.rand(64, 3, 16, 16, generator=torch.Generator().manual_seed(0)) * 2 - 1
    monkeypatch.setattr(train.recipes, "_images", lambda cfg: train.TensorSampler(data))
    return data


def test_the_recipe_is_the_papers_loss_with_lazy_r1(images):
    trainer = train.stylegan2(tiny_cfg(), CPU)
    assert isinstance(trainer.objective, losses.R1Regularised) and trainer.objective.every == 4
    assert isinstance(trainer.objective.base, losses.MinimaxObjective)
    assert isinstance(trainer.generator, models.StyleGAN2Generator)
    assert trainer.opt_g.param_groups[0]["betas"] == (0.0, 0.99)
    assert type(trainer) is train.StyleGAN2Trainer
    with torch.no_grad():
        trainer.generator.synthesis.to_rgb[-1].bias.fill_(5.0)  # a linear output far outside [-1, 1]
    samples = trainer.generate(4, averaged=False)
    assert samples.shape == (4, 3, 16, 16) and samples.max() == 1.0  # clipped, as ProGAN's


def test_resume_is_exact_for_the_average_w_and_the_lazy_r1_count(tmp_path, images):
    cfg = tiny_cfg()
    straight = train.stylegan2(cfg, CPU)
    straight.train(progress=False)
    interrupted = train.stylegan2(cfg, CPU, checkpoint_path=tmp_path / "s.pt")
    interrupted.train(steps=3, progress=False)
    torch.manual_seed(123)  # mixing and the noise inputs draw from the global RNG: the checkpoint restores it
    resumed = train.stylegan2(cfg, CPU, checkpoint_path=tmp_path / "s.pt")
    assert resumed.load() == 3
    assert resumed.objective.steps == 3  # the lazy-R1 counter: the next penalty at D step 4, as straight
    assert torch.equal(resumed.generator.mapping.w_avg, interrupted.generator.mapping.w_avg)
    resumed.train(progress=False)
    for a, b in zip(straight.generator.state_dict().values(), resumed.generator.state_dict().values(), strict=True):
        assert torch.equal(a, b)  # w_avg and the constant noise maps included
    for a, b in zip(straight.discriminator.parameters(), resumed.discriminator.parameters(), strict=True):
        assert torch.equal(a, b)
    for a, b in zip(
        straight.generator_ema.state_dict().values(), resumed.generator_ema.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b)
    assert straight.history == resumed.history
    assert straight.objective.steps == resumed.objective.steps == 6


@pytest.mark.slow
def test_a_short_run_moves_samples_towards_the_data(monkeypatch):
    """On images with one bright square on black, 150 steps bring the per-pixel statistics closer to the data's."""
    g = torch.Generator().manual_seed(0)
    data = -torch.ones(512, 3, 16, 16)
    for i, (r, c) in enumerate(torch.randint(0, 10, (512, 2), generator=g).tolist()):
        data[i, :, r : r + 6, c : c + 6] = 1
    monkeypatch.setattr(train.recipes, "_images", lambda cfg: train.TensorSampler(data))
    cfg = tiny_cfg(steps=150, fmap_base=64, fmap_max=16, latent_dim=16, w_dim=16, log_every=10, checkpoint_every=0)
    trainer = train.stylegan2(cfg, CPU)

    def error():  # per-pixel mean and standard deviation: generated against real
        fake = trainer.generate(256).clamp(-1, 1)
        return ((fake.mean(0) - data.mean(0)).abs().mean() + (fake.std(0) - data.std(0)).abs().mean()).item()

    before = error()
    trainer.train(progress=False)
    after = error()
    assert after < 0.6 * before, (before, after)


def test_quick_mode_trains_on_emoji_at_32_px():
    cfg = StyleGAN2Config.for_mode("quick")
    assert (cfg.dataset, cfg.image_size) == ("emoji", 32)
    assert config.StyleGAN2Config.for_mode("paper") == StyleGAN2Config()
    full = config.StyleGAN2Config.for_mode("full")
    assert (full.fmap_max, full.image_size, full.mapping_layers) == (128, 32, StyleGAN2Config().mapping_layers)
