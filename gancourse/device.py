"""Where tensors live and how numbers are computed: device choice, seeding, mixed precision.

All device and precision decisions of the package are made here, so that a
chapter runs unchanged on a laptop CPU, an Apple GPU (MPS) or an NVIDIA GPU:

* :func:`pick_device` prefers CUDA, then MPS, then the CPU;
* :func:`seed_everything` seeds Python, NumPy and PyTorch (all CUDA devices too);
* :func:`autocast` is mixed precision on CUDA (on the CPU: opt-in bfloat16) and a no-op elsewhere.

Mixed precision, ``channels_last`` and ``torch.compile`` are options that speed
up GPU runs; nothing in the book requires them.
"""

from __future__ import annotations

import contextlib
import os
import platform
import random
from collections.abc import Iterator

import numpy as np
import torch

DEVICES = ("cuda", "mps", "cpu")


def pick_device(prefer: str | torch.device | None = None) -> torch.device:
    """Return the best available device (cuda > mps > cpu), or ``prefer`` if it is available.

    ``prefer`` may be ``"cuda"``, ``"cuda:1"``, ``"mps"`` or ``"cpu"``; asking for
    a device this machine lacks raises ``ValueError`` naming what is available.
    """
    available = [d for d in DEVICES if _is_available(d)]
    if prefer is None:
        return torch.device(available[0])
    if not isinstance(prefer, (str, torch.device)):
        raise ValueError(f"prefer = {prefer!r} is not a device name: allowed {', '.join(DEVICES)} (e.g. 'cuda:1')")
    try:
        device = torch.device(prefer)
    except (RuntimeError, ValueError) as err:  # 'gpu', 'cuda:x': torch lists dozens of backends
        raise ValueError(
            f"prefer = {str(prefer)!r} is not a device name: allowed {', '.join(DEVICES)} (e.g. 'cuda:1'); "
            f"available here: {', '.join(available)}"
        ) from err
    if device.type not in DEVICES:
        raise ValueError(f"prefer = {str(prefer)!r} is not a device type: allowed {', '.join(DEVICES)}")
    if device.type not in available:
        raise ValueError(f"prefer = {str(prefer)!r} is not available on this machine: available {', '.join(available)}")
    return device


def _is_available(kind: str) -> bool:
    if kind == "cuda":
        return torch.cuda.is_available()
    if kind == "mps":
        return bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()
    return True


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, NumPy and PyTorch (CPU and every CUDA device).

    The same seed then gives the same numbers on the same machine and library
    versions; GPU kernels may still differ in the last bits unless
    ``torch.use_deterministic_algorithms(True)`` is also set.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise ValueError(f"seed = {seed!r} is out of range: allowed an integer 0 <= seed < 2**32")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    os.environ["PYTHONHASHSEED"] = str(seed)  # inherited by worker processes


@contextlib.contextmanager
def autocast(device: torch.device | str, enabled: bool = True, cpu: bool = False) -> Iterator[None]:
    """Mixed precision on CUDA (bfloat16 where supported, else float16); a no-op on MPS, and on
    the CPU unless ``cpu=True`` asks for bfloat16 there too.

    float16 needs a gradient scaler (``torch.amp.GradScaler``) to keep small
    gradients from underflowing; bfloat16 has float32's exponent range and does not.
    bfloat16 on a CPU is fast only where the CPU computes it natively (Intel AMX or
    AVX512-BF16; ``python -m gancourse.bench.train`` measures it), and emulated, slower
    than float32, elsewhere: hence opt-in.
    """
    device = torch.device(device)
    if enabled and cpu and device.type == "cpu":
        with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
            yield
        return
    if not enabled or device.type != "cuda":
        yield
        return
    dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    with torch.autocast(device_type="cuda", dtype=dtype):
        yield


def describe_device(device: torch.device | None = None) -> str:
    """One line per fact: PyTorch version, the chosen device and what else is there."""
    device = device or pick_device()
    lines = [
        f"PyTorch {torch.__version__} on Python {platform.python_version()} ({platform.system()})",
        f"CUDA available: {torch.cuda.is_available()}"
        + (f" ({torch.cuda.device_count()} x {torch.cuda.get_device_name(0)})" if torch.cuda.is_available() else ""),
        f"Apple MPS available: {_is_available('mps')}",
        f"CPU threads used by PyTorch: {torch.get_num_threads()}",
        f"chosen device: {device}",
    ]
    return "\n".join(lines)
