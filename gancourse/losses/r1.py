"""The R1 gradient penalty (Mescheder et al. 2018, Eq. 9) and its lazy form (Karras et al. 2020, Sec. 3.1).

Mescheder et al. show that unregularised GAN training need not converge even near an
equilibrium where p_g = p_data: D's gradient on the data keeps pushing G past it. Penalising
D's gradient on *real* data only,

    R1(psi) = gamma / 2 * E_{x ~ p_data}[||grad_x D_psi(x)||^2],                    (Eq. 9)

makes the equilibrium locally stable (their Thm. 4.2): at p_g = p_data the best D is then
flat on the data. Unlike WGAN-GP's penalty it asks for gradient 0, not 1, and it needs no
interpolates. It is added to D's loss only; D's scores are raw logits or critic values.

StyleGAN2 (Karras et al. 2020, Sec. 3.1, "lazy regularization") computes the penalty only
once every k discriminator steps and multiplies it by k, so that its average strength is
the same: the penalty's double backward is expensive, and its value changes slowly. k = 16
in the paper (they also scale Adam's hyperparameters by k / (k + 1); this code does not).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from gancourse.checks import check_positive_int


def r1_penalty(critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor) -> torch.Tensor:
    """E_x[||grad_x D(x)||^2] on the real batch (Mescheder et al. 2018, Eq. 9 without gamma / 2).

    The squared norm runs over all of a sample's dimensions; summing D's scores before the
    gradient gives each sample's own gradient, since D scores samples independently (no batch
    norm, no minibatch discrimination). ``create_graph=True`` keeps the penalty differentiable
    in D's weights. A score map (a PatchGAN's) is summed per sample.
    """
    real = real.detach().requires_grad_(True)
    scores = critic(real)  # (B,) or (B, H', W')
    (grad,) = torch.autograd.grad(scores.sum(), real, create_graph=True)  # (B, C, H, W)
    return grad.flatten(1).pow(2).sum(dim=1).mean()


class R1Regularised:
    """``base``'s losses with gamma / 2 * R1 added to D's, every ``every``-th D step times ``every`` (lazy R1).

    ``steps`` counts D steps (calls of :meth:`loss_d`); the penalty is applied on the steps
    where ``steps % every == 0``, the first included. With ``every = 1`` it is applied at
    every step and the count does not matter. The count is the only state; it travels in
    :meth:`state_dict` (a trainer that checkpoints its objective's state resumes on the same
    schedule), and in a trainer it equals the discriminator's update count, step x n_critic.
    The penalty needs its own forward of D on the real batch, with a gradient to the input.
    The statistic ``r1`` is the last penalty computed (a trainer logs the same keys every step).
    A fresh object whose count is not due applies the penalty at its first step anyway: it has
    no value to report yet.
    """

    def __init__(self, base: Any, gamma: float = 10.0, every: int = 1) -> None:
        if not (gamma > 0 and math.isfinite(gamma)):
            raise ValueError(f"gamma = {gamma} is out of range: allowed a finite gamma > 0 (StyleGAN2: 10)")
        check_positive_int("every", every, note="lazy R1 every k D steps, StyleGAN2: 16")
        self.base, self.gamma, self.every = base, gamma, every
        self.steps = 0
        self.last_penalty: torch.Tensor | None = None  # the statistics report the last value computed

    def due(self) -> bool:
        """Whether the next D step carries the penalty."""
        return self.steps % self.every == 0

    def loss_d(self, critic: Callable, real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, dict[str, Any]]:
        loss, stats = self.base.loss_d(critic, real, fake)
        if self.due() or self.last_penalty is None:
            penalty = r1_penalty(critic, real)
            loss = loss + self.every * self.gamma / 2 * penalty  # lazy: k times the penalty, once in k steps
            self.last_penalty = penalty.detach()
        self.steps += 1
        return loss, {**stats, "r1": self.last_penalty}

    def loss_g(self, critic: Callable, fake: torch.Tensor, real: torch.Tensor) -> tuple[torch.Tensor, dict[str, Any]]:
        return self.base.loss_g(critic, fake, real)

    def after_d_step(self, discriminator: nn.Module) -> None:
        self.base.after_d_step(discriminator)

    def state_dict(self) -> dict[str, Any]:
        """The count and the last penalty (None before the first), then the base objective's state if any."""
        last = None if self.last_penalty is None else self.last_penalty.clone()
        base = self.base.state_dict() if hasattr(self.base, "state_dict") else {}
        return {"r1_steps": self.steps, "r1_last_penalty": last, **base}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.steps = int(state["r1_steps"])
        last = state["r1_last_penalty"]
        self.last_penalty = None if last is None else torch.as_tensor(last).clone()
        if hasattr(self.base, "load_state_dict"):
            self.base.load_state_dict({k: v for k, v in state.items() if not k.startswith("r1_")})
