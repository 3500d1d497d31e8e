"""Config of chapter 12: the one budget on which the stabilisation tricks are compared."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

from gancourse.config.base import Config, param


@dataclasses.dataclass(frozen=True)
class StabilisationConfig(Config):
    """Every trick trains chapter 4's toy GAN for ``steps`` generator updates, once per seed 0, ..., seeds - 1.

    Mode coverage is measured on ``n_samples`` samples of each generator, the 2,500 of
    the PacGAN protocol (Lin et al. 2018). Full mode: chapter 4's batch of 256, 5,000 steps
    and 5 seeds. Quick mode: 1,000 steps of batch 128 and 3 seeds, so that the eight tricks
    train in about two minutes on a 2-core CPU; minibatch discrimination compares all n^2
    pairs of a batch, so at batch 256 its runs alone would take minutes.
    """

    QUICK: ClassVar[Mapping[str, Any]] = {"steps": 1000, "seeds": 3, "batch_size": 128}

    mixture: str = param("ring", choices=("ring", "grid"), help="8 Gaussians on a ring or a 5 x 5 grid")
    steps: int = param(5000, 1, 1_000_000, help="generator updates per run (one discriminator update each)")
    batch_size: int = param(256, 2, 4096, help="real and fake samples per update (chapter 4: 256)")
    seeds: int = param(5, 1, 100, help="runs per trick, seeds 0, 1, ...: short GAN runs vary a lot between seeds")
    n_samples: int = param(2500, 100, 1_000_000, help="generator samples scored per run (PacGAN: 2,500)")
