"""Salimans et al. 2016: feature matching (Sec. 3.1) and historical averaging (Sec. 3.3).

Salimans et al. 2016 (Sec. 3) collect heuristics that stabilise training. Three of them
live here and in :mod:`gancourse.models.minibatch`: *feature matching* (Sec. 3.1),
G matches the mean of an intermediate layer f of D on real data,
||E_x f(x) - E_z f(G(z))||_2^2, instead of maximising D's output; *minibatch
discrimination* (Sec. 3.2, a layer of D); *historical averaging* (Sec. 3.3), each
player's cost gains ||theta - (1/t) sum_i theta[i]||^2, the distance of its parameters
from their own running mean. One-sided label smoothing (Sec. 3.4) is an option of
:func:`gancourse.losses.minimax.discriminator_loss`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn


def feature_matching_loss(real_features: torch.Tensor, fake_features: torch.Tensor) -> torch.Tensor:
    """||E_x f(x) - E_z f(G(z))||_2^2 (Salimans et al. 2016, Sec. 3.1), minimised by G.

    ``real_features`` (B, F) and ``fake_features`` (B', F) are D's activations on an
    intermediate layer; the expectations are batch means, the norm runs over the F features.
    Only the first moment is matched: a G whose samples have the data's mean features
    has zero loss, however little it varies.
    """
    if real_features.ndim != 2 or fake_features.ndim != 2 or real_features.shape[1] != fake_features.shape[1]:
        raise ValueError(
            f"real_features {tuple(real_features.shape)} and fake_features {tuple(fake_features.shape)} "
            "must be (B, F) with the same F"
        )
    return ((real_features.mean(dim=0) - fake_features.mean(dim=0)) ** 2).sum()


class FeatureMatchingObjective:
    """D trains with ``base`` (minimax or least squares); G minimises :func:`feature_matching_loss` instead.

    The features are ``discriminator.features(x)``, D's last hidden layer (the paper:
    "activations on an intermediate layer"); real features are computed without a graph,
    since G's gradient reaches only the fake side. ``loss_g`` needs the discriminator
    itself (an unconditional GAN) because it calls its ``features`` method.
    """

    def __init__(self, base: Any) -> None:
        self.base = base

    def loss_d(self, critic: Callable, real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, dict[str, Any]]:
        return self.base.loss_d(critic, real, fake)

    def loss_g(self, critic: Callable, fake: torch.Tensor, real: torch.Tensor) -> tuple[torch.Tensor, dict[str, Any]]:
        features = getattr(critic, "features", None)
        if features is None:
            raise TypeError(
                f"feature matching needs a discriminator with a features(x) method; got {type(critic).__name__}"
            )
        if real is None:
            raise ValueError("real = None: feature matching compares G's samples with a real batch")
        with torch.no_grad():
            real_features = features(real)  # (B, F)
        return feature_matching_loss(real_features, features(fake)), {}

    def after_d_step(self, discriminator: nn.Module) -> None:
        self.base.after_d_step(discriminator)


class HistoricalAverage:
    """The running mean of a network's past parameters and the penalty against it (Salimans et al. 2016, Sec. 3.3).

    penalty = ||theta - (1/t) sum_{i=1}^t theta[i]||^2, summed over every parameter, where
    theta[i] is the value after the i-th update. :meth:`update` adds the current
    parameters to the mean, incrementally: mean_t = mean_{t-1} + (theta[t] - mean_{t-1}) / t.
    The penalty pulls each player back towards where it has been, which damps the orbits
    that simultaneous gradient descent can trace around an equilibrium. Before the first
    update there is no history and the penalty is 0. :meth:`state_dict` holds t and the
    mean, so a checkpointed run resumes with the same penalty.
    """

    def __init__(self) -> None:
        self.count = 0
        self.mean: list[torch.Tensor] = []

    def penalty(self, module: nn.Module) -> torch.Tensor:
        """||theta - mean||^2 over all of ``module``'s parameters; differentiable in theta."""
        params = list(module.parameters())
        if self.count == 0:
            return params[0].new_zeros(()) if params else torch.zeros(())
        if len(params) != len(self.mean):
            raise ValueError(f"module has {len(params)} parameter tensors, the running mean {len(self.mean)}")
        return sum(((p - m) ** 2).sum() for p, m in zip(params, self.mean, strict=True))

    @torch.no_grad()
    def update(self, module: nn.Module) -> None:
        """Fold the current parameters into the running mean (t -> t + 1)."""
        params = [p.detach() for p in module.parameters()]
        self.count += 1
        if self.count == 1:
            self.mean = [p.clone() for p in params]
            return
        for m, p in zip(self.mean, params, strict=True):
            m.add_(p - m, alpha=1.0 / self.count)

    def state_dict(self) -> dict[str, Any]:
        return {"count": self.count, "mean": [m.clone() for m in self.mean]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.count = int(state["count"])
        self.mean = [m.clone() for m in state["mean"]]
