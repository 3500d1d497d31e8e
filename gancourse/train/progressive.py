"""ProGAN's trainer (Karras et al. 2018): resolution, fade-in and batch size follow the schedule."""

from __future__ import annotations

from typing import Any

import torch

from gancourse.models.progan import fade_real_images
from gancourse.train.loop import GANTrainer


class ProgressiveTrainer(GANTrainer):
    """ProGAN's training (Karras et al. 2018): the resolution, fade-in and batch size follow the schedule.

    Everything is a function of the generator step (``cfg.stage(step)``): before each
    update :meth:`before_step` sets G's and D's resolution and alpha, and
    :meth:`real_batch` draws that resolution's batch size of real images,
    downsampled and blended exactly as G's output is. A run resumed in the middle of
    a fade-in therefore continues exactly. When a new phase starts, Adam's moments
    are cleared (``cfg.reset_optimizer``), as the official code does
    (``reset_opt_for_new_lod``): the moments of a network with different layers and
    a different output scale are stale. A fixed-noise snapshot is kept at the end of
    every phase, at that phase's resolution.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._set_stage(0)

    def _set_stage(self, step: int) -> int:
        self.phase, self.resolution, self.alpha, self.stage_batch_size = self.cfg.stage(step)
        self.generator.set_stage(self.resolution, self.alpha)
        if self.generator_ema is not None:  # the average samples at the stage G trains at
            self.generator_ema.set_stage(self.resolution, self.alpha)
        self.discriminator.set_stage(self.resolution, self.alpha)
        return self.phase

    def before_step(self) -> None:
        previous = self.cfg.stage(self.step - 1)[0] if self.step > 0 else 0
        if self._set_stage(self.step) != previous and self.cfg.reset_optimizer:
            for optimizer in (self.opt_g, self.opt_d):
                optimizer.state.clear()  # Adam re-initialises m, v and its step count on the next step

    def real_batch(self) -> tuple[torch.Tensor, None]:
        real = self.real(self.stage_batch_size, self.data_rng)  # (B, C, S, S) at the target size
        real = real.to(self.device, non_blocking=True)
        return fade_real_images(real, self.resolution, self.alpha), None  # (B, C, r, r)

    def after_step(self, values: dict[str, torch.Tensor]) -> None:
        phase = self.cfg.phases()[self.phase]
        if self.step == phase.start + phase.steps and self.step % self.cfg.sample_every and self.step != self.cfg.steps:
            self.samples.append((self.step, self.generate_fixed()))  # the end of a phase (the loop keeps the others)
        values["alpha"] = torch.tensor(self.alpha)
        values["resolution"] = torch.tensor(float(self.resolution))

    @torch.no_grad()
    def generate(
        self, z: torch.Tensor | int, condition: torch.Tensor | None = None, averaged: bool = True
    ) -> torch.Tensor:
        """G(z) at the current resolution and alpha, clipped to [-1, 1] (G's output is linear)."""
        return super().generate(z, condition, averaged).clamp(-1, 1)

    def phase_samples(self) -> dict[int, torch.Tensor]:
        """The fixed-noise snapshots taken at the end of each phase, by step (images at that phase's size)."""
        ends = {p.start + p.steps for p in self.cfg.phases()}
        return {step: images for step, images in self.samples if step in ends}

    def after_restore(self) -> None:
        self._set_stage(max(self.step - 1, 0))  # the stage the last step ran at, for generate()
