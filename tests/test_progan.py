"""ProGAN (Karras et al. 2018): the tricks' closed forms, the fade-in's limits, the schedule, exact resume."""

import math
import re

import pytest
import torch
import torch.nn.functional as F

from gancourse import config, train
from gancourse.config import ProGANConfig
from gancourse.models.progan import (
    EqualizedConv2d,
    EqualizedLinear,
    MinibatchStdDev,
    PixelNorm,
    ProDiscriminator,
    ProGenerator,
    fade_real_images,
    resize_images,
)

CPU = torch.device("cpu")


def test_equalized_conv_scales_at_run_time_by_he_constant():
    torch.manual_seed(0)
    conv = EqualizedConv2d(8, 4, 3, padding=1)
    he = math.sqrt(2 / (8 * 3 * 3))
    assert conv.runtime_scale == pytest.approx(he)
    assert conv.weight.std().item() == pytest.approx(1.0, abs=0.1)  # stored weights are N(0, 1)
    assert torch.equal(conv.bias, torch.zeros(4))
    x = torch.randn(2, 8, 5, 5)
    torch.testing.assert_close(conv(x), F.conv2d(x, conv.weight * he, padding=1))
    # the ablation stores the scaled weights instead: the same function, a different parametrisation
    plain = EqualizedConv2d(8, 4, 3, padding=1, equalized=False)
    assert plain.runtime_scale == 1.0 and plain.weight.std().item() == pytest.approx(he, rel=0.15)
    with torch.no_grad():
        plain.weight.copy_(conv.weight * he)
    torch.testing.assert_close(plain(x), conv(x))
    # ... whose gradient with respect to the stored weight differs by exactly the constant
    conv(x).sum().backward()
    plain(x).sum().backward()
    torch.testing.assert_close(conv.weight.grad, plain.weight.grad * he)


def test_equalized_linear():
    layer = EqualizedLinear(16, 3, gain=1.0)
    x = torch.randn(4, 16)
    torch.testing.assert_close(layer(x), x @ (layer.weight / 4).T)


def test_pixel_norm_gives_unit_mean_square_per_pixel():
    y = PixelNorm()(torch.randn(3, 7, 4, 4) * 5)
    torch.testing.assert_close(y.pow(2).mean(dim=1), torch.ones(3, 4, 4), atol=1e-5, rtol=0)


def test_minibatch_stddev_shape_and_value():
    x = torch.randn(8, 3, 4, 4)
    y = MinibatchStdDev(group_size=4)(x)
    assert y.shape == (8, 4, 4, 4)
    assert torch.equal(y[:, :3], x)
    # sample i is in group i % 2: groups {0, 2, 4, 6} and {1, 3, 5, 7}
    for first in (0, 1):
        expected = (x[first::2].var(dim=0, unbiased=False) + 1e-8).sqrt().mean()
        torch.testing.assert_close(y[first::2, 3], torch.full((4, 4, 4), expected.item()))
    assert MinibatchStdDev(4)(torch.randn(2, 3, 4, 4)).shape == (2, 4, 4, 4)  # a small batch is one group
    with pytest.raises(ValueError, match="multiple of the minibatch-stddev group size 4"):
        MinibatchStdDev(4)(torch.randn(6, 3, 4, 4))


def small_networks(**kwargs):
    torch.manual_seed(0)
    g = ProGenerator(latent_dim=8, max_resolution=16, fmap_base=64, fmap_max=8, **kwargs)
    d = ProDiscriminator(max_resolution=16, fmap_base=64, fmap_max=8)
    return g, d


def test_generator_fade_in_limits_are_exact():
    g, _ = small_networks()
    z = torch.randn(4, 8)
    with torch.no_grad():
        low = g(z, resolution=8, alpha=1.0)  # (4, 1, 8, 8)
        assert low.shape == (4, 1, 8, 8) and g(z, 4).shape == (4, 1, 4, 4)
        # alpha = 0: the grown G draws exactly the smaller G's image, upsampled
        assert torch.equal(g(z, resolution=16, alpha=0.0), F.interpolate(low, scale_factor=2, mode="nearest"))
        # alpha = 1: the new block alone
        h = g.blocks[1](g.first(g.dense(g.normalize_latent(z)).view(4, -1, 4, 4)))
        new = g.to_rgb[2](g.blocks[2](h))
        assert torch.equal(g(z, resolution=16, alpha=1.0), new)
        half = g(z, resolution=16, alpha=0.5)
        torch.testing.assert_close(half, 0.5 * F.interpolate(low, scale_factor=2, mode="nearest") + 0.5 * new)


def test_discriminator_fade_in_limits_are_exact():
    _, d = small_networks()
    x = torch.randn(4, 1, 16, 16)
    with torch.no_grad():
        assert d(x, 16, 1.0).shape == (4,)
        assert torch.equal(d(x, resolution=16, alpha=0.0), d(F.avg_pool2d(x, 2), resolution=8, alpha=1.0))
        h = d.blocks[1](d.blocks[2](d.from_rgb[2](x)))
        assert torch.equal(d(x, resolution=16, alpha=1.0), d.last(h).flatten())


def test_real_images_are_blended_like_the_generator():
    x = torch.randn(2, 1, 32, 32)
    x8 = resize_images(x, 8)
    torch.testing.assert_close(x8, F.avg_pool2d(x, 4))
    assert torch.equal(fade_real_images(x, 8, 1.0), x8)
    blocky = F.interpolate(F.avg_pool2d(x8, 2), scale_factor=2, mode="nearest")
    assert torch.equal(fade_real_images(x, 8, 0.0), blocky)
    torch.testing.assert_close(fade_real_images(x, 8, 0.25), 0.75 * blocky + 0.25 * x8)


def test_bad_stage_and_input_sizes():
    g, d = small_networks()
    with pytest.raises(ValueError, match="resolution = 32 is not allowed: choose one of 4, 8, 16"):
        g(torch.randn(2, 8), resolution=32)
    with pytest.raises(ValueError, match="alpha = 1.5 is out of range"):
        d.set_stage(8, 1.5)
    with pytest.raises(ValueError, match="resize them to 8 x 8"):
        d(torch.randn(4, 1, 16, 16), resolution=8)
    with pytest.raises(ValueError, match="max_resolution = 24 is not allowed: use a power of two"):
        ProGenerator(max_resolution=24)


@pytest.mark.parametrize("step", [-5, -1, 2.5, "3", True])
def test_a_negative_or_non_integer_stage_step_is_refused(step):
    with pytest.raises(ValueError, match=f"step = {re.escape(repr(step))} is out of range: allowed an integer >= 0"):
        ProGANConfig().stage(step)


def test_config_schedule_and_errors():
    cfg = ProGANConfig(image_size=16, batch_sizes=(8, 4, 4), fade_images=40, stable_images=16)
    assert cfg.resolutions == (4, 8, 16)
    assert [(p.resolution, p.kind, p.steps) for p in cfg.phases()] == [
        (4, "stabilise", 2),
        (8, "fade-in", 10),
        (8, "stabilise", 4),
        (16, "fade-in", 10),
        (16, "stabilise", 4),
    ]
    assert cfg.steps == 30
    assert cfg.stage(0) == (0, 4, 1.0, 8)
    assert cfg.stage(2) == (1, 8, 0.0, 4)  # a fade-in starts at alpha = 0 ...
    assert cfg.stage(7) == (1, 8, 0.5, 4)  # ... rises by batch / fade_images per step
    assert cfg.stage(12) == (2, 8, 1.0, 4)
    assert cfg.stage(99) == (4, 16, 1.0, 4)
    with pytest.raises(ValueError, match="image_size = 48 is not a power of two"):
        ProGANConfig(image_size=48)
    with pytest.raises(ValueError, match="never reaches image_size = 64"):
        ProGANConfig(image_size=64)
    with pytest.raises(ValueError, match="more than the resolutions"):
        ProGANConfig(image_size=16)
    with pytest.raises(ValueError, match="not divisible by group_size"):
        ProGANConfig(batch_sizes=(16, 16, 16, 6))
    with pytest.raises(ValueError, match="steps is derived from the schedule"):
        cfg.replace(steps=5)
    assert ProGANConfig().quick().steps == sum(p.steps for p in ProGANConfig().quick().phases())


def test_per_resolution_image_counts():
    cfg = ProGANConfig(image_size=16, batch_sizes=(8, 4, 4), fade_images=(40, 8), stable_images=(16, 4, 12))
    assert [(p.resolution, p.kind, p.images, p.steps) for p in cfg.phases()] == [
        (4, "stabilise", 16, 2),
        (8, "fade-in", 40, 10),
        (8, "stabilise", 4, 1),
        (16, "fade-in", 8, 2),
        (16, "stabilise", 12, 3),
    ]
    assert cfg.images("fade-in", 16) == 8 and cfg.images("stabilise", 4) == 16
    assert cfg.stage(13) == (3, 16, 0.0, 4) and cfg.stage(14) == (3, 16, 0.5, 4)  # alpha over that phase's 8 images
    assert ProGANConfig(image_size=16, batch_sizes=(8, 4, 4), fade_images=[40, 8]).fade_images == (40, 8)
    with pytest.raises(ValueError, match="one per resolution 8, 16 \\(2 entries\\)"):
        ProGANConfig(image_size=16, batch_sizes=(8, 4, 4), fade_images=(40, 8, 8))
    with pytest.raises(ValueError, match="one per resolution 4, 8, 16 \\(3 entries\\)"):
        ProGANConfig(image_size=16, batch_sizes=(8, 4, 4), stable_images=(16,))
    with pytest.raises(ValueError, match="stable_images = \\(16, 0, 4\\) is out of range"):
        ProGANConfig(image_size=16, batch_sizes=(8, 4, 4), stable_images=(16, 0, 4))
    with pytest.raises(ValueError, match="must be one of: int or tuple"):
        ProGANConfig(fade_images="many")


def tiny_cfg(**changes):
    base = dict(
        image_size=8,
        batch_sizes=(8, 4),
        fade_images=24,
        stable_images=16,
        latent_dim=8,
        fmap_base=32,
        fmap_max=8,
        log_every=1,
        checkpoint_every=0,
        sample_every=1000,
    )
    return ProGANConfig(**{**base, **changes})


@pytest.fixture
def blobs(monkeypatch):
    """Real images: one bright square at a random place, on black (N, 1, 8, 8)."""
    g = torch.Generator().manual_seed(0)
    images = -torch.ones(256, 1, 8, 8)
    for i, (r, c) in enumerate(torch.randint(0, 5, (256, 2), generator=g).tolist()):
        images[i, 0, r : r + 3, c : c + 3] = 1
    monkeypatch.setattr(train.recipes, "_progan_images", lambda cfg: (train.TensorSampler(images), 1))
    return images


def weights(trainer):
    return [*trainer.generator.parameters(), *trainer.discriminator.parameters()]


def test_resume_in_the_middle_of_a_fade_in_is_exact(tmp_path, blobs):
    cfg = tiny_cfg()  # steps: 2 at 4 x 4, 6 fading in 8 x 8, 4 stable
    assert cfg.stage(5)[1:3] == (8, 0.5)
    straight = train.progan(cfg, CPU)
    straight.train(progress=False)
    interrupted = train.progan(cfg, CPU, checkpoint_path=tmp_path / "p.pt")
    interrupted.train(steps=5, progress=False)  # stopped with alpha = 0.5
    resumed = train.progan(cfg, CPU, checkpoint_path=tmp_path / "p.pt")
    assert resumed.load() == 5
    assert (resumed.resolution, resumed.alpha) == (8, cfg.stage(4)[2])
    resumed.train(progress=False)
    for a, b in zip(weights(straight), weights(resumed), strict=True):
        assert torch.equal(a, b)
    assert straight.history == resumed.history
    for a, b in zip(straight.generator_ema.parameters(), resumed.generator_ema.parameters(), strict=True):
        assert torch.equal(a, b)  # ProGAN samples from the moving average of G (App. A.1), which resumes too
    assert list(straight.phase_samples()) == [2, 8, 12]
    assert [tuple(s.shape[-2:]) for s in straight.phase_samples().values()] == [(4, 4), (8, 8), (8, 8)]


def test_adam_state_is_reset_when_a_phase_starts(blobs):
    trainer = train.progan(tiny_cfg(), CPU)
    trainer.train(steps=2, progress=False)
    before = max(s["step"].item() for s in trainer.opt_g.state.values())
    assert before == 2
    trainer.train(steps=3, progress=False)  # the first step of the fade-in
    assert max(s["step"].item() for s in trainer.opt_g.state.values()) == 1
    kept = train.progan(tiny_cfg(reset_optimizer=False), CPU)
    kept.train(steps=3, progress=False)
    assert max(s["step"].item() for s in kept.opt_g.state.values()) == 3


@pytest.mark.slow
def test_short_training_moves_samples_towards_mnist(real_root, monkeypatch):
    monkeypatch.setenv("GANCOURSE_DATA", str(real_root))
    cfg = tiny_cfg(fade_images=400, stable_images=800, batch_sizes=(16, 16), data_limit=2000, fmap_max=16)
    trainer = train.progan(cfg, CPU)
    real = trainer.real.data  # (2000, 1, 8, 8)

    def error():  # per-pixel mean and standard deviation: generated against real
        fake = trainer.generate(512)
        return ((fake.mean(0) - real.mean(0)).abs().mean() + (fake.std(0) - real.std(0)).abs().mean()).item()

    trainer._set_stage(cfg.steps - 1)
    before = error()
    trainer.train(progress=False)
    after = error()
    assert after < 0.75 * before, (before, after)  # measured: 1.24 -> 0.76
    assert trainer.generate(4).shape == (4, 1, 8, 8)
    assert trainer.history["resolution"][-1] == 8 and trainer.history["alpha"][-1] == 1.0


@pytest.mark.parametrize("at", [2, 8])  # 2: the first step of the fade-in (Adam is reset); 8: the end of a phase
def test_an_interruption_at_a_phase_boundary_continues_exactly(blobs, at):
    cfg = tiny_cfg()
    straight = train.progan(cfg, CPU)
    straight.train(progress=False)
    trainer = train.progan(cfg, CPU)
    loss_g, calls = trainer.objective.loss_g, {"n": 0}

    def interrupted(*args):
        calls["n"] += 1
        if calls["n"] == at + 1:  # inside the G update of step index `at`, after D's update
            raise KeyboardInterrupt
        return loss_g(*args)

    trainer.objective.loss_g = interrupted
    with pytest.raises(KeyboardInterrupt):
        trainer.train(progress=False)
    assert trainer.step == at and (trainer.resolution, trainer.alpha) == cfg.stage(max(at - 1, 0))[1:3]
    trainer.train(progress=False)
    for a, b in zip(weights(straight), weights(trainer), strict=True):
        assert torch.equal(a, b)
    assert straight.history == trainer.history
    assert list(trainer.phase_samples()) == [2, 8, 12]


def test_the_schedule_is_computed_once_and_stage_follows_it_at_every_step():
    cfg = ProGANConfig().quick()
    assert cfg.phases() is cfg.phases()  # cached, not rebuilt on every training step
    assert cfg == ProGANConfig().quick() and "_schedule" not in repr(cfg)  # the cache is not a field
    other = cfg.replace(stable_images=(80, 60, 40, 20))
    assert other.phases() is not cfg.phases() and other.steps == sum(p.steps for p in other.phases())
    # walk the schedule image by image, independently of stage()'s search
    step = 0
    for index, phase in enumerate(cfg.phases()):
        shown = 0
        for _ in range(phase.steps):
            alpha = min(1.0, shown / phase.images) if phase.kind == "fade-in" else 1.0
            assert cfg.stage(step) == (index, phase.resolution, alpha, phase.batch_size), step
            shown += phase.batch_size
            step += 1
    assert step == cfg.steps


def test_ablation_configs_switch_off_one_trick_each_on_a_shorter_schedule():
    cfg = ProGANConfig().quick()
    runs = config.ablation_configs(cfg, "quick")
    assert list(runs) == ["all three", "no equalized LR", "no pixel norm", "no minibatch std"]
    base = runs["all three"]
    assert base.image_size == 16 and base.resolutions == (4, 8, 16) and base.batch_sizes == cfg.batch_sizes[:3]
    assert [base.images("stabilise", r) for r in (4, 8, 16)] == [cfg.images("stabilise", r) // 4 for r in (4, 8, 16)]
    assert [base.images("fade-in", r) for r in (8, 16)] == [cfg.images("fade-in", r) // 4 for r in (8, 16)]
    assert runs["no equalized LR"] == base.replace(equalized_lr=False)
    assert runs["no pixel norm"] == base.replace(pixel_norm=False)
    assert runs["no minibatch std"] == base.replace(minibatch_std=False)
    full = config.ablation_configs(cfg, "full")["all three"]
    assert full.images("stabilise", 4) == cfg.images("stabilise", 4) // 4
    paper = config.ablation_configs(cfg, "paper")["all three"]
    assert paper.images("stabilise", 4) == cfg.images("stabilise", 4) // 8
    sixteen = cfg.replace(image_size=16, batch_sizes=(32, 32, 16), fade_images=3000, stable_images=3000)
    with pytest.raises(ValueError, match="image_size = 32 is not allowed"):
        config.ablation_configs(sixteen, "quick", 32)


def test_samples_come_from_the_moving_average_at_the_current_stage(blobs):
    assert ProGANConfig().ema_decay == 0.999  # Karras et al. 2018, App. A.1
    trainer = train.progan(tiny_cfg(), CPU)
    trainer.train(steps=5, progress=False)  # in the 8 x 8 fade-in
    average = trainer.generator_ema
    assert (average.resolution, average.alpha) == (trainer.resolution, trainer.alpha) == (8, trainer.cfg.stage(4)[2])
    z = trainer.fixed_z[:4]
    assert torch.equal(trainer.generate(z), average.eval()(z).clamp(-1, 1))
    assert not torch.equal(trainer.generate(z), trainer.generate(z, averaged=False))
