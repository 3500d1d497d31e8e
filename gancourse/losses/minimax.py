"""The original GAN's training losses (Goodfellow et al. 2014) and the :class:`Objective` protocol.

The losses work on the discriminator's *logits* l, D(x) = sigmoid(l), through
``binary_cross_entropy_with_logits``, which computes log sigmoid(l) exactly even
where sigmoid(l) rounds to 0 or 1:

* the discriminator minimises -[log D(x) + log(1 - D(G(z)))] (Eq. 1, negated);
* the generator either minimises log(1 - D(G(z))) (*saturating*, Eq. 1 as written)
  or maximises log D(G(z)) (*non-saturating*, which the paper recommends in Sec. 3
  because it "provides much stronger gradients early in learning");
* one-sided label smoothing (Salimans et al. 2016, Sec. 3.4) replaces the real
  target 1 by 1 - s and leaves the fake target at 0.

An *objective* bundles a GAN's losses for :class:`gancourse.train.GANTrainer`; every
objective of the package (minimax, Wasserstein, least squares, pix2pix, feature
matching) follows :class:`Objective`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import torch
import torch.nn.functional as F
from torch import nn


def discriminator_loss(
    real_logits: torch.Tensor, fake_logits: torch.Tensor, label_smoothing: float = 0.0
) -> torch.Tensor:
    """-E[log D(x)] - E[log(1 - D(G(z)))], with the real target 1 - ``label_smoothing``.

    Both terms are means over their batch, so the value at D = 1/2 everywhere is 2 log 2.
    """
    if not 0.0 <= label_smoothing < 1.0:
        raise ValueError(f"label_smoothing = {label_smoothing} is out of range: allowed 0 <= label_smoothing < 1")
    real_target = torch.full_like(real_logits, 1.0 - label_smoothing)
    loss_real = F.binary_cross_entropy_with_logits(real_logits, real_target)
    loss_fake = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    return loss_real + loss_fake


def generator_loss_saturating(fake_logits: torch.Tensor) -> torch.Tensor:
    """E[log(1 - D(G(z)))], minimised by G: Eq. 1 as written. Its gradient vanishes when D wins."""
    return -F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))


def generator_loss_non_saturating(fake_logits: torch.Tensor) -> torch.Tensor:
    """-E[log D(G(z))], minimised by G: same fixed point, strong gradients when D wins."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


class Objective(Protocol):
    """The losses of a GAN. ``critic`` maps a batch to one logit/score per sample; for a
    conditional GAN the trainer binds the batch's condition into it, so an objective
    never needs to know whether the GAN is conditional. ``loss_g`` also receives the
    real batch, which paired objectives (pix2pix's L1 term) need."""

    def loss_d(self, critic: Callable, real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, dict]: ...

    def loss_g(self, critic: Callable, fake: torch.Tensor, real: torch.Tensor) -> tuple[torch.Tensor, dict]: ...

    def after_d_step(self, discriminator: nn.Module) -> None: ...


class MinimaxObjective:
    """The original GAN's losses as a pluggable part of :class:`gancourse.train.GANTrainer`.

    An objective turns a discriminator and batches into ``(loss, statistics)``; other
    objectives (Wasserstein, gradient penalty) plug into the same trainer.
    """

    def __init__(self, generator_loss: str = "non_saturating", label_smoothing: float = 0.0) -> None:
        losses = {"non_saturating": generator_loss_non_saturating, "saturating": generator_loss_saturating}
        if generator_loss not in losses:
            raise ValueError(f"generator_loss = {generator_loss!r} is not allowed: choose one of {', '.join(losses)}")
        discriminator_loss(torch.zeros(1), torch.zeros(1), label_smoothing)  # validates the value
        self._generator_loss, self.label_smoothing = losses[generator_loss], label_smoothing

    def loss_d(
        self, discriminator: Callable, real: torch.Tensor, fake: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, Any]]:
        real_logits, fake_logits = discriminator(real), discriminator(fake)  # (B,), (B,)
        loss = discriminator_loss(real_logits, fake_logits, self.label_smoothing)
        stats = {"d_real": torch.sigmoid(real_logits).mean(), "d_fake": torch.sigmoid(fake_logits).mean()}
        return loss, stats

    def loss_g(
        self, discriminator: Callable, fake: torch.Tensor, real: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, dict[str, Any]]:
        return self._generator_loss(discriminator(fake)), {}

    def after_d_step(self, discriminator: nn.Module) -> None:
        """Hook run after every discriminator update (WGAN clips weights here); nothing for the minimax GAN."""
