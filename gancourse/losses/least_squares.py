"""The least-squares GAN's training losses (Mao et al. 2017).

LSGAN keeps the minimax game's structure but scores with squared errors against target
codes: D's target is b on real and a on fake samples, and G pushes its samples towards
the value c (Eq. 2),

    min_D 1/2 E_x[(D(x) - b)^2] + 1/2 E_z[(D(G(z)) - a)^2],
    min_G 1/2 E_z[(D(G(z)) - c)^2].

The paper trains with the 0-1 coding a = 0, b = c = 1 (Eq. 9), the default here. The
closed forms of its theory (the optimal D, the Pearson chi^2 divergence) are in
:mod:`gancourse.losses.theory`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn


def least_squares_discriminator_loss(
    real_scores: torch.Tensor, fake_scores: torch.Tensor, a: float = 0.0, b: float = 1.0
) -> torch.Tensor:
    """1/2 E[(D(x) - b)^2] + 1/2 E[(D(G(z)) - a)^2] on D's raw scores, no sigmoid (Mao et al. 2017, Eq. 2)."""
    return 0.5 * F.mse_loss(real_scores, torch.full_like(real_scores, b)) + 0.5 * F.mse_loss(
        fake_scores, torch.full_like(fake_scores, a)
    )


def least_squares_generator_loss(fake_scores: torch.Tensor, c: float = 1.0) -> torch.Tensor:
    """1/2 E[(D(G(z)) - c)^2] (Mao et al. 2017, Eq. 2): G wants D to score its samples c."""
    return 0.5 * F.mse_loss(fake_scores, torch.full_like(fake_scores, c))


class LeastSquaresObjective:
    """The LSGAN losses (Mao et al. 2017, Eq. 2) for :class:`GANTrainer`, targets a (fake), b (real), c (G's wish).

    ``a, b, c = 0, 1, 1`` is the paper's 0-1 coding (Eq. 9); ``-1, 1, 0`` satisfies
    b - c = 1, b - a = 2, under which G minimises a Pearson chi^2 divergence (Eq. 7). The
    squared error keeps penalising fakes that D already classifies correctly but that lie
    far from the real data, so G's gradient does not vanish where the sigmoid cross-entropy
    saturates (Sec. 3.2). The statistics are D's mean raw scores: they head to b and a.
    """

    def __init__(self, a: float = 0.0, b: float = 1.0, c: float = 1.0) -> None:
        if a == b:
            raise ValueError(f"a = b = {a}: the real target b and the fake target a must differ (LSGAN: a = 0, b = 1)")
        self.a, self.b, self.c = a, b, c

    def loss_d(self, critic: Callable, real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, dict[str, Any]]:
        real_scores, fake_scores = critic(real), critic(fake)  # (B,), (B,): raw scores, no sigmoid
        loss = least_squares_discriminator_loss(real_scores, fake_scores, self.a, self.b)
        return loss, {"d_real": real_scores.mean().detach(), "d_fake": fake_scores.mean().detach()}

    def loss_g(
        self, critic: Callable, fake: torch.Tensor, real: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, dict[str, Any]]:
        return least_squares_generator_loss(critic(fake), self.c), {}

    def after_d_step(self, discriminator: nn.Module) -> None:
        """Nothing to do after D's step."""
