"""The generator's moving average: :class:`GeneratorAverage` (Karras et al. 2018, App. A.1).

A small class for one job, in the manner of diffusers' ``EMAModel``: it owns a copy
of G that is never trained, only averaged, and that samples and metrics use instead of
G itself. The trainer calls :meth:`GeneratorAverage.update` after every generator update.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
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

    Batch norm's running statistics are not weights: G's are statistics of G's
    activations, which the averaged weights do not produce, and averaged G run in eval
    mode with them samples worse than it should. So the average gets statistics of its
    own, recomputed for its weights on a few batches (:meth:`recompute_batch_norm`, as
    ``torch.optim.swa_utils.update_bn`` does for weight averages, Izmailov et al. 2018)
    before it samples; :attr:`statistics_at` says for which step they were computed
    (None: stale). Other buffers are copied from G.
    """

    def __init__(self, generator: nn.Module, decay: float, copy_generator: bool = True) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"decay = {decay!r} is out of range: allowed 0 < decay < 1")
        self.decay = float(decay)
        #: the averaged generator: a copy of G (or, with ``copy_generator=False``, a loaded average), never trained
        self.module = (copy.deepcopy(generator) if copy_generator else generator).requires_grad_(False)
        #: the step whose averaged weights the batch-norm statistics belong to; None once the weights moved on
        self.statistics_at: int | None = None

    def beta(self, updates: int) -> float:
        """The averaging weight after ``updates`` earlier generator updates: min(decay, (1 + t) / (10 + t))."""
        return min(self.decay, (1 + updates) / (10 + updates))

    @torch.no_grad()
    def update(self, generator: nn.Module, updates: int) -> None:
        """Fold G's current weights in; ``updates`` is the number of earlier generator updates (t)."""
        averaged, current = list(self.module.parameters()), list(generator.parameters())
        torch._foreach_lerp_(averaged, current, 1.0 - self.beta(updates))  # avg + (1 - beta) (theta - avg)
        for mine, theirs in zip(self.module.buffers(), generator.buffers(), strict=True):
            mine.copy_(theirs)  # batch norm's are recomputed before the average samples
        self.statistics_at = None

    @property
    def batch_norms(self) -> list[nn.modules.batchnorm._BatchNorm]:
        """The averaged generator's batch-norm layers that keep running statistics."""
        norms = (m for m in self.module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm))
        return [m for m in norms if m.track_running_stats]

    @torch.no_grad()
    def recompute_batch_norm(self, inputs: Iterable[tuple[torch.Tensor, ...]]) -> None:
        """Batch norm's running mean and variance recomputed for the averaged weights.

        ``inputs`` are the generator's argument tuples, e.g. ``(z,)`` batches; each
        layer's statistics become the mean over the batches of its batch statistics
        (momentum None: a cumulative average), computed in training mode without gradients.
        """
        norms = self.batch_norms
        momenta = [m.momentum for m in norms]
        for m in norms:
            m.reset_running_stats()
            m.momentum = None  # the running statistics: the plain mean over the batches below
        was_training = self.module.training
        self.module.train()
        try:
            for args in inputs:
                self.module(*args)
        finally:
            for m, momentum in zip(norms, momenta, strict=True):
                m.momentum = momentum
            self.module.train(was_training)

    def state_dict(self) -> dict[str, Any]:
        return self.module.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.module.load_state_dict(state)
