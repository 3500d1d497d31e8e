"""pix2pix's trainer (Isola et al. 2017): the generator sees an input image instead of noise."""

from __future__ import annotations

import contextlib

import torch
from torch import nn

from gancourse.checks import check_images
from gancourse.train import sampling
from gancourse.train.loop import GANTrainer


class Pix2PixTrainer(GANTrainer):
    """GANTrainer for pix2pix: G sees only the input image (no z; dropout is its noise), D sees (output, input).

    The real sampler returns ``(target, input)`` pairs, so the trainer's ``condition``
    is the input image; :meth:`translate` maps input images to outputs.

    Inference follows the paper (Isola et al. 2017, Sec. 3.3): "at inference time, we
    run the generator net in exactly the same manner as during the training phase",
    that is, batch norm normalises with the statistics of the test batch (at batch
    size 1 that is instance normalisation) and dropout stays on (unless the
    generator was built with ``test_dropout=False``). The running averages are
    neither used nor updated, and the dropout masks come from the trainer's own
    ``inference_rng`` (saved in checkpoints), so looking at samples never changes
    the training run, while every call draws fresh dropout noise.
    """

    @property
    def latent_dim(self) -> int:
        return 0  # no z: dropout is pix2pix's noise

    def generator_inputs(self, z: torch.Tensor, condition: torch.Tensor | None) -> tuple[torch.Tensor, ...]:
        return sampling.image_inputs(z, condition)

    def statistics_inputs(self) -> None:
        """None: pix2pix's G normalises with the test batch's own statistics (see the class docstring)."""
        return None

    def inference(self, generator: nn.Module | None = None) -> contextlib.AbstractContextManager:
        """G as in training: batch statistics of the batch, dropout as built; no running-average update.

        :func:`gancourse.train.sampling.paired_mode` on the trainer's own ``inference_rng``.
        """
        generator = self.generator if generator is None else generator
        return sampling.paired_mode(generator, self.inference_rng, self.device)

    def translate(self, condition: torch.Tensor) -> torch.Tensor:
        """G(x) for input images x (B, C_in, S, S), run as in training (see the class docstring), on the CPU.

        The outputs depend on the batch: batch norm uses its statistics, as in the paper.
        A NaN, infinite or out-of-range input is a ``ValueError`` (it would give NaN images).
        """
        check_images("condition", condition)
        z = torch.empty(len(condition), 0)  # G takes no z: draw nothing from the training noise generator
        return self.generate(z, condition)
