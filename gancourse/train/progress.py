"""How long a run will take: said before training, and again after a short warm-up.

:class:`RunTimer` is what :meth:`GANTrainer.train` shows in its progress bar (tqdm, whose
bar also counts the elapsed time and the ETA of the steps left). Before the first step it
gives the steps and the estimate of :mod:`gancourse.config.budget` for this kind of device
(an NVIDIA T4 for a GPU, the CI machine's CPU rate for a CPU); after ``warmup_steps``
steps or ``warmup_seconds`` seconds, whichever comes first, the rate it measured and the
expected remaining and total time. Both go into the bar's description (``show``), which
disappears with the bar, so a finished cell keeps only its results; a run expected to take
over 30 minutes also prints (``out``) how to shorten it, which stays.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from gancourse.config import budget

#: a run expected to take longer than this (seconds) says how to shorten it
LONG_RUN = 1800.0
SHORTEN = "to shorten it: train(steps=N), a config's .replace(steps=N), or mode='quick' / GANCOURSE_MODE=quick"


def first_estimate(cfg: Any, steps: int, device_type: str) -> tuple[float, str]:
    """Seconds for ``steps`` generator steps of ``cfg`` and where that estimate comes from (nan: no estimate)."""
    try:
        if device_type == "cpu":
            return budget.cpu_seconds(cfg, steps), "a CPU like the CI machine's, one thread"
        return budget.t4_seconds(cfg, steps), "an NVIDIA T4"
    except ValueError:  # a config without a FLOP count: the warm-up measures it
        return float("nan"), "no estimate for this config"


class RunTimer:
    """Prints the expected wall time of a run before it starts and again after a warm-up.

    ``clock`` (seconds), ``show`` (the bar's description) and ``out`` (a print function) are
    injectable, so that tests can use a fake clock.
    """

    def __init__(
        self,
        cfg: Any,
        start: int,
        target: int,
        device_type: str,
        name: str = "",
        warmup_steps: int = 20,
        warmup_seconds: float = 5.0,
        clock: Callable[[], float] = time.perf_counter,
        show: Callable[[str], None] = print,
        out: Callable[[str], None] = print,
    ) -> None:
        self.start, self.target, self.clock, self.show, self.out = start, target, clock, show, out
        self.warmup_steps, self.warmup_seconds = warmup_steps, warmup_seconds
        self.name = name or type(cfg).__name__.removesuffix("Config")
        self.measured = False
        seconds, source = first_estimate(cfg, target - start, device_type)
        what = f"about {budget.duration(seconds)} on {source}" if seconds == seconds else source
        self.show(f"training {self.name}: {target - start:,} steps, expected {what}")
        self._advise(seconds)
        self.t0 = self.clock()

    def update(self, step: int) -> None:
        """Called after every step with the trainer's step count; prints once, after the warm-up."""
        if self.measured:
            return
        done = step - self.start
        elapsed = self.clock() - self.t0
        if done < self.warmup_steps and elapsed < self.warmup_seconds:
            return
        self.measured = True
        if done <= 0 or step >= self.target:
            return
        per_step = elapsed / done
        left = per_step * (self.target - step)
        self.show(
            f"training {self.name}: {1 / per_step:.1f} steps/s here, "
            f"{budget.duration(elapsed + left)} in all expected ({budget.duration(left)} left)"
        )
        self._advise(elapsed + left)

    def _advise(self, seconds: float) -> None:
        if seconds == seconds and seconds > LONG_RUN:
            self.out(f"{self.name}: a long run ({budget.duration(seconds)} expected): {SHORTEN}")
