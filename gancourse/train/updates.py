"""How a player is updated: one call for an optimiser step under mixed precision, and the frozen opponent.

:class:`MixedPrecision` holds what the training step should not have to read: autocast
for the forward passes, and with float16 one gradient scaler per optimiser
(``torch.amp.GradScaler``), so that the step says only ``update(optimizer, loss)``.
:func:`frozen` switches a network's gradients off for the other player's update.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import torch
from torch import nn

from gancourse.device import autocast


class MixedPrecision:
    """Autocast (bfloat16, or float16 with loss scaling) around the step, full precision for its updates.

    ``enabled`` is ``cfg.amp``: bfloat16 on CUDA where supported and on the CPU, float16
    with a gradient scaler on older GPUs (float16's small exponent range lets small
    gradients underflow; bfloat16 has float32's); off, every call is plain float32.
    """

    def __init__(self, device: torch.device, enabled: bool, optimizers: Sequence[torch.optim.Optimizer]) -> None:
        self.device, self.enabled = device, enabled
        fp16 = enabled and device.type == "cuda" and not torch.cuda.is_bf16_supported()
        self.scalers = [torch.amp.GradScaler(device.type, enabled=fp16) for _ in optimizers]
        self._scaler = {id(opt): scaler for opt, scaler in zip(optimizers, self.scalers, strict=True)}
        self._active = enabled and device.type in ("cpu", "cuda")

    def autocast(self) -> contextlib.AbstractContextManager:
        """Mixed precision for the forward passes and losses (:func:`gancourse.device.autocast`)."""
        return autocast(self.device, self.enabled, cpu=True)

    def update(self, optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> None:
        """One optimiser step on ``loss``: clear the gradients, backward (scaled for float16), step.

        The backward pass and the step run outside autocast (PyTorch's advice: autocast
        covers the forward passes; each backward op runs in its forward op's precision).
        """
        scaler = self._scaler[id(optimizer)]
        outside = torch.autocast(self.device.type, enabled=False) if self._active else contextlib.nullcontext()
        with outside:
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()

    def state_dicts(self) -> list[dict[str, Any]]:
        return [scaler.state_dict() for scaler in self.scalers]


@contextlib.contextmanager
def frozen(module: nn.Module, enabled: bool = True) -> Iterator[nn.Module]:
    """``module`` with ``requires_grad_(False)`` inside the block; each parameter's flag restored afterwards.

    The generator's loss goes through D, so its backward() would also fill D's ``.grad``;
    freezing D skips that work (D's gradients are cleared before its next update anyway).
    The flags come back also when an exception or Ctrl-C interrupts the block.
    """
    flags = [p.requires_grad for p in module.parameters()]
    if enabled:
        module.requires_grad_(False)
    try:
        yield module
    finally:
        for p, flag in zip(module.parameters(), flags, strict=True):
            p.requires_grad_(flag)
