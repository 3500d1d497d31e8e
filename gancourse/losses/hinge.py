"""The hinge loss of SNGAN (Lim & Ye 2017, "Geometric GAN"; Miyato et al. 2018, Eq. 16-17).

D is trained as a soft-margin classifier of real against fake scores, with margin 1:

    V_D = E_x[min(0, -1 + D(x))] + E_z[min(0, -1 - D(G(z)))],   maximised by D   (Eq. 16)
    V_G = -E_z[D(G(z))],                                          minimised by G   (Eq. 17)

so D minimises E_x[max(0, 1 - D(x))] + E_z[max(0, 1 + D(G(z)))]: a real image scored above
1 or a fake scored below -1 adds nothing, and D spends its capacity on the samples still
inside the margin. G's loss is the Wasserstein generator's, -E[D(G(z))]. D's scores are
raw (no sigmoid). With D spectrally normalised (:mod:`gancourse.models.spectral`) this is
the objective Miyato et al. report their best scores with.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn


def hinge_discriminator_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))]: minus Eq. 16, minimised by D."""
    return torch.relu(1.0 - real_scores).mean() + torch.relu(1.0 + fake_scores).mean()


def hinge_generator_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """-E[D(G(z))] (Eq. 17), minimised by G: no margin on G's side."""
    return -fake_scores.mean()


class HingeObjective:
    """The hinge losses for :class:`gancourse.train.GANTrainer`; the statistics are D's mean raw scores.

    ``d_real`` and ``d_fake`` head to the margins +1 and -1 while D wins; G pulls ``d_fake`` up.
    """

    def loss_d(self, critic: Callable, real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, dict[str, Any]]:
        real_scores, fake_scores = critic(real), critic(fake)  # (B,), (B,): raw scores
        loss = hinge_discriminator_loss(real_scores, fake_scores)
        return loss, {"d_real": real_scores.mean().detach(), "d_fake": fake_scores.mean().detach()}

    def loss_g(
        self, critic: Callable, fake: torch.Tensor, real: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, dict[str, Any]]:
        return hinge_generator_loss(critic(fake)), {}

    def after_d_step(self, discriminator: nn.Module) -> None:
        """Nothing to do after D's step (spectral normalisation lives in D's layers)."""
