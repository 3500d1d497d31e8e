"""The guards around training: a NaN or infinite loss, weight or optimiser state stops the run, truthfully.

:class:`TrainingDiverged` is raised with the step and what the run left on disk; the
losses are checked when they are logged (every ``log_every`` steps, one host sync for
the whole window), the weights and optimiser states then and before every save.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import torch
from torch import nn

from gancourse.checkpoints import nonfinite_entries

ADVICE = "Lower the learning rates, or check the data for NaNs."


class TrainingDiverged(RuntimeError):
    """A loss, a weight or an optimiser state became NaN or infinite.

    The message names the step and the last good checkpoint.
    """


def last_good(checkpoint_path: Path | None, saved_step: int | None) -> str:
    """What a diverged run left on disk, said truthfully."""
    if checkpoint_path and checkpoint_path.exists() and saved_step is not None:
        return f"the last good checkpoint, {checkpoint_path} (step {saved_step}), is intact"
    if checkpoint_path and checkpoint_path.exists():
        return f"{checkpoint_path} was not overwritten by this run"
    return "no checkpoint was written"


def checked_window(window: Sequence[tuple[int, dict[str, torch.Tensor]]], last: str) -> tuple[list[str], torch.Tensor]:
    """The per-step values not yet logged as ``(names, (T, K) table)``; TrainingDiverged on a NaN or inf.

    ``window`` holds ``(step index, {name: value})`` per step; ``last`` is :func:`last_good`'s sentence.
    """
    names = list(window[0][1])
    table = torch.stack([torch.stack([values[n] for n in names]) for _, values in window]).cpu()  # (T, K)
    finite = torch.isfinite(table).all(dim=1)
    if not finite.all():
        bad = int((~finite).nonzero()[0])
        step = window[bad][0] + 1
        which = ", ".join(
            f"{n} = {float(table[bad, i])}" for i, n in enumerate(names) if not torch.isfinite(table[bad, i])
        )
        raise TrainingDiverged(f"training diverged at step {step}: {which}. Stopped; {last}. {ADVICE}")
    return names, table


def check_weights(
    networks: dict[str, nn.Module],
    optimizers: dict[str, torch.optim.Optimizer],
    device: torch.device,
    step: int,
    last: str,
) -> None:
    """TrainingDiverged if a weight or an optimiser state is NaN/inf (a NaN gradient with finite losses)."""
    tensors = [t for m in networks.values() for t in m.state_dict().values() if t.is_floating_point()]
    tensors += [
        t
        for opt in optimizers.values()
        for st in opt.state.values()
        for t in st.values()
        if isinstance(t, torch.Tensor) and t.is_floating_point()
    ]
    # one host sync for all of them; Adam keeps its step counts on the CPU even for CUDA weights
    if not tensors or bool(torch.stack([torch.isfinite(t).all().to(device) for t in tensors]).all()):
        return
    named: Iterable[tuple[str, nn.Module | torch.optim.Optimizer]] = [*networks.items(), *optimizers.items()]
    bad = [name for key, owner in named for name in nonfinite_entries(owner.state_dict(), key)]
    shown = ", ".join(bad[:4]) + (f" and {len(bad) - 4} more" if len(bad) > 4 else "")
    raise TrainingDiverged(
        f"training diverged by step {step}: NaN or inf in {shown} although the logged losses were finite "
        f"(a NaN gradient). Stopped; {last}. {ADVICE}"
    )
