"""Helpers for the chapters: start a session, show the package's source.

A chapter never redefines what it teaches: it imports it from ``gancourse`` and
shows the code with :func:`show_source`, so the book and the package cannot drift apart.
"""

from __future__ import annotations

import dataclasses
import inspect
import os
from collections.abc import Sequence
from pathlib import Path

import torch

from gancourse import alt_text
from gancourse.config import MODE_ENV, run_mode
from gancourse.data import DATA_ENV, dataset_info, load_images
from gancourse.device import pick_device, seed_everything


@dataclasses.dataclass(frozen=True)
class Session:
    """The run mode, device and seed a chapter runs with."""

    mode: str
    device: torch.device
    seed: int


def start(
    mode: str | None = None, seed: int = 0, device: str | None = None, datasets: Sequence[str] = ("mnist",)
) -> Session:
    """Pick the mode and device, seed everything, and print one line saying what was chosen.

    The line names the data a chapter meets (``datasets``: the image counts, and whether
    they are the full data set or an offline sample), never a folder of this machine: the
    built book shows it to every reader.
    """
    chosen = run_mode(mode)
    dev = pick_device(device)
    seed_everything(seed)
    if mode is not None:
        why = "argument"
    elif os.environ.get(MODE_ENV):
        why = f"${MODE_ENV}"
    else:
        why = "GPU found" if chosen == "full" else "no GPU found"
    alt_text.register()  # figures carry what they show into the built page's alt texts
    data = "; ".join(describe_data(name) for name in datasets) or "none"
    print(f"mode: {chosen} ({why}) | device: {dev} | seed: {seed} | data: {data}")
    return Session(chosen, dev, seed)


def describe_data(name: str) -> str:
    """``'MNIST: 60,000 training and 10,000 test images (the full data set)'``: what a reader needs, no path.

    Data read from files (the data root, ``$GANCOURSE_DATA``, a download) is the full data
    set; otherwise the source names the sample shipped for offline use.
    """
    train = load_images(name, "train")
    test = load_images(name, "test")
    source = train[2]
    if Path(source).is_absolute():
        where = "the full data set" + (f", from ${DATA_ENV}" if os.environ.get(DATA_ENV) else "")
    else:
        where = f"offline: {source}"
    label = "MNIST" if name == "mnist" else dataset_info(name).about.split(",")[0]
    return f"{label}: {len(train[0]):,} training and {len(test[0]):,} test images ({where})"


def show_source(obj: object):
    """The source code of a function, class or module of the package, syntax-highlighted."""
    from IPython.display import Code

    return Code(inspect.getsource(obj), language="python")
