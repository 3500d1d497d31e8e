"""Helpers for the chapters: start a session, show the package's source.

A chapter never redefines what it teaches: it imports it from ``gancourse`` and
shows the code with :func:`show_source`, so the book and the package cannot drift apart.
"""

from __future__ import annotations

import dataclasses
import inspect
import os

import torch

from gancourse.config import MODE_ENV, run_mode
from gancourse.data import DATA_ENV, data_root
from gancourse.device import pick_device, seed_everything


@dataclasses.dataclass(frozen=True)
class Session:
    """The run mode, device and seed a chapter runs with."""

    mode: str
    device: torch.device
    seed: int


def start(mode: str | None = None, seed: int = 0, device: str | None = None) -> Session:
    """Pick the mode and device, seed everything, and print one line saying what was chosen."""
    chosen = run_mode(mode)
    dev = pick_device(device)
    seed_everything(seed)
    if mode is not None:
        why = "argument"
    elif os.environ.get(MODE_ENV):
        why = f"${MODE_ENV}"
    else:
        why = "GPU found" if chosen == "full" else "no GPU found"
    root = data_root()
    root_why = f"${DATA_ENV}" if os.environ.get(DATA_ENV) else "default"
    print(f"mode: {chosen} ({why}) | device: {dev} | seed: {seed} | data root: {root} ({root_why})")
    return Session(chosen, dev, seed)


def show_source(obj: object):
    """The source code of a function, class or module of the package, syntax-highlighted."""
    from IPython.display import Code

    return Code(inspect.getsource(obj), language="python")
