"""Ctrl-C and SIGTERM during ``python -m gancourse train``: stop, save the run, say how to resume it.

The trainer's steps are atomic (:meth:`gancourse.train.loop.GANTrainer.train`): an exception
anywhere in a step puts back the state of its start before it propagates. :func:`interruptible`
turns SIGINT and SIGTERM into such an exception (:class:`Interrupted`), so that after one the
trainer holds the state after its last finished step, which the command line then saves, also
for recipes that save no periodic checkpoint (``checkpoint_every`` 0 or at least ``steps``).
A second signal while that save runs is only reported: cutting the save short would lose
the run (the save itself is atomic: a kill -9 there keeps the previous checkpoint).
The exit status is the shell's for a process stopped by the signal: 128 + its number
(130 for SIGINT, 143 for SIGTERM).
"""

from __future__ import annotations

import contextlib
import shlex
import signal
import sys
import threading
from collections.abc import Iterator, Sequence

#: The signals that stop a training run and have it saved.
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived (``signum``); a ``KeyboardInterrupt``, so every step's undo sees it."""

    def __init__(self, signum: int) -> None:
        self.signum = int(signum)
        super().__init__(self.name)

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def status(self) -> int:
        """The exit status of a command stopped by this signal: 128 + its number."""
        return 128 + self.signum


@contextlib.contextmanager
def interruptible(enabled: bool = True) -> Iterator[None]:
    """Inside the block the first SIGINT or SIGTERM raises :class:`Interrupted`; later ones are only reported.

    The previous handlers come back when the block ends. With ``enabled`` False, and
    outside the main thread, where Python cannot install signal handlers, the block runs
    with the handlers as they are.
    """
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield
        return
    first: list[int] = []

    def handler(signum: int, frame: object) -> None:
        if first:  # the run is being saved: let the save finish
            name = signal.Signals(signum).name
            print(f"\n{name}: still saving the run, a moment (kill -9 keeps the previous checkpoint)", file=sys.stderr)
            return
        first.append(signum)
        raise Interrupted(signum)

    previous = {number: signal.signal(number, handler) for number in SIGNALS}
    try:
        yield
    finally:
        for number, before in previous.items():
            signal.signal(number, before)


def resume_command(name: str, argv: Sequence[str] | None, mode: str, out: str) -> str:
    """The command that continues the run ``name`` exactly: the options it was started with, and ``--resume``.

    ``argv`` are the options given after the recipe's name (None: not known, then the
    folder and mode alone, and the config options must be repeated by hand). ``--mode``
    and ``--out`` are added where the first run took them from the environment, so the
    resumed run finds the same config and folder on any machine.
    """
    words = [word for word in argv or () if word != "--resume"]

    def given(option: str) -> bool:
        return any(word == option or word.startswith(option + "=") for word in words)

    if not given("--mode"):
        words += ["--mode", mode]
    if not given("--out"):
        words += ["--out", out]
    return shlex.join(["python", "-m", "gancourse", "train", name, *words, "--resume"])
