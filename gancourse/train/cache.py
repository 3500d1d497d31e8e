"""The model cache: :func:`load_or_train`, a finished run loaded instead of retrained.

A run is cached under its experiment (:func:`gancourse.checkpoints.config_key`: every
field that changes the trained weights) and its length: ``<name>-<key>-<steps>steps.pt``
in ``~/.cache/gancourse/checkpoints/``. Logging more or less often is the same
experiment. Training longer continues: a finished (or interrupted) shorter run of the
same experiment is resumed from its last step, which gives the weights of one
uninterrupted run of the longer length, since nothing in a step depends on the total
(a learning-rate decay is set by its own field, ``lr_decay_steps``, not by ``steps``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import torch

from gancourse.checkpoints import CheckpointError, cache_file, checkpoint_dir, config_key
from gancourse.config import GANConfig
from gancourse.train.loop import GANTrainer

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")  # a file-name stem: no folders, no leading dot


def load_or_train(
    name: str,
    cfg: GANConfig,
    build: Callable[..., GANTrainer],
    force: bool = False,
    directory: str | os.PathLike | None = None,
    device: torch.device | None = None,
    progress: bool = True,
    on_step: Callable[[GANTrainer], None] | None = None,
) -> GANTrainer:
    """A trained trainer for ``cfg``: loaded from the checkpoint cache when one exists, else trained.

    A finished checkpoint is loaded and not retrained; an unfinished one, left by an
    interrupted run, is resumed from its step. This is how full-mode results trained
    once on a GPU reach a reader on a CPU. ``name`` is a plain file-name stem
    (letters, digits, ``-``, ``_``, ``.``), so a checkpoint never lands outside
    ``directory``.

    ``force=True`` retrains from scratch into a side file (``<name>-<key>.retrain.pt``)
    and replaces the finished checkpoint only when the new run has finished: an
    interrupted retrain leaves the old result in place. If only the final save fails
    (a full disk), the message says where, and the trained trainer is returned.
    ``on_step(trainer)`` is called after every step trained here (:meth:`GANTrainer.train`).
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(
            f"name = {name!r} is not allowed: use a plain file-name stem of letters, digits, '-', '_' and '.' "
            "(no folders, not starting with '.'); pass directory= to choose the folder"
        )
    directory = Path(directory or checkpoint_dir())
    path = cache_file(name, cfg, directory)
    target = path.with_name(f"{path.stem}.retrain.pt") if force else path
    trainer = build(cfg, device=device, checkpoint_path=target)
    if force:
        target.unlink(missing_ok=True)  # an earlier interrupted retrain: start from scratch, as asked
        kept = f"; {path} stays until the new run finishes" if path.exists() else ""
        print(f"{name}: retraining {cfg.steps} steps on {trainer.device} (checkpoint: {target}{kept})")
    elif path.exists():
        step = trainer.load()
        verb = "loaded the finished run" if step >= cfg.steps else f"resuming the interrupted run from step {step}"
        print(f"{name}: {verb} ({path})")
    elif (shorter := shorter_run(name, cfg, directory)) is not None:
        step = trainer.load(shorter)
        print(
            f"{name}: continuing the {step}-step run of the same experiment ({shorter}) to {cfg.steps} steps "
            f"on {trainer.device} (checkpoint: {path}; the shorter run stays)"
        )
    else:
        print(f"{name}: training {cfg.steps} steps on {trainer.device} (checkpoint: {path})")
    try:
        trainer.train(progress=progress, on_step=on_step)
    except CheckpointError as err:
        if trainer.step < cfg.steps:
            raise  # stopped before the end: the error is about more than the final save
        print(f"{name}: WARNING: {err}")
        return trainer
    if force:
        os.replace(target, path)  # atomic: the finished retrain takes the old result's place
        trainer.checkpoint_path = path
    return trainer


def shorter_run(name: str, cfg: GANConfig, directory: str | os.PathLike) -> Path | None:
    """The cached run of the same experiment (name and key) with the most steps below ``cfg.steps``, if any."""
    pattern = re.compile(rf"{re.escape(name)}-{config_key(cfg)}-(\d+)steps\.pt")
    runs = []
    for path in Path(directory).glob(f"{name}-{config_key(cfg)}-*steps.pt"):
        match = pattern.fullmatch(path.name)
        if match and int(match[1]) < cfg.steps:
            runs.append((int(match[1]), path))
    return max(runs)[1] if runs else None
