"""The generator's moving average: :class:`GeneratorAverage` (Karras et al. 2018, App. A.1).

A small class for one job, in the manner of diffusers' ``EMAModel``: it owns a copy
of G that is never trained, only averaged, and that samples and metrics use instead of
G itself. The trainer calls :meth:`GeneratorAverage.update` after every generator update.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn


class GeneratorAverage:
    """theta_avg <- beta theta_avg + (1 - beta) theta after every generator update.

    Karras et al. 2018, App. A.1: "we use an exponential running average for the
    weights of the generator ... with decay 0.999". The decay is warmed up,
    beta_t = min(decay, (1 + t) / (10 + t)) after t earlier updates (the schedule of
    TensorFlow's ``ExponentialMovingAverage`` with ``num_updates``), so that the
    average of a short run is not dominated by the random initialisation: 0.1 at
    the first update, 0.5 at the 8th, 0.9 at the 80th, 0.99 at the 890th, 0.999 at the
    8,990th. The official ProGAN code uses a constant 0.999 instead; the book's runs are
    a few thousand updates long, where a constant 0.999 would still be mostly the
    initial weights.

    Buffers (batch norm's running statistics) are copied from G: they are statistics
    of G's weights, not of the average's (:meth:`recompute_batch_norm` gives the
    average statistics of its own).
    """

    def __init__(self, generator: nn.Module, decay: float) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"decay = {decay!r} is out of range: allowed 0 < decay < 1")
        self.decay = float(decay)
        #: the averaged generator: a copy of G, never trained
        self.module = copy.deepcopy(generator).requires_grad_(False)

    def beta(self, updates: int) -> float:
        """The averaging weight after ``updates`` earlier generator updates: min(decay, (1 + t) / (10 + t))."""
        return min(self.decay, (1 + updates) / (10 + updates))

    @torch.no_grad()
    def update(self, generator: nn.Module, updates: int) -> None:
        """Fold G's current weights in; ``updates`` is the number of earlier generator updates (t)."""
        averaged, current = list(self.module.parameters()), list(generator.parameters())
        torch._foreach_lerp_(averaged, current, 1.0 - self.beta(updates))  # avg + (1 - beta) (theta - avg)
        for mine, theirs in zip(self.module.buffers(), generator.buffers(), strict=True):
            mine.copy_(theirs)

    def state_dict(self) -> dict[str, Any]:
        return self.module.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.module.load_state_dict(state)
