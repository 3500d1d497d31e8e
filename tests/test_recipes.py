"""gancourse.train.recipes: one description per recipe, its builders (WGAN clipping and penalty), its sampling."""

import pytest
import torch
from torch import nn

from gancourse import train
from gancourse.config import ConditionalGANConfig, DCGANConfig, ProGANConfig, WGANConfig, WGANGPConfig
from gancourse.losses import WassersteinObjective

CPU = torch.device("cpu")
SMALL = {"steps": 60, "base_channels": 8, "batch_size": 16, "data_limit": 512, "image_size": 16, "log_every": 10}


def test_wgan_builder_clips_every_critic_weight_during_training():
    cfg = WGANConfig(**SMALL, n_critic=2, lr_d=1e-3, lr_g=1e-3).replace(steps=10)
    trainer = train.wgan(cfg, CPU)
    assert isinstance(trainer.objective, WassersteinObjective) and trainer.objective.clip_value == 0.01
    assert isinstance(trainer.opt_d, torch.optim.RMSprop)
    assert any(isinstance(m, nn.BatchNorm2d) for m in trainer.discriminator.modules())  # the paper's DCGAN critic
    trainer.train(progress=False)
    weights = torch.cat([p.flatten() for p in trainer.discriminator.parameters()])
    assert weights.abs().max() <= 0.01  # every parameter, batch-norm scales included
    assert (weights.abs() == 0.01).float().mean() > 0.1  # lr 1e-3 pushes many of them onto ±c
    assert {"wasserstein", "critic_real", "critic_fake"} <= set(trainer.history)


def test_wgan_gp_builder_uses_a_per_sample_critic_and_the_penalty():
    trainer = train.wgan_gp(WGANGPConfig(**SMALL), CPU)
    assert trainer.objective.gp_weight == 10.0 and trainer.objective.clip_value is None
    assert isinstance(trainer.opt_d, torch.optim.Adam) and trainer.opt_d.param_groups[0]["betas"] == (0.0, 0.9)
    kinds = {type(m) for m in trainer.discriminator.modules()}
    assert nn.GroupNorm in kinds and nn.BatchNorm2d not in kinds
    none = train.wgan_gp(WGANGPConfig(**SMALL, critic_norm="none"), CPU).discriminator
    assert not any(isinstance(m, (nn.GroupNorm, nn.BatchNorm2d)) for m in none.modules())
    with pytest.raises(ValueError, match="critic_norm = 'batch' is not allowed"):
        WGANGPConfig(critic_norm="batch")


def _mean_image_gap(trainer, real):
    return float((trainer.generate(256).mean(0) - real.mean(0)).norm())


@pytest.mark.slow
def test_wgan_gp_training_moves_the_samples_towards_the_data():
    cfg = WGANGPConfig(**SMALL, n_critic=2, lr_g=5e-4, lr_d=5e-4)
    trainer = train.wgan_gp(cfg, CPU)
    real = trainer.real.data
    before = _mean_image_gap(trainer, real)
    history = trainer.train(progress=False)
    assert _mean_image_gap(trainer, real) < 0.75 * before  # the mean fake image approaches the mean digit
    assert history["gradient_penalty"][-1] < history["gradient_penalty"][0]  # |grad f| is pulled towards 1


# --------------------------------------------------------------------------------------
# The one description per recipe: generators without data, and how they sample
# --------------------------------------------------------------------------------------


def test_progan_samples_at_its_final_resolution_clamped():
    cfg = ProGANConfig().replace(latent_dim=8, fmap_base=16, fmap_max=8, fade_images=32, stable_images=32)
    recipe = train.RECIPES["progan"]
    out = recipe.sample(cfg, recipe.build_generator(cfg), 5, seed=0)
    assert out.shape == (5, 1, 32, 32) and out.abs().max() <= 1


def test_a_conditional_gan_samples_in_class_order_by_default():
    cfg = ConditionalGANConfig(base_channels=4, image_size=16)
    recipe = train.RECIPES["conditional_gan"]
    generator = recipe.build_generator(cfg)
    by_rows = recipe.sample(cfg, generator, 20, seed=1, labels=train.class_rows(10, 2))
    torch.testing.assert_close(recipe.sample(cfg, generator, 20, seed=1), by_rows, rtol=0, atol=0)
    torch.testing.assert_close(
        recipe.sample(cfg, generator, 7, seed=1), recipe.sample(cfg, generator, 7, seed=1, labels=torch.arange(7))
    )


def test_only_a_paired_task_has_test_pairs():
    with pytest.raises(ValueError, match="not a paired task"):
        train.RECIPES["dcgan"].held_out_pairs(DCGANConfig(), 4)
    kinds = {name: recipe.kind for name, recipe in train.RECIPES.items()}
    assert kinds["toy_gan"] == "toy" and kinds["conditional_gan"] == "conditional" and kinds["pix2pix"] == "paired"
    assert {kinds[name] for name in ("mlp_gan", "dcgan", "wgan", "wgan_gp", "resnet_gan", "progan")} == {"image"}


@pytest.mark.parametrize("name", list(train.RECIPES))
def test_the_builders_trainer_is_the_recipes(name, monkeypatch):
    """The trainer a recipe builds holds the generator its data-free description builds, in its trainer class."""
    images = torch.rand(16, 1, 16, 16, generator=torch.Generator().manual_seed(0)) * 2 - 1
    monkeypatch.setattr(train.recipes, "preload", lambda cfg: (images, torch.arange(16) % 10))
    monkeypatch.setattr(train.recipe_parts, "edge_pairs", lambda cfg, split, threshold: (images, images, None))
    recipe = train.RECIPES[name]
    small = {"toy_gan": {"hidden": 16}, "mlp_gan": {"hidden": 16, "image_size": 16}, "progan": {"fmap_base": 16}}
    small["stylegan2"] = {"image_size": 16, "fmap_base": 16, "fmap_max": 8, "latent_dim": 8, "w_dim": 8}
    cfg = recipe.config(**small.get(name, {"image_size": 16, "base_channels": 4} if name != "pix2pix" else {}))
    if name == "pix2pix":
        cfg = cfg.replace(base_channels=4, d_layers=1, image_size=16)
    trainer = recipe.build(cfg, CPU)
    assert type(trainer) is recipe.trainer
    built = recipe.generator(cfg)
    assert type(built) is type(trainer.generator)
    assert {k: v.shape for k, v in built.state_dict().items()} == {
        k: v.shape for k, v in trainer.generator.state_dict().items()
    }
