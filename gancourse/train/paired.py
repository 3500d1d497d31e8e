"""pix2pix's trainer (Isola et al. 2017): the generator sees an input image instead of noise."""

from __future__ import annotations

import torch

from gancourse.train.loop import GANTrainer


class Pix2PixTrainer(GANTrainer):
    """GANTrainer for pix2pix: G sees only the input image (no z; dropout is its noise), D sees (output, input).

    The real sampler returns ``(target, input)`` pairs, so the trainer's ``condition``
    is the input image; :meth:`translate` maps input images to outputs.
    """

    def generator_inputs(self, z: torch.Tensor, condition: torch.Tensor | None) -> tuple[torch.Tensor, ...]:
        if condition is None:
            raise ValueError("condition = None: pix2pix's generator needs the input image")
        return (condition,)

    def translate(self, condition: torch.Tensor) -> torch.Tensor:
        """G(x) for input images x (B, C_in, S, S), in eval mode (dropout stays on if ``test_dropout``), on the CPU."""
        return self.generate(len(condition), condition)
