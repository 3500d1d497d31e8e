"""StyleGAN2's trainer (Karras et al. 2020): the plain loop, with samples clipped to [-1, 1]."""

from __future__ import annotations

import torch

from gancourse.train.loop import GANTrainer


class StyleGAN2Trainer(GANTrainer):
    """:class:`GANTrainer` unchanged: style mixing and the average w live in the generator, lazy R1 in the objective.

    Only sampling differs: G's output is linear (as ProGAN's), so samples are clipped to
    [-1, 1]. They are drawn at psi = 1 (no truncation), as the paper's scores are.
    """

    @torch.no_grad()
    def generate(
        self, z: torch.Tensor | int, condition: torch.Tensor | None = None, averaged: bool = True
    ) -> torch.Tensor:
        """G(z) (averaged by default) in eval mode (constant noise maps, no mixing), clipped to [-1, 1]."""
        return super().generate(z, condition, averaged).clamp(-1, 1)
