"""Data-parallel GAN training with DistributedDataParallel: ``torchrun --nproc_per_node=N -m gancourse train ...``.

Every process (a *rank*) holds a full copy of G and D and the same optimisers. In
each step every rank draws its own real batch and its own noise (``batch_size``
is per process, so the effective batch is N x ``batch_size``), computes its
losses, and DistributedDataParallel (DDP, Li et al. 2020) averages the gradients
of all ranks during ``backward()`` before each optimiser applies them. Since the
models start identical (DDP broadcasts rank 0's weights when it wraps them) and
every rank then applies the same averaged gradient, the copies stay identical; one
step on N ranks with batch B is one step with batch N x B, whose losses are means
over the batch.

A GAN step needs three decisions that a classifier step does not:

* **Which forwards are synchronised.** D's update goes through D's DDP wrapper
  (real, fake and, for WGAN-GP, the interpolates of the gradient penalty: the
  penalty's ``autograd.grad(create_graph=True)`` computes input gradients only and
  does not trigger DDP; the single ``backward()`` of loss plus penalty does). G's
  update goes through G's wrapper, but through the *unwrapped* D: D's gradients
  are not applied in that step (D is frozen with ``requires_grad_(False)``, or its
  gradients are cleared before its next step), and a DDP forward whose
  parameters then get no gradient would leave DDP waiting for them. The fakes of
  D's step come from G's wrapper too, without a graph unless G's update reuses them
  (``GANConfig.reuse_fake``); D sees them detached.
* **Batch norm.** On CUDA every ``BatchNorm`` becomes ``SyncBatchNorm``: batch
  statistics over the whole N x B batch, as in one process. ``SyncBatchNorm`` is
  CUDA-only; on CPUs (gloo) each rank normalises with its own B samples, which
  changes the result a little. Running statistics are not broadcast between
  ranks before each forward (``forward_sync_buffers=False``, formerly
  ``broadcast_buffers=False``: a broadcast between D's several forwards would modify
  buffers in place between forward and backward); they start equal (rank 0's) and
  are used only in eval mode, on rank 0, which saves its own.
* **Unused parameters.** ProGAN's growing networks leave the blocks of the
  resolutions not yet reached without gradients: their wrappers are built with
  ``find_unused_parameters=True``, which lets DDP skip them.

Only rank 0 shows progress, logs (its own losses, on its share of the batch), keeps
and writes samples, evaluates and writes checkpoints. A checkpoint holds every rank's RNG states (data, noise and global
streams, gathered to rank 0), so a run resumed with the same number of processes
continues exactly.
"""

from __future__ import annotations

import dataclasses
import inspect
import os
from typing import TYPE_CHECKING, Any

import torch
import torch.distributed as dist
from torch import nn

from gancourse.checkpoints import rng_state
from gancourse.device import seed_everything
from gancourse.train.parallel import OneProcess

if TYPE_CHECKING:
    from gancourse.train.loop import GANTrainer

#: Rank r > 0 seeds its streams with seed + r * RANK_STRIDE (rank 0 keeps a one-process run's streams).
RANK_STRIDE = 1_000_003


@dataclasses.dataclass(frozen=True)
class Launch:
    """This process's place in a data-parallel run: rank, number of processes, device and backend."""

    rank: int
    world_size: int
    local_rank: int
    device: torch.device
    backend: str

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def launched() -> bool:
    """True when torchrun (or another launcher) started this process as one of several: ``WORLD_SIZE`` > 1."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def init_from_env(device: str | torch.device | None = None) -> Launch | None:
    """Join the process group torchrun describes (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR/PORT``).

    Returns None in a single process. The backend is NCCL on GPUs (rank r uses
    GPU ``LOCAL_RANK``) and gloo on CPUs; ``device="cpu"`` forces CPU processes.
    """
    if not launched():
        return None
    rank, world_size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ.get("LOCAL_RANK", rank))
    want = torch.device(device) if device is not None else None
    if (want is None or want.type == "cuda") and torch.cuda.is_available():
        if local_rank >= torch.cuda.device_count():
            raise ValueError(
                f"LOCAL_RANK = {local_rank} but this node has {torch.cuda.device_count()} GPUs: "
                "start at most one process per GPU (--nproc_per_node)"
            )
        torch.cuda.set_device(local_rank)
        chosen, backend = torch.device("cuda", local_rank), "nccl"
    elif want is None or want.type == "cpu":
        chosen, backend = torch.device("cpu"), "gloo"
    else:
        raise ValueError(f"device = {str(device)!r} is not supported for data-parallel training: use 'cuda' or 'cpu'")
    if not dist.is_initialized():
        dist.init_process_group(backend, rank=rank, world_size=world_size)
    return Launch(rank, world_size, local_rank, chosen, backend)


def finish(launch: Launch | None) -> None:
    """Leave the process group (after the last collective)."""
    if launch is not None and dist.is_initialized():
        dist.destroy_process_group()


def rank_seed(seed: int, rank: int) -> int:
    """The seed of rank ``rank``'s stream for a run seeded with ``seed``: rank 0 keeps ``seed``."""
    return (seed + rank * RANK_STRIDE) % 2**32


class DataParallel(OneProcess):
    """One rank of a data-parallel run: G and D in DistributedDataParallel wrappers.

    :meth:`attach` (the trainer calls it, through :func:`distribute`) reseeds rank r > 0's
    data, noise and global streams (:func:`rank_seed`), turns batch norm into
    ``SyncBatchNorm`` on CUDA, and wraps G and D; the training step's forwards go through
    the wrappers (``generator``, ``discriminator``). The trainer must have been built on
    ``launch.device`` with the run's seed on every rank.
    """

    def __init__(self, launch: Launch) -> None:
        self.launch = launch
        self.rank, self.world_size = launch.rank, launch.world_size

    def attach(self, trainer: GANTrainer) -> DataParallel:
        launch = self.launch
        if trainer.device != launch.device:
            raise ValueError(f"the trainer is on {trainer.device} but this rank uses {launch.device}: build it there")
        if launch.rank:
            seed = trainer.cfg.seed
            trainer.data_rng.manual_seed(rank_seed(seed, launch.rank))
            trainer.noise_rng.manual_seed(rank_seed(seed + 1, launch.rank))
            seed_everything(rank_seed(seed, launch.rank))  # dropout, the penalty's interpolation weights
        if launch.device.type == "cuda":
            # the parameters stay the same objects, so the optimisers need no rebuilding
            trainer.generator = nn.SyncBatchNorm.convert_sync_batchnorm(trainer.generator)
            trainer.discriminator = nn.SyncBatchNorm.convert_sync_batchnorm(trainer.discriminator)
        self.generator = wrap(trainer.generator, launch)
        self.discriminator = wrap(trainer.discriminator, launch)
        return self

    def rng_states(self, trainer: GANTrainer) -> list[dict[str, Any]]:
        """Every rank's data, noise and global RNG states, in rank order (a collective: every rank calls it)."""
        states: list[Any] = [None] * self.world_size
        dist.all_gather_object(states, _own_rng_states(trainer))
        return states


def distribute(trainer: GANTrainer, launch: Launch) -> GANTrainer:
    """Make ``trainer`` one rank of a data-parallel run (:class:`DataParallel`); returns it."""
    trainer.run_in(DataParallel(launch))
    return trainer


def wrap(module: nn.Module, launch: Launch) -> nn.parallel.DistributedDataParallel:
    """``module`` in DDP: rank 0's weights (and buffers) broadcast now, gradients averaged in every backward."""
    ddp = nn.parallel.DistributedDataParallel
    # no buffer broadcast before each forward (PyTorch >= 2.15 names the option forward_sync_buffers)
    no_forward_sync = (
        {"forward_sync_buffers": False}
        if "forward_sync_buffers" in inspect.signature(ddp.__init__).parameters
        else {"broadcast_buffers": False}
    )
    return ddp(
        module,
        device_ids=[launch.device.index] if launch.device.type == "cuda" else None,
        **no_forward_sync,
        # ProGAN: the blocks of resolutions not yet reached (and a finished fade-in's skip path) get no gradient
        find_unused_parameters=hasattr(module, "set_stage"),
    )


def _own_rng_states(trainer: GANTrainer) -> dict[str, Any]:
    return {
        "data_rng": trainer.data_rng.get_state(),
        "noise_rng": trainer.noise_rng.get_state(),
        "global_rng": rng_state(),
    }
