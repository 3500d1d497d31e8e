"""Training logs for TensorBoard: an after-step hook that writes what :class:`GANTrainer` records.

``trainer.train(tensorboard="runs/tb")`` (or ``python -m gancourse train NAME --tensorboard
runs/tb``) adds a :class:`TensorBoardLogger` to the steps' ``on_step`` hook. After every step it
writes, with ``torch.utils.tensorboard.SummaryWriter``:

* every value the trainer logs (each ``cfg.log_every`` steps, the means over those steps):
  the losses under ``loss/`` (``loss/loss_d``, ``loss/loss_g``), the discriminator's mean
  outputs under ``discriminator/`` (``d_real`` = mean D(x), ``d_fake`` = mean D(G(z)): for the
  minimax loss probabilities, for the least-squares and hinge losses raw scores), everything
  else (learning rate, penalties) under ``train/``;
* each fixed-noise sample grid the trainer keeps (``cfg.sample_every`` steps) as ``samples``;
* when given an ``fid`` function (the command line passes one built by
  :func:`gancourse.metrics.fid_probe`), its FID every ``fid_every`` steps, under
  ``fid/<features>`` (the network's name, in tag characters; its full name as text beside
  the first point) so that scores of different feature networks never share a plot.

The hook only reads the trainer; it never changes what a step computes. Open the logs with
``tensorboard --logdir runs/tb`` (in a notebook: ``%load_ext tensorboard`` then
``%tensorboard --logdir runs/tb``).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torchvision.utils import make_grid

from gancourse.checks import check_positive_int

DISCRIMINATOR_OUTPUTS = ("d_real", "d_fake")


def tag(name: str) -> str:
    """The TensorBoard tag of a logged value: ``loss/...``, ``discriminator/...`` or ``train/...``."""
    if name.startswith("loss"):
        return f"loss/{name}"
    if name in DISCRIMINATOR_OUTPUTS:
        return f"discriminator/{name}"
    return f"train/{name}"


class TensorBoardLogger:
    """Writes a trainer's logged values, sample grids and (optionally) FID to ``log_dir``; call it after each step.

    ``fid(trainer) -> float`` scores the trainer's current generator; it runs every
    ``fid_every`` generator steps (required with ``fid``) and at the trainer's last step,
    logged as ``fid/<features>``. Only rank 0 of a data-parallel run writes. The event file
    is flushed at every logged FID and by :meth:`close` (``GANTrainer.train`` closes the
    loggers it makes; TensorBoard itself re-reads a growing file). Pass the same logger to every
    ``train()`` call of a run: a new one writes the values logged before it again (a resumed run
    too), which TensorBoard then shows twice.
    """

    def __init__(
        self,
        log_dir: str | os.PathLike,
        fid: Callable[[Any], float] | None = None,
        fid_every: int | None = None,
        features: str = "features",
    ) -> None:
        if fid is not None:
            check_positive_int("fid_every", fid_every, note="the generator steps between two FIDs")
        elif fid_every is not None:
            raise ValueError("fid_every is set but fid is None: give fid(trainer) -> float to score")
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as err:  # tensorboard is in requirements.txt, not in gancourse's own dependencies
            raise ImportError(f"tensorboard= needs the tensorboard package ({err}): pip install tensorboard") from err
        self.log_dir = Path(log_dir)
        self._writer_class = SummaryWriter
        self._writer = None  # opened at the first call: a run on rank > 0 writes nothing at all
        self.fid, self.fid_every, self.features = fid, fid_every, features
        self.fid_tag = "fid/" + re.sub(r"[^\w.-]+", "_", features).strip("_")  # TensorBoard's tag characters
        self._values_written = 0  # entries of trainer.history["step"] already written
        self._samples_written: set[int] = set()
        self._fid_steps: set[int] = set()

    @property
    def writer(self):
        if self._writer is None:
            self._writer = self._writer_class(log_dir=str(self.log_dir))
        return self._writer

    def __call__(self, trainer: Any) -> None:
        if getattr(trainer, "rank", 0) != 0:
            return
        steps = trainer.history.get("step", [])
        for i in range(self._values_written, len(steps)):
            step = int(steps[i])
            for name, values in trainer.history.items():
                if name != "step" and i < len(values):
                    self.writer.add_scalar(tag(name), values[i], step)
        self._values_written = len(steps)
        for step, images in trainer.samples:
            if step not in self._samples_written:
                self._samples_written.add(step)
                if images.ndim == 4:  # (B, C, H, W) in [-1, 1]; the toy mixture's 2-d points are not images
                    grid = make_grid((images.float().cpu() + 1) / 2, nrow=math.ceil(math.sqrt(len(images))))
                    self.writer.add_image("samples", grid.clamp(0, 1), step)
        last = trainer.step >= trainer.cfg.steps
        if (
            self.fid is not None
            and (trainer.step % self.fid_every == 0 or last)
            and trainer.step not in self._fid_steps
        ):
            self._fid_steps.add(trainer.step)
            with torch.no_grad():
                score = float(self.fid(trainer))
            if not self._fid_steps - {trainer.step}:  # the first FID: the full name of its features beside it
                self.writer.add_text(self.fid_tag, f"FID in the features of {self.features}", trainer.step)
            self.writer.add_scalar(self.fid_tag, score, trainer.step)
            self.writer.flush()

    def close(self) -> None:
        """Flush and close the event file (a later call opens a new one in the same folder)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def with_tensorboard(
    tensorboard: str | os.PathLike | TensorBoardLogger, on_step: Callable[[Any], None] | None
) -> tuple[Callable[[Any], None], TensorBoardLogger]:
    """``on_step`` followed by the logger of ``tensorboard`` (a folder, or a :class:`TensorBoardLogger`)."""
    logger = tensorboard if isinstance(tensorboard, TensorBoardLogger) else TensorBoardLogger(tensorboard)

    def hook(trainer: Any) -> None:
        if on_step is not None:
            on_step(trainer)
        logger(trainer)

    return hook, logger
