"""Wasserstein losses: weight clipping (WGAN) and the gradient penalty (WGAN-GP).

The Wasserstein GAN (Arjovsky et al. 2017) replaces the discriminator by a *critic*
f with no sigmoid and estimates the earth mover's distance by the
Kantorovich-Rubinstein duality (Eq. 2)

    W(p_data, p_g) = sup_{||f||_L <= 1} E_{x~p_data}[f(x)] - E_{x~p_g}[f(x)],

so the critic minimises E[f(G(z))] - E[f(x)] and the generator minimises
-E[f(G(z))] (Alg. 1). The Lipschitz constraint is enforced either by clipping every
critic weight to [-c, c] after each critic update (Arjovsky et al., Alg. 1, c = 0.01)
or by the gradient penalty of Gulrajani et al. 2017 (Eq. 3),

    lambda * E_{x^ ~ P_x^}[(||grad_x^ f(x^)||_2 - 1)^2],  x^ = eps x + (1 - eps) x~,  eps ~ U[0, 1],

one eps per sample, lambda = 10. ProGAN (Karras et al. 2018, Sec. A.1) adds the
drift term eps_drift * E[f(x)^2] with eps_drift = 0.001 to keep the critic's output
near zero.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import nn


def wasserstein_critic_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """E[f(G(z))] - E[f(x)]: minus the critic's estimate of W (Arjovsky et al. 2017, Alg. 1)."""
    return fake_scores.mean() - real_scores.mean()


def wasserstein_generator_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """-E[f(G(z))]: the generator moves its samples up the critic's slope."""
    return -fake_scores.mean()


def gradient_penalty(
    critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor, fake: torch.Tensor
) -> torch.Tensor:
    """E[(||grad f(x^)||_2 - 1)^2] at x^ = eps x + (1 - eps) x~ (Gulrajani et al. 2017, Eq. 3).

    One eps ~ U[0, 1] per sample; the norm is taken per sample over all its
    dimensions; ``create_graph=True`` keeps the penalty differentiable with respect to
    the critic's weights, so it trains them. The caller multiplies by lambda (10).
    """
    if real.shape != fake.shape:
        raise ValueError(f"real {tuple(real.shape)} and fake {tuple(fake.shape)} must have the same shape")
    eps = torch.rand(real.shape[0], *[1] * (real.ndim - 1), device=real.device, dtype=real.dtype)  # (B, 1, 1, 1)
    interpolates = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    scores = critic(interpolates)  # (B,)
    (grad,) = torch.autograd.grad(scores.sum(), interpolates, create_graph=True)  # d f(x^_i) / d x^_i, per sample
    norms = grad.flatten(1).norm(2, dim=1)  # (B,)
    return ((norms - 1) ** 2).mean()


def clip_weights(module: nn.Module, clip_value: float) -> None:
    """Clamp every parameter of ``module`` to [-c, c] in place (WGAN, Alg. 1 line 7)."""
    with torch.no_grad():
        for p in module.parameters():
            p.clamp_(-clip_value, clip_value)


def share_at_clip_bound(module: nn.Module, clip_value: float, tolerance: float = 1e-3) -> float:
    """Fraction of ``module``'s parameters at ±c, within ``tolerance`` * c of the bound.

    Gulrajani et al. 2017 (Sec. 3, Fig. 1b) show that a clipped critic pushes its weights to
    the two ends of [-c, c]; this is the share that has arrived there.
    """
    if clip_value <= 0:
        raise ValueError(f"clip_value = {clip_value} is out of range: allowed clip_value > 0")
    weights = torch.cat([p.detach().flatten().cpu() for p in module.parameters()])
    return float((weights.abs() >= (1 - tolerance) * clip_value).float().mean())


class WassersteinObjective:
    """WGAN (``clip_value`` = c) or WGAN-GP (``gp_weight`` = lambda) losses for :class:`GANTrainer`.

    ``drift`` adds ProGAN's eps_drift * E[f(x)^2]. The statistics record the critic's
    estimate of the Wasserstein distance, E[f(x)] - E[f(G(z))], which is meaningful
    (up to the Lipschitz constant) only while the constraint holds.
    """

    def __init__(self, clip_value: float | None = None, gp_weight: float = 0.0, drift: float = 0.0) -> None:
        if clip_value is not None and not (clip_value > 0 and math.isfinite(clip_value)):
            raise ValueError(
                f"clip_value = {clip_value} is out of range: allowed a finite clip_value > 0 (WGAN: 0.01), or None"
            )
        if not (gp_weight >= 0 and math.isfinite(gp_weight)):  # NaN fails every comparison: test for the allowed
            raise ValueError(f"gp_weight = {gp_weight} is out of range: allowed a finite gp_weight >= 0 (WGAN-GP: 10)")
        if not (drift >= 0 and math.isfinite(drift)):
            raise ValueError(f"drift = {drift} is out of range: allowed a finite drift >= 0 (ProGAN: 0.001)")
        self.clip_value, self.gp_weight, self.drift = clip_value, gp_weight, drift

    def loss_d(self, critic: Callable, real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, dict[str, Any]]:
        real_scores, fake_scores = critic(real), critic(fake)  # (B,), (B,)
        loss = wasserstein_critic_loss(real_scores, fake_scores)
        stats: dict[str, Any] = {"wasserstein": (real_scores.mean() - fake_scores.mean()).detach()}
        if self.gp_weight:
            penalty = gradient_penalty(critic, real, fake)
            loss = loss + self.gp_weight * penalty
            stats["gradient_penalty"] = penalty.detach()
        if self.drift:
            loss = loss + self.drift * (real_scores**2).mean()
        stats["critic_real"], stats["critic_fake"] = real_scores.mean().detach(), fake_scores.mean().detach()
        return loss, stats

    def loss_g(
        self, critic: Callable, fake: torch.Tensor, real: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, dict[str, Any]]:
        return wasserstein_generator_loss(critic(fake)), {}

    def after_d_step(self, discriminator: nn.Module) -> None:
        if self.clip_value is not None:
            clip_weights(discriminator, self.clip_value)
