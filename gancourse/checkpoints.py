"""Checkpoints: save a training run, resume it exactly, load it safely.

A checkpoint is a plain dict of tensors, numbers, strings, lists and dicts, so it
loads with ``torch.load(..., weights_only=True)``, which refuses to run the
arbitrary code a pickled object could carry. It records a format tag, so a file
that is not a gancourse checkpoint is reported as such, and it can hold every
random-number-generator state (Python, NumPy, PyTorch CPU and CUDA), so that a
resumed run draws the same numbers as an uninterrupted one.

Writes are atomic (a temporary file renamed over the target): a run killed while
saving leaves the previous checkpoint intact.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

FORMAT = "gancourse-checkpoint-v1"


class CheckpointError(RuntimeError):
    """A file is missing, unreadable or not a gancourse checkpoint; the message names it."""


def checkpoint_dir() -> Path:
    """Where chapters keep their trained models: ``cache_dir() / 'checkpoints'``."""
    from gancourse.data import cache_dir

    return cache_dir() / "checkpoints"


def rng_state() -> dict[str, Any]:
    """Every RNG state as tensors and plain values (so that ``weights_only`` can load it)."""
    version, mt_state, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state = {
        "python": [version, list(mt_state), gauss],
        "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, cached],
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` recorded."""
    version, mt_state, gauss = state["python"]
    random.setstate((version, tuple(mt_state), gauss))
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> Path:
    """Write ``state`` (plus the format tag) to ``path`` atomically; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"format": FORMAT, **state}, tmp)
    os.replace(tmp, path)  # atomic on POSIX and Windows
    return path


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint with ``weights_only=True``; raise :class:`CheckpointError` if it is not one."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path} does not exist: train first, or check the path")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # torch raises many types for a foreign or damaged file
        raise CheckpointError(
            f"{path} is not a readable checkpoint ({type(err).__name__}: {str(err).splitlines()[0][:200]}). "
            "Delete it and train again."
        ) from err
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a gancourse checkpoint (no '{FORMAT}' tag): delete it or pick another file")
    return state


# --------------------------------------------------------------------------------------
# Which configuration a checkpoint belongs to
# --------------------------------------------------------------------------------------


def _jsonable(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def config_record(cfg: Any) -> dict[str, Any]:
    """The config as a checkpoint stores it: its class name and its fields as plain values."""
    return {"config_class": type(cfg).__name__, "config": dataclasses.asdict(cfg)}


def config_key(cfg: Any) -> str:
    """A short hash of a config: checkpoints of different settings never collide."""
    blob = _jsonable({"class": type(cfg).__name__, **dataclasses.asdict(cfg)})
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def config_differences(cfg: Any, state: dict[str, Any]) -> list[str]:
    """The fields in which ``cfg`` differs from the config a checkpoint was trained with.

    ``steps`` is not compared (a finished run may be continued for more steps); a
    different config class is reported as ``["class"]``. Empty: the checkpoint fits.
    """
    if state.get("config_class") != type(cfg).__name__:
        return ["class"]
    mine = {k: v for k, v in dataclasses.asdict(cfg).items() if k != "steps"}
    theirs = {k: v for k, v in state.get("config", {}).items() if k != "steps"}
    return sorted(k for k in set(mine) | set(theirs) if _jsonable(mine.get(k)) != _jsonable(theirs.get(k)))
