"""pix2pix: the conditional GAN loss plus lambda L1 (Isola et al. 2017, Eq. 4)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from gancourse.losses.minimax import discriminator_loss, generator_loss_non_saturating


class Pix2PixObjective:
    """G* = arg min_G max_D L_cGAN(G, D) + lambda L_L1(G) (Isola et al. 2017, Eq. 4), lambda = 100.

    ``critic`` is the PatchGAN with the input image bound in (D(x, y) sees both), so
    its logits are a (B, H', W') map and the cross-entropy is averaged over patches.
    G minimises the non-saturating -log D(x, G(x)) (the paper's Sec. 3.3 choice) plus
    lambda ||y - G(x)||_1, the mean absolute error to the paired target; the
    statistics record that L1. D's loss is multiplied by ``d_loss_factor`` = 1/2, as
    the paper "divide[s] the objective by 2 while optimizing D"; note that Adam divides
    every step by a running gradient scale, so a constant factor on a loss changes
    its updates only through Adam's epsilon: the halving mostly changes the reported value.
    ``adversarial=False`` drops the cGAN term from G's loss (the L1-only ablation;
    D still trains, but G ignores it); ``l1_weight=0`` is the cGAN-only ablation.
    """

    def __init__(self, l1_weight: float = 100.0, adversarial: bool = True, d_loss_factor: float = 0.5) -> None:
        if not (l1_weight >= 0 and math.isfinite(l1_weight)):
            raise ValueError(f"l1_weight = {l1_weight} is out of range: allowed a finite l1_weight >= 0 (pix2pix: 100)")
        if not 0 < d_loss_factor <= 1:
            raise ValueError(
                f"d_loss_factor = {d_loss_factor} is out of range: allowed 0 < d_loss_factor <= 1 (pix2pix: 0.5)"
            )
        if not adversarial and l1_weight == 0:
            raise ValueError("adversarial = False and l1_weight = 0 leave the generator with no loss: enable one")
        self.l1_weight, self.adversarial, self.d_loss_factor = l1_weight, adversarial, d_loss_factor

    def loss_d(self, critic: Callable, real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, dict[str, Any]]:
        real_logits, fake_logits = critic(real), critic(fake)  # (B, H', W') each: one logit per patch
        loss = self.d_loss_factor * discriminator_loss(real_logits, fake_logits)
        stats = {"d_real": torch.sigmoid(real_logits).mean(), "d_fake": torch.sigmoid(fake_logits).mean()}
        return loss, stats

    def loss_g(self, critic: Callable, fake: torch.Tensor, real: torch.Tensor) -> tuple[torch.Tensor, dict[str, Any]]:
        if real is None or real.shape != fake.shape:
            shape = None if real is None else tuple(real.shape)
            raise ValueError(f"real {shape} must be the target paired with fake {tuple(fake.shape)}: same shape")
        l1 = (fake - real).abs().mean()  # ||y - G(x)||_1, averaged over pixels
        stats: dict[str, Any] = {"l1": l1.detach()}
        loss = self.l1_weight * l1
        if self.adversarial:
            adversarial = generator_loss_non_saturating(critic(fake))
            stats["loss_g_adversarial"] = adversarial.detach()
            loss = loss + adversarial
        return loss, stats

    def after_d_step(self, discriminator: nn.Module) -> None:
        """Nothing to do after D's step."""
