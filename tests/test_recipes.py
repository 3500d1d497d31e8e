"""gancourse.train.recipes: the WGAN and WGAN-GP builders (chapter 6) wire objective, critic and clipping."""

import pytest
import torch
from torch import nn

from gancourse import train
from gancourse.config import WGANConfig, WGANGPConfig
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
