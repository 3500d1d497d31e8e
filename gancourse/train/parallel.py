"""How the trainer's networks run across processes: :class:`OneProcess`, the default.

The training step calls G and D through ``trainer.parallel.generator`` and
``trainer.parallel.discriminator``. In one process these are the networks
themselves; in a data-parallel run (:class:`gancourse.train.distributed.DataParallel`,
under torchrun) they are DistributedDataParallel wrappers whose backward passes
average the gradients of every process. Whatever differs between the two (which
process logs and saves, whose random streams a checkpoint holds) is asked of this
object, so the trainer needs no branch for it.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from gancourse.checkpoints import CheckpointError, set_generator_state, set_rng_state

# the trainer imports this module, not the reverse: it is annotated as ``Any`` here
GANTrainer = Any


class OneProcess:
    """One process: the networks as they are, rank 0 of 1."""

    rank = 0
    world_size = 1
    generator: nn.Module
    discriminator: nn.Module

    @property
    def is_main(self) -> bool:
        """The process that shows progress, logs, keeps samples and writes checkpoints."""
        return self.rank == 0

    def attach(self, trainer: GANTrainer) -> OneProcess:
        """Take ``trainer``'s networks (called by the trainer); returns self."""
        self.generator, self.discriminator = trainer.generator, trainer.discriminator
        return self

    def rng_states(self, trainer: GANTrainer) -> list[dict[str, Any]] | None:
        """Every process's random streams for a checkpoint; None in one process (the trainer's own are saved)."""
        return None

    def restore_rng_states(self, trainer: GANTrainer, state: dict[str, Any]) -> None:
        """Set this process's streams from a checkpoint written with the same number of processes.

        A finished run (one that ``trainer`` will not train further) loads with any number
        of processes, to sample or evaluate; an unfinished one resumes only with the number
        that wrote it, since every process has its own streams.
        """
        states = state.get("rank_rng") or []
        written_by = max(len(states), 1)
        if written_by != self.world_size:
            if state["step"] >= trainer.cfg.steps:
                return  # nothing left to train: the streams are never drawn from again
            raise CheckpointError(
                f"the checkpoint was written by {written_by} process(es) but this run has {self.world_size}: "
                f"every process has its own data and noise streams, so resume with {written_by} "
                f"(torchrun --nproc_per_node={written_by}) to continue it exactly, or start a new run"
            )
        if not states:
            return  # one process: the trainer's own streams were restored with the rest
        mine = _to_cpu(states[self.rank])
        set_generator_state(trainer.data_rng, mine["data_rng"])  # a bare state; another device's is re-seeded
        set_generator_state(trainer.noise_rng, mine["noise_rng"])
        set_rng_state(mine["global_rng"])


def _to_cpu(value: Any) -> Any:
    if hasattr(value, "cpu"):
        return value.cpu()
    if isinstance(value, dict):
        return {k: _to_cpu(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_to_cpu(v) for v in value)
    return value
