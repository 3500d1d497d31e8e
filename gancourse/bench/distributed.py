"""Benchmark: data-parallel DCGAN training throughput, 1 process vs N processes (DistributedDataParallel).

    python -m gancourse.bench.distributed [--processes 2] [--steps 20] [--warmup 3]
                                          [--batch-size 32] [--base-channels 32]
                                          [--threads 1] [--device cpu]

The *reference* is one process training the DCGAN of chapter 5 with
:class:`gancourse.train.GANTrainer` (no DDP). Then ``--processes`` ranks (gloo on
CPUs, NCCL on GPUs, on 127.0.0.1) train the same recipe with
:mod:`gancourse.train.distributed`, each with batch ``--batch-size``, so the
effective batch grows with the number of processes, as it does under torchrun.
Each process uses ``--threads`` intra-op threads. The number printed is real
images per second, summed over the processes (``processes x batch x steps /
seconds``, timed on rank 0 after ``--warmup`` steps and a barrier), and the ratio
to the reference measured in the same run: N processes scale perfectly at a ratio
of N. On a machine shared with other work the numbers move between runs.
"""

from __future__ import annotations

import argparse
import datetime
import os
import socket
import tempfile
import time
from pathlib import Path

import torch

from gancourse.config import DCGANConfig


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _images(n: int, size: int) -> torch.Tensor:
    return torch.rand(n, 1, size, size, generator=torch.Generator().manual_seed(0)) * 2 - 1  # (n, 1, S, S)


def _time_steps(trainer, warmup: int, steps: int, sync) -> float:
    for _ in range(warmup):
        trainer.train_step()
    sync()
    start = time.perf_counter()
    for _ in range(steps):
        trainer.train_step()
    sync()
    return time.perf_counter() - start


def _rank(rank: int, world_size: int, port: int, cfg: DCGANConfig, args: argparse.Namespace, out: str) -> None:
    import torch.distributed as dist

    from gancourse.train import distributed, recipes
    from gancourse.train.loop import TensorSampler

    torch.set_num_threads(args.threads)
    os.environ.update(
        MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world_size), LOCAL_RANK=str(rank)
    )
    recipes._images = lambda c: TensorSampler(_images(2048, c.image_size))
    launch = distributed.init_from_env(args.device)
    trainer = distributed.distribute(recipes.dcgan(cfg, device=launch.device), launch)

    def sync() -> None:
        if launch.device.type == "cuda":
            torch.cuda.synchronize()
        dist.barrier()

    seconds = _time_steps(trainer, args.warmup, args.steps, sync)
    if rank == 0:
        Path(out).write_text(str(seconds))
    distributed.finish(launch)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=2, help="processes of the data-parallel run (default 2)")
    parser.add_argument("--steps", type=int, default=20, help="timed generator steps (default 20)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first (default 3)")
    parser.add_argument("--batch-size", type=int, default=32, help="batch per process (default 32)")
    parser.add_argument("--base-channels", type=int, default=32, help="DCGAN width (default 32, quick mode)")
    parser.add_argument("--threads", type=int, default=1, help="intra-op threads per process (default 1)")
    parser.add_argument("--device", default="cpu", help="cpu (gloo) or cuda (NCCL, one GPU per process)")
    args = parser.parse_args(argv)
    if args.processes < 2 or args.steps < 1 or args.warmup < 0 or args.threads < 1:
        parser.error("need --processes >= 2, --steps >= 1, --warmup >= 0, --threads >= 1")
    if args.device.startswith("cuda") and torch.cuda.device_count() < args.processes:
        parser.error(f"--processes {args.processes} needs as many GPUs; this machine has {torch.cuda.device_count()}")
    cfg = DCGANConfig(batch_size=args.batch_size, base_channels=args.base_channels, checkpoint_every=0)

    from gancourse.train import recipes
    from gancourse.train.loop import TensorSampler

    torch.set_num_threads(args.threads)
    recipes._images = lambda c: TensorSampler(_images(2048, c.image_size))
    device = torch.device("cuda" if args.device.startswith("cuda") else "cpu")
    reference = recipes.dcgan(cfg, device=device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    one = args.batch_size * args.steps / _time_steps(reference, args.warmup, args.steps, sync)

    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "seconds")
        torch.multiprocessing.spawn(
            _rank, args=(args.processes, _free_port(), cfg, args, out), nprocs=args.processes, join=True
        )
        many = args.processes * args.batch_size * args.steps / float(Path(out).read_text())

    print(
        f"gancourse.bench.distributed, {datetime.date.today()}, PyTorch {torch.__version__}, {device.type}, "
        f"{os.cpu_count()} CPU cores, {args.threads} thread(s) per process"
    )
    print(
        f"DCGAN {cfg.image_size} px, base_channels {cfg.base_channels}, batch {args.batch_size} per process, "
        f"{args.steps} timed steps after {args.warmup}"
    )
    print(f"1 process (GANTrainer, no DDP):           {one:8.1f} real images/s")
    print(
        f"{args.processes} processes (DDP, {'nccl' if device.type == 'cuda' else 'gloo'}):"
        f"{' ' * (21 - len(str(args.processes)))}{many:8.1f} real images/s"
    )
    print(f"ratio {args.processes} processes / 1 process: {many / one:.2f} (perfect scaling: {args.processes})")


if __name__ == "__main__":
    main()
