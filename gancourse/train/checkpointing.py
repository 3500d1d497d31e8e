"""How a trainer is saved and restored: :class:`Checkpointing`, over the registry of its stateful parts.

Mixed into :class:`~gancourse.train.loop.GANTrainer`. :meth:`Checkpointing._register_state`
lists every stateful part once (:class:`~gancourse.train.state.TrainerState`); the
checkpoint (:meth:`save`, :meth:`load`) and the undo of an interrupted step both read
that list. Checkpoints are written atomically and never with NaN or inf weights
(:func:`gancourse.checkpoints.save_checkpoint`); a load is all or nothing.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from gancourse.checkpoints import (
    CheckpointError,
    NonFiniteState,
    config_differences,
    config_record,
    generator_state,
    load_checkpoint,
    nonfinite_entries,
    require_keys,
    rng_state,
    save_checkpoint,
    set_generator_state,
    set_rng_state,
)
from gancourse.losses import HistoricallyAveraged
from gancourse.train.guards import TrainingDiverged
from gancourse.train.state import TrainerState


class Checkpointing:
    """:meth:`save`, :meth:`load` and :meth:`state_dict` of a trainer, from its registered state."""

    def _register_state(self) -> TrainerState:
        """Every stateful part once, in restore order: checkpoints and atomic steps both read this list."""
        state = TrainerState()
        state.module("generator", lambda: self.generator)
        state.module("discriminator", lambda: self.discriminator)
        if self.average is not None:
            state.module("generator_ema", lambda: self.average.module)
        state.optimizer("opt_g", self.opt_g)
        state.optimizer("opt_d", self.opt_d)
        state.value("schedulers", lambda: [s.state_dict() for s in self.schedulers], self._put_schedulers)
        for name, scaler in zip(("scaler_g", "scaler_d"), self.precision.scalers, strict=True):
            state.value(name, scaler.state_dict, scaler.load_state_dict)
        for name in ("data_rng", "noise_rng", "inference_rng"):  # the noise generator is tagged with its device
            rng = getattr(self, name)
            state.value(
                name,
                lambda rng=rng: generator_state(rng),
                lambda s, rng=rng: set_generator_state(rng, s),
                copy=_fresh,
                optional=name == "inference_rng",  # absent from checkpoints written before it existed
            )
        state.value("global_rng", rng_state, set_rng_state, copy=_fresh)
        state.value("step", lambda: self.step, lambda s: setattr(self, "step", int(s)), copy=_fresh)
        state.value("history", lambda: self.history, self._put_history, copy=_copy_history)
        state.value("window", lambda: [[i, v] for i, v in self._window], self._put_window, copy=list, optional=True)
        state.value("samples", lambda: [[i, x] for i, x in self.samples], self._put_samples, copy=list)
        if hasattr(self.objective, "state_dict"):  # historical averaging's running means, a lazy counter
            name = "historical" if isinstance(self.objective, HistoricallyAveraged) else "objective"
            state.value(name, self.objective.state_dict, self.objective.load_state_dict)
        return state

    def _put_schedulers(self, states: list[dict[str, Any]]) -> None:
        for scheduler, s in zip(self.schedulers, states, strict=True):
            scheduler.load_state_dict(s)

    def _put_history(self, history: dict[str, list[float]]) -> None:
        self.history = {k: list(v) for k, v in history.items()}

    def _put_window(self, window: list) -> None:
        self._window = [(int(step), dict(values)) for step, values in window]

    def _put_samples(self, samples: list) -> None:
        self.samples = [(int(step), images.cpu()) for step, images in samples]

    def _undo(self, snapshot: dict[str, Any]) -> None:
        """Put back the state kept at the start of an interrupted step (or before a failed load)."""
        self.state.undo(snapshot)
        self._restored()

    def _restored(self) -> None:
        if self.average is not None:
            self.average.statistics_at = None  # the average's batch-norm statistics are recomputed before use
        self.after_restore()

    def after_restore(self) -> None:
        """Called after a checkpoint or an interrupted step was restored (ProGAN sets its stage here)."""

    def state_dict(self) -> dict[str, Any]:
        """Everything a resume needs; in a data-parallel run a collective (every rank's RNG states)."""
        state = {
            **config_record(self.cfg),
            **self.state.state_dict(),
            "finished": self.step >= self.cfg.steps,
            "networks": [type(self.generator).__name__, type(self.discriminator).__name__],
        }
        rank_rng = self.parallel.rng_states(self)
        if rank_rng is not None:
            state["rank_rng"] = rank_rng
        return state

    def save(self, path: str | os.PathLike | None = None) -> Path:
        """Write a checkpoint (atomically) to ``path`` or ``checkpoint_path``.

        Never writes NaN or inf weights or optimiser state: :class:`TrainingDiverged`
        is raised instead and the previous checkpoint stays as it was. The new file
        replaces the old one only after it was written, flushed and read back.
        """
        if self._window:
            self._checked_window()  # never save weights whose recent losses were not checked
        target = Path(path) if path else self.checkpoint_path
        if target is None:
            raise ValueError("path = None and no checkpoint_path was given: say where to save")
        state = self.state_dict()  # a collective in a data-parallel run: every rank calls it
        try:
            if self.rank == 0:  # only rank 0 writes
                written = save_checkpoint(target, state, finite=self.finite_keys())
            else:
                bad = [name for key in self.finite_keys() for name in nonfinite_entries(state[key], key)]
                if bad:
                    raise NonFiniteState(f"not saving {target}: NaN or inf in {', '.join(bad[:5])}")
                written = target
        except NonFiniteState as err:
            raise TrainingDiverged(
                f"training diverged by step {self.step}: {err}; the losses were finite (a NaN gradient). "
                f"Stopped; {self._last_good()}. Lower the learning rates, or check the data for NaNs."
            ) from err
        if target == self.checkpoint_path:
            self._saved_step = self.step
        return written

    def load(self, path: str | os.PathLike | None = None) -> int:
        """Restore everything from a checkpoint of the same config; returns the step reached."""
        source = Path(path) if path else self.checkpoint_path
        if source is None:
            raise ValueError("path = None and no checkpoint_path was given: say what to load")
        state = load_checkpoint(source, map_location=self.device)
        require_keys(state, ("config_class", "config", *self.state.required), source)
        differ = config_differences(self.cfg, state)
        if differ:
            raise CheckpointError(
                f"{source} was trained with another configuration ({state['config_class']}; differs in: "
                f"{', '.join(differ)}): delete it or use a matching config"
            )
        mine = [type(self.generator).__name__, type(self.discriminator).__name__]
        if "networks" in state and list(state["networks"]) != mine:
            raise CheckpointError(
                f"{source} holds a {' and a '.join(state['networks'])}, but this trainer has a {' and a '.join(mine)}: "
                "it was written by another builder with the same config; load it with that builder"
            )
        if len(state["schedulers"]) != len(self.schedulers):
            raise CheckpointError(
                f"{source} holds {len(state['schedulers'])} learning-rate scheduler(s), this trainer has "
                f"{len(self.schedulers)}: build it with the same schedulers"
            )
        before = self.state.snapshot()
        try:  # all or nothing: a mismatch half way puts everything back
            self.state.load_state_dict(state)
            self.parallel.restore_rng_states(self, state)  # a data-parallel rank's own streams
            self._restored()
        except CheckpointError:
            self._undo(before)
            raise
        except Exception as err:
            self._undo(before)
            detail = " ".join(str(err).split())[:600]
            raise CheckpointError(
                f"{source} does not fit this trainer ({type(err).__name__}: {detail}); nothing was loaded. "
                "Was it written by another builder or version? Delete it, or load it with the builder that wrote it"
            ) from err
        self._saved_step = self.step if source == self.checkpoint_path else self._saved_step
        return self.step


def _copy_history(history: dict[str, list[float]]) -> dict[str, list[float]]:
    return {k: list(v) for k, v in history.items()}


def _fresh(value: Any) -> Any:
    """The copy of a value that its getter already returns fresh (a step count, a random state)."""
    return value
