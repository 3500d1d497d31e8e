"""The trainer's state, registered once: what a checkpoint holds and what an interrupted step undoes.

:class:`TrainerState` is one list of the trainer's stateful parts (networks,
optimisers, schedulers, gradient scalers, random streams, step, history, samples, the
objective's own state). Both uses read the same list, so a part added to the trainer is
checkpointed and undone alike:

* :meth:`TrainerState.state_dict` / :meth:`TrainerState.load_state_dict`: the checkpoint;
* :meth:`TrainerState.snapshot` / :meth:`TrainerState.undo`: the in-memory copy at the
  start of each step, put back when the step is interrupted (atomic steps). Networks and
  optimiser states are copied tensor by tensor into reused buffers (:class:`ReusedCopies`)
  and put back in place, since the optimisers hold the very parameter tensors.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from typing import Any

import torch
from torch import nn


def clone(value: Any) -> Any:
    """A deep copy of nested dicts/lists/tuples whose tensors are cloned (a state dict holds live tensors)."""
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, dict):
        return {k: clone(x) for k, x in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(clone(x) for x in value)
    return value


class ReusedCopies:
    """Copies of a list of tensors, kept in buffers that are reused while the tensors' shapes stay the same.

    The per-step copy of atomic steps: no allocation after the first step, and one fused
    ``torch._foreach_copy_`` per (device, dtype) group, so that a launch-bound GPU step or a
    small CPU step does not pay for cloning every weight and Adam moment one by one.
    """

    def __init__(self) -> None:
        self._layout: list[tuple[torch.Size, torch.dtype, torch.device]] = []
        self._buffers: list[torch.Tensor] = []
        self._groups: list[list[int]] = []

    @torch.no_grad()
    def save(self, tensors: list[torch.Tensor]) -> list[torch.Tensor]:
        """Copy ``tensors`` into the buffers (reallocated when the shapes changed); returns the buffers."""
        layout = [(t.shape, t.dtype, t.device) for t in tensors]
        if layout != self._layout:
            self._layout = layout
            self._buffers = [torch.empty_like(t) for t in tensors]  # same strides (channels_last too)
            groups: dict[tuple[torch.device, torch.dtype], list[int]] = {}
            for i, t in enumerate(tensors):
                groups.setdefault((t.device, t.dtype), []).append(i)
            self._groups = list(groups.values())
        for index in self._groups:
            torch._foreach_copy_([self._buffers[i] for i in index], [tensors[i] for i in index])
        return self._buffers


@dataclasses.dataclass
class Part:
    """One stateful part: how to read it for a checkpoint, how to put it back, how to copy it for an undo.

    ``kind`` is "module" or "optimizer" (undone in place from tensor copies) or "value"
    (undone by ``put(copy(get()))``). ``optional``: checkpoints written before the part
    existed may lack it. ``finite``: it must never hold NaN or inf (checked before a save).
    """

    name: str
    kind: str
    get: Callable[[], Any]
    put: Callable[[Any], None]
    copy: Callable[[Any], Any] = clone
    optional: bool = False
    finite: bool = False
    target: Any = None  # the module or optimiser itself, for the in-place undo


class TrainerState:
    """The registry of a trainer's stateful parts, in the order they are restored."""

    def __init__(self) -> None:
        self.parts: dict[str, Part] = {}
        self._copies = ReusedCopies()

    def module(self, name: str, module: Callable[[], nn.Module], optional: bool = False) -> None:
        """A network (``module()`` returns it now: G may be replaced, e.g. by its ``SyncBatchNorm`` version)."""
        self._add(
            Part(name, "module", lambda: module().state_dict(), lambda s: module().load_state_dict(s), finite=True,
                 optional=optional, target=module)
        )  # fmt: skip

    def optimizer(self, name: str, optimizer: torch.optim.Optimizer) -> None:
        self._add(
            Part(name, "optimizer", optimizer.state_dict, optimizer.load_state_dict, finite=True, target=optimizer)
        )

    def value(
        self,
        name: str,
        get: Callable[[], Any],
        put: Callable[[Any], None],
        copy: Callable[[Any], Any] = clone,
        optional: bool = False,
    ) -> None:
        """Anything else: ``get()`` for the checkpoint, ``put(value)`` to restore, ``copy`` for the undo."""
        self._add(Part(name, "value", get, put, copy, optional))

    def _add(self, part: Part) -> None:
        if part.name in self.parts:
            raise ValueError(f"the trainer's state already has a part named {part.name!r}")
        self.parts[part.name] = part

    @property
    def required(self) -> tuple[str, ...]:
        """The entries every checkpoint of this trainer holds."""
        return tuple(name for name, part in self.parts.items() if not part.optional)

    @property
    def finite(self) -> tuple[str, ...]:
        """The entries that must be finite before a checkpoint is written."""
        return tuple(name for name, part in self.parts.items() if part.finite)

    def networks(self) -> dict[str, nn.Module]:
        """The registered networks by name, in restore order."""
        return {name: part.target() for name, part in self.parts.items() if part.kind == "module"}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """The registered optimisers by name, in restore order."""
        return {name: part.target for name, part in self.parts.items() if part.kind == "optimizer"}

    # ---- checkpoints --------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        return {name: part.get() for name, part in self.parts.items()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore every part ``state`` holds (an optional part it lacks keeps its value)."""
        for name, part in self.parts.items():
            if name in state:
                part.put(state[name])

    # ---- atomic steps -------------------------------------------------------------------

    def _tensors(self) -> tuple[list[torch.Tensor], list[list[tuple[Any, dict[str, Any], list[str]]]]]:
        """The tensors a step updates in place (the networks' parameters and buffers, then the optimisers'
        per-parameter states) and, per optimiser, ``(parameter, non-tensor entries, tensor keys)``."""
        tensors = [t for m in self.networks().values() for t in (*m.parameters(), *m.buffers())]
        layouts = []
        for optimizer in self.optimizers().values():
            layout = []
            for param, entry in optimizer.state.items():
                keys = [k for k, v in entry.items() if isinstance(v, torch.Tensor)]
                tensors += [entry[k] for k in keys]
                layout.append((param, {k: copy.deepcopy(v) for k, v in entry.items() if k not in keys}, keys))
            layouts.append(layout)
        return tensors, layouts

    def snapshot(self) -> dict[str, Any]:
        """Everything a step may change, copied (the tensors into reused buffers); put back by :meth:`undo`."""
        tensors, layouts = self._tensors()
        optimizers = self.optimizers().values()
        return {
            "tensors": self._copies.save(tensors),
            "n_module_tensors": len(tensors) - sum(len(keys) for layout in layouts for _, _, keys in layout),
            "layouts": layouts,
            "param_groups": [
                [{k: copy.copy(v) for k, v in group.items() if k != "params"} for group in optimizer.param_groups]
                for optimizer in optimizers
            ],
            "values": {name: part.copy(part.get()) for name, part in self.parts.items() if part.kind == "value"},
        }

    @torch.no_grad()
    def undo(self, snapshot: dict[str, Any]) -> None:
        """Put back the state :meth:`snapshot` kept at the start of an interrupted step."""
        saved, n = snapshot["tensors"], snapshot["n_module_tensors"]
        modules = [t for m in self.networks().values() for t in (*m.parameters(), *m.buffers())]
        if [(t.shape, t.dtype) for t in modules] != [(t.shape, t.dtype) for t in saved[:n]]:
            raise RuntimeError("atomic step: the networks' tensors changed shape during the step; cannot undo it")
        for tensor, kept in zip(modules, saved[:n], strict=True):  # in place: the optimisers hold these tensors
            tensor.copy_(kept)
        index = n
        for optimizer, layout, groups in zip(
            self.optimizers().values(), snapshot["layouts"], snapshot["param_groups"], strict=True
        ):
            optimizer.state.clear()  # entries a step created (Adam's first step) go; the others come back
            for param, plain, keys in layout:
                entry = copy.deepcopy(plain)
                for key in keys:
                    entry[key] = saved[index].clone()  # the buffers are overwritten by the next snapshot
                    index += 1
                optimizer.state[param] = entry
            for group, hyperparameters in zip(optimizer.param_groups, groups, strict=True):
                group.update(hyperparameters)  # a scheduler's learning rate
        for name, value in snapshot["values"].items():
            self.parts[name].put(value)
