"""The machinery behind every config: ``param`` fields with ranges, :class:`Config`, the run mode.

Every experiment in the book is described by one frozen dataclass derived from
:class:`Config`. Each field is declared with :func:`param`, which records the
range (or the allowed choices) that validation and the widgets both use, so a
slider can never offer a value that the code would reject. Field defaults are
the values of the paper a chapter follows (cited next to each field); the
``QUICK`` mapping of a class lists the fields that quick mode shrinks so that a
chapter runs in about a minute on a 2-core CPU, and its ``FULL`` mapping the fields
that full mode changes so that a chapter trains in at most about 15 minutes on an
NVIDIA T4 (Colab's GPU; the estimates: :mod:`gancourse.config.budget`). Paper mode
is the defaults themselves: the papers' schedules, often hours.

``GANCOURSE_SMOKE=1`` caps full and paper mode for CI (:meth:`Config.smoked`): a few
steps per training phase, narrow networks, metrics at small n, the domain classifier
as features. It runs every full- and paper-mode code path on a CPU in seconds; its
numbers mean nothing.

Overrides go through :meth:`Config.replace` (a checked ``dataclasses.replace``);
there are no module-level settings.

The run mode is chosen by, in this order: an explicit argument, the environment
variable ``GANCOURSE_MODE``, and otherwise ``"full"`` when a GPU (CUDA or Apple
MPS) is present and ``"quick"`` when not. ``"paper"`` is only ever chosen explicitly.
"""

from __future__ import annotations

import dataclasses
import math
import os
import types
import typing
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, ClassVar

import numpy as np

MODES = ("quick", "full", "paper")
MODE_ENV = "GANCOURSE_MODE"
SMOKE_ENV = "GANCOURSE_SMOKE"

#: The caps of a smoke run (``GANCOURSE_SMOKE=1``), applied as ``min(value, cap)`` to every field of these
#: names a config has, after the mode's values and the overrides; a class adds its own in ``SMOKE``.
SMOKE_CAPS: Mapping[str, Any] = {
    "steps": 2,  # generator updates (ProGAN's steps are derived: its phases are capped instead)
    "batch_size": 4,
    "data_limit": 256,
    "limit": 256,  # the domain classifier's training images
    "epochs": 1,
    "log_every": 1,
    "sample_every": 1,
    "checkpoint_every": 0,
    "n": 50,  # images per FID / KID
    "kid_subset_size": 25,
    "seeds": 1,
    "n_samples": 100,
    "seconds": 2.0,
    "every": 1,
    "lr_decay_steps": 0,
}


def run_mode(mode: str | None = None) -> str:
    """Return ``"quick"``, ``"full"`` or ``"paper"``: the argument, else ``$GANCOURSE_MODE``, else by hardware.

    >>> run_mode("QUICK")
    'quick'
    """
    source = "argument mode"
    if mode is None:
        mode = os.environ.get(MODE_ENV) or None
        source = f"environment variable {MODE_ENV}"
    if mode is None:
        return "full" if _gpu_present() else "quick"
    if not isinstance(mode, str) or mode.strip().lower() not in MODES:
        raise ValueError(f"{source} = {mode!r} is not a run mode: allowed values are 'quick', 'full' or 'paper'")
    return mode.strip().lower()


def smoke() -> bool:
    """Whether ``$GANCOURSE_SMOKE`` asks for a smoke run (any value but '', '0', 'false', 'no')."""
    return os.environ.get(SMOKE_ENV, "").strip().lower() not in ("", "0", "false", "no")


def _cap(value: Any, cap: Any) -> Any:
    """``min(value, cap)``, item by item for a tuple; a string cap replaces the value (features); 0 ("all") -> cap."""
    if isinstance(cap, str):
        return cap
    if isinstance(value, tuple):
        return tuple(min(v, cap) for v in value)
    if cap == 0:  # 0 means off (checkpoint_every, lr_decay_steps)
        return 0
    if value == 0:  # 0 means all (data_limit, limit): the cap is the limit
        return cap
    return min(value, cap)


def _gpu_present() -> bool:
    """Whether CUDA or Apple MPS is usable: the devices :func:`gancourse.device.pick_device` prefers to the CPU.

    The same two checks as ``gancourse.device`` (tests/test_config.py holds them equal); made here because
    config sits below device in the package's layers. torch is imported only when the mode is left open.
    """
    import torch

    mps = getattr(torch.backends, "mps", None)
    return torch.cuda.is_available() or (bool(mps) and mps.is_available())


def param(
    default: Any,
    low: float | None = None,
    high: float | None = None,
    *,
    choices: Iterable[Any] | None = None,
    log: bool = False,
    step: float | None = None,
    help: str = "",
) -> Any:
    """Declare a config field with its allowed range (``low <= value <= high``) or ``choices``.

    ``log=True`` asks widgets for a logarithmic slider (learning rates);
    ``step`` is the slider resolution for floats.
    """
    meta = {
        "low": low,
        "high": high,
        "choices": tuple(choices) if choices is not None else None,
        "log": log,
        "step": step,
        "help": help,
    }
    return dataclasses.field(default=default, metadata=meta)


def _allowed(meta: Mapping[str, Any]) -> str:
    if meta.get("choices") is not None:
        return "one of " + ", ".join(repr(c) for c in meta["choices"])
    low, high = meta.get("low"), meta.get("high")
    if low is not None and high is not None:
        return f"{low} <= value <= {high}"
    if low is not None:
        return f"value >= {low}"
    if high is not None:
        return f"value <= {high}"
    return "any value"


def _check_type(name: str, value: Any, hint: Any) -> Any:
    """Return ``value`` converted where lossless (int -> float), or raise ``ValueError``."""
    origin = typing.get_origin(hint)
    if origin is types.UnionType or origin is typing.Union:  # e.g. int | tuple[int, ...]: the first that fits
        for arm in typing.get_args(hint):
            try:
                return _check_type(name, value, arm)
            except ValueError:
                pass
        kinds = " or ".join(getattr(arm, "__name__", str(arm)) for arm in typing.get_args(hint))
        raise ValueError(f"{name} = {value!r} must be one of: {kinds}")
    if hint is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{name} = {value!r} must be a bool (True or False)")
        return value
    if hint is int:
        if isinstance(value, (bool, np.bool_)):
            raise ValueError(f"{name} = {value!r} must be an integer")
        if isinstance(value, np.integer):  # e.g. from np.arange in a sweep: a plain int, same value
            return int(value)
        if not isinstance(value, int):
            if isinstance(value, (float, np.floating)) and math.isfinite(value) and float(value).is_integer():
                return int(value)
            raise ValueError(f"{name} = {value!r} must be an integer")
        return value
    if hint is float:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise ValueError(f"{name} = {value!r} must be a number")
        try:
            value = float(value)
        except OverflowError:  # an int beyond float's range, e.g. 10**400
            size = f"{'-' if value < 0 else ''}10^{int(math.log10(abs(value)))}"
            raise ValueError(f"{name} = about {size} is beyond the float range: must be a finite number") from None
        if not math.isfinite(value):
            raise ValueError(f"{name} = {value!r} must be a finite number")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise ValueError(f"{name} = {value!r} must be a string")
        return value
    if origin is tuple:
        if isinstance(value, np.ndarray) and value.ndim == 1:  # e.g. np.arange(...): its items as a tuple
            value = tuple(value)
        if not isinstance(value, (tuple, list)):
            raise ValueError(f"{name} = {value!r} must be a tuple")
        args = typing.get_args(hint)
        item = args[0] if args else Any
        if item is not Any:
            value = tuple(_check_type(f"{name}[{i}]", v, item) for i, v in enumerate(value))
        return tuple(value)
    return value


@dataclasses.dataclass(frozen=True)
class Config:
    """Base class: validates every field on construction and knows its quick-mode variant."""

    #: Field values that quick mode uses instead of the (paper) defaults.
    QUICK: ClassVar[Mapping[str, Any]] = {}
    #: Field values that full mode uses instead of the (paper) defaults: sized for ~15 min a chapter on a T4.
    FULL: ClassVar[Mapping[str, Any]] = {}
    #: Caps of a smoke run beyond :data:`SMOKE_CAPS` (``min(value, cap)``; a string replaces the value).
    SMOKE: ClassVar[Mapping[str, Any]] = {}

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(type(self))
        cls = type(self).__name__
        for f in dataclasses.fields(self):
            name = f"{cls}.{f.name}"
            value = _check_type(name, getattr(self, f.name), hints[f.name])
            object.__setattr__(self, f.name, value)
            meta = f.metadata
            if meta.get("choices") is not None:
                if value not in meta["choices"]:
                    raise ValueError(f"{name} = {value!r} is not allowed: choose {_allowed(meta)}")
                continue
            for item in value if isinstance(value, tuple) else (value,):
                too_low = meta.get("low") is not None and item < meta["low"]
                too_high = meta.get("high") is not None and item > meta["high"]
                if too_low or too_high:
                    raise ValueError(f"{name} = {value!r} is out of range: allowed {_allowed(meta)}")
        self.check()

    def check(self) -> None:
        """Cross-field checks; subclasses override and raise ``ValueError``."""

    @classmethod
    def for_mode(cls, mode: str | None = None, **overrides: Any):
        """The config for a run mode (see :func:`run_mode`), with ``overrides`` applied last.

        Quick mode applies the class's ``QUICK`` values, full mode its ``FULL`` values, paper mode
        neither. In full and paper mode ``$GANCOURSE_SMOKE`` then caps the result (:meth:`smoked`).
        """
        chosen = run_mode(mode)
        cfg = cls()
        if chosen == "quick":
            return cfg.quick().replace(**overrides)
        if chosen == "full":
            cfg = cfg.replace(**cls.FULL)
        cfg = cfg.replace(**overrides)
        return cfg.smoked() if smoke() else cfg

    def smoked(self):
        """This config with the smoke caps (:data:`SMOKE_CAPS` and the class's ``SMOKE``) on the fields it has."""
        settable = {f.name for f in dataclasses.fields(self) if f.init}
        caps = {**SMOKE_CAPS, **self.SMOKE}
        return self.replace(**{k: _cap(getattr(self, k), cap) for k, cap in caps.items() if k in settable})

    def quick(self):
        """This config with the class's quick-mode values."""
        return self.replace(**self.QUICK)

    def replace(self, **changes: Any):
        """``dataclasses.replace`` that names an unknown field instead of a bare ``TypeError``."""
        names = [f.name for f in dataclasses.fields(self)]
        unknown = sorted(set(changes) - set(names))
        if unknown:
            raise ValueError(f"{type(self).__name__} has no field {', '.join(unknown)}: fields are {', '.join(names)}")
        return dataclasses.replace(self, **changes)

    @classmethod
    def spec(cls) -> list[dict[str, Any]]:
        """One dict per field: name, type, default and its range metadata (used by the widgets)."""
        hints = typing.get_type_hints(cls)
        return [
            {"name": f.name, "type": hints[f.name], "default": f.default, **f.metadata} for f in dataclasses.fields(cls)
        ]

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def sweep(cfg: Config, name: str, values: Iterable[Any]) -> Iterator[Config]:
    """Configs that differ from ``cfg`` only in field ``name`` (for precomputed sweeps)."""
    for value in values:
        yield cfg.replace(**{name: value})
