"""How a trainer samples: :class:`Generating`, the generator in inference mode on noise it draws apart.

Mixed into :class:`~gancourse.train.loop.GANTrainer`. Samples never change the training
run: noise drawn by count comes from the trainer's own inference stream, and the
networks go back to training mode afterwards.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

from gancourse.train import sampling


class Generating:
    """G(z) for looking at: :meth:`generate`, :meth:`generate_fixed`, and the noise :meth:`sample_z` draws."""

    cfg: Any
    device: torch.device
    generator: nn.Module
    generator_ema: nn.Module | None
    real: Any
    step: int
    noise_rng: torch.Generator
    inference_rng: torch.Generator
    fixed_z: torch.Tensor
    fixed_condition: torch.Tensor | None

    def generator_inputs(self, z: torch.Tensor, condition: torch.Tensor | None) -> tuple[torch.Tensor, ...]:
        raise NotImplementedError

    @property
    def latent_dim(self) -> int:
        return self.cfg.latent_dim

    def sample_z(self, n: int, inference: bool = False) -> torch.Tensor:
        """z ~ N(0, I), shape (n, latent_dim): from the training noise stream, or with ``inference=True``
        from the inference stream, so that drawing samples to look at never changes the training run."""
        generator = self.inference_rng if inference else self.noise_rng
        return torch.randn(n, self.latent_dim, generator=generator, device=self.device)

    def sampler(self, averaged: bool = True) -> nn.Module:
        """The generator that samples: the moving average when there is one and ``averaged``, else G.

        The average's batch-norm statistics are recomputed for its weights first, when
        they are stale (:meth:`GeneratorAverage.recompute_batch_norm`), from noise and
        conditions drawn with a fixed seed, so that sampling stays deterministic and
        never touches the training streams.
        """
        average = getattr(self, "average", None)
        if not averaged or average is None:
            return self.generator
        if average.statistics_at != self.step and average.batch_norms:
            inputs = self.statistics_inputs()
            if inputs is not None:
                average.recompute_batch_norm(inputs)
            average.statistics_at = self.step
        return average.module

    #: batches x batch size of the noise the average's batch-norm statistics are recomputed on
    STATISTICS_BATCHES = (16, 64)

    def statistics_inputs(self) -> list[tuple[torch.Tensor, ...]] | None:
        """G's inputs for recomputing the average's batch-norm statistics: fixed-seed z, conditions drawn
        from the data's (labels of a conditional GAN); None where G samples with batch statistics."""
        rng = torch.Generator().manual_seed(self.cfg.seed + 5)
        batches, size = self.STATISTICS_BATCHES
        inputs = []
        for _ in range(batches):
            z = torch.randn(size, self.latent_dim, generator=rng).to(self.device)
            condition = None
            if self.fixed_condition is not None:  # a conditional GAN: conditions as the data has them
                drawn = self.real(size, rng)
                condition = drawn[1].to(self.device) if isinstance(drawn, (tuple, list)) else None
            inputs.append(self.generator_inputs(z, condition))
        return inputs

    @torch.no_grad()
    def generate(
        self, z: torch.Tensor | int, condition: torch.Tensor | None = None, averaged: bool = True
    ) -> torch.Tensor:
        """G(z) (or G(z, condition)) in inference mode (:meth:`inference`), on the CPU.

        With ``cfg.ema_decay > 0`` the averaged generator samples, unless ``averaged=False``.
        ``z`` given as a count is drawn from the inference stream: sampling between two calls
        of :meth:`train` leaves the run exactly as if it had not happened. The drawing itself is
        :func:`gancourse.train.sampling.generate`'s, as for a model without its trainer.
        """
        z = self.sample_z(z, inference=True) if isinstance(z, int) else z
        generator = self.sampler(averaged)
        return sampling.generate(
            generator, z, condition, inference=self.inference, inputs=self.generator_inputs, device=self.device
        )

    @contextlib.contextmanager
    def inference(self, generator: nn.Module | None = None) -> Iterator[None]:
        """How G (or ``generator``, e.g. the averaged one) runs in :meth:`generate`: eval mode.

        In eval mode batch norm uses its running statistics. The mode is restored
        afterwards, also when an exception interrupts it (:func:`gancourse.train.sampling.eval_mode`).
        """
        with sampling.eval_mode(self.generator if generator is None else generator):
            yield

    def generate_fixed(self) -> torch.Tensor:
        """G on the fixed noise batch (and fixed conditions): the samples kept during training."""
        return self.generate(self.fixed_z, self.fixed_condition)
