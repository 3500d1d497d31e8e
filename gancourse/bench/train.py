"""Benchmark: DCGAN training steps per second, the book's ``GANTrainer`` vs a plain loop.

    python -m gancourse.bench.train [--steps 60] [--image-size 32] [--base-channels 32]
                                    [--batch-size 64] [--device cuda] [--threads 0]

The *reference* is the plain DCGAN loop written inline below (Radford et al. 2015
with the losses of Goodfellow et al. 2014, Alg. 1, k = 1): one discriminator step
on a real and a detached fake batch, one generator step with the non-saturating
loss, nothing else. The *package path* is :class:`gancourse.train.GANTrainer`
on the same models, data, optimisers and batch size, with its history, its
divergence guard and its fixed-noise snapshots (no checkpoints, no progress bar).
On CUDA the package path is also run with its options ``amp`` (bfloat16 autocast
where supported) and ``channels_last``; on a CPU those options do nothing and are
skipped.

Every path trains a freshly initialised pair for ``--warmup`` steps (not timed:
allocations, cuDNN autotuning) and then ``--steps`` timed steps. The ratio
package/reference, measured in the same run, is the number to read: above 1.0 the
package is faster, below 1.0 its bookkeeping costs that much.
"""

from __future__ import annotations

import argparse
import datetime
import os
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F

from gancourse.config import DataConfig, DCGANConfig
from gancourse.data import preload
from gancourse.device import pick_device, seed_everything
from gancourse.models import DCGANDiscriminator, DCGANGenerator
from gancourse.train import GANTrainer, TensorSampler
from gancourse.bench import non_negative_int, positive_int


def reference_loop(cfg: DCGANConfig, images: torch.Tensor, device: torch.device) -> Callable[[int], None]:
    """A plain DCGAN loop; returns ``run(steps)``."""
    seed_everything(cfg.seed)
    generator = DCGANGenerator(cfg.latent_dim, cfg.base_channels, cfg.image_size).to(device)
    discriminator = DCGANDiscriminator(cfg.base_channels, cfg.image_size).to(device)
    opt_g = torch.optim.Adam(generator.parameters(), lr=cfg.lr_g, betas=(cfg.beta1, cfg.beta2))
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=cfg.lr_d, betas=(cfg.beta1, cfg.beta2))
    data_rng = torch.Generator().manual_seed(cfg.seed)
    b = cfg.batch_size

    def run(steps: int) -> None:
        for _ in range(steps):
            real = images[torch.randint(len(images), (b,), generator=data_rng)].to(device)  # (B, 1, H, W)
            fake = generator(torch.randn(b, cfg.latent_dim, device=device))
            real_logits, fake_logits = discriminator(real), discriminator(fake.detach())
            loss_d = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
            loss_d = loss_d + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            fake_logits = discriminator(generator(torch.randn(b, cfg.latent_dim, device=device)))
            loss_g = F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
        loss_g.item()  # waits for the device, like the trainer's logging does

    return run


def package_loop(cfg: DCGANConfig, images: torch.Tensor, device: torch.device) -> Callable[[int], None]:
    seed_everything(cfg.seed)
    generator = DCGANGenerator(cfg.latent_dim, cfg.base_channels, cfg.image_size)
    discriminator = DCGANDiscriminator(cfg.base_channels, cfg.image_size)
    trainer = GANTrainer(generator, discriminator, TensorSampler(images), cfg, device=device)

    def run(steps: int) -> None:
        trainer.train(trainer.step + steps, progress=False)

    return run


def timed_steps(run: Callable[[int], None], steps: int, warmup: int, device: torch.device) -> float:
    """Steps per second after ``warmup`` untimed steps."""
    run(warmup)
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    run(steps)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=positive_int, default=60, help="timed generator steps per path (default 60)")
    parser.add_argument("--warmup", type=non_negative_int, default=5, help="untimed steps before timing (default 5)")
    parser.add_argument("--image-size", type=positive_int, default=32, help="32 (MNIST-family) or 64")
    parser.add_argument("--base-channels", type=positive_int, default=32, help="DCGAN width (quick mode 32, full 64)")
    parser.add_argument("--batch-size", type=positive_int, default=64)
    parser.add_argument("--device", default=None, help="cpu, cuda, mps (default: the best available)")
    parser.add_argument(
        "--threads", type=non_negative_int, default=0, help="torch CPU threads (default 0: torch's choice)"
    )
    args = parser.parse_args(argv)
    if args.steps < 1 or args.warmup < 0:
        parser.error("--steps must be >= 1 and --warmup >= 0")
    if args.threads:
        torch.set_num_threads(args.threads)

    device = pick_device(args.device)
    cfg = DCGANConfig(
        image_size=args.image_size,
        base_channels=args.base_channels,
        batch_size=args.batch_size,
        log_every=10,
        sample_every=50,
        checkpoint_every=0,
    )  # check() validates the size and width
    images, _ = preload(DataConfig(dataset="mnist", image_size=cfg.image_size, limit=10_000))

    load = f" | load average {os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else ""
    print(
        f"date {datetime.date.today()} | torch {torch.__version__} | device {device} | "
        f"{os.cpu_count()} CPU cores, {torch.get_num_threads()} torch threads{load}"
    )
    print(
        f"DCGAN {cfg.image_size} px, base_channels {cfg.base_channels}, batch {cfg.batch_size}: "
        f"{args.steps} timed steps per path after {args.warmup} warm-up steps"
    )
    paths: list[tuple[str, Callable[[int], None]]] = [
        ("reference: plain loop", reference_loop(cfg, images, device)),
        ("package: GANTrainer", package_loop(cfg, images, device)),
    ]
    if device.type == "cuda":
        paths.append(("package: GANTrainer, channels_last", package_loop(cfg.replace(channels_last=True), images, device)))
        paths.append(("package: GANTrainer, amp + channels_last", package_loop(cfg.replace(amp=True, channels_last=True), images, device)))
    rates = [(name, timed_steps(run, args.steps, args.warmup, device)) for name, run in paths]
    reference = rates[0][1]
    print()
    print(f"{'path':<44} {'steps/s':>9} {'images/s':>9} {'ratio':>7}")
    for name, rate in rates:
        print(f"{name:<44} {rate:>9.2f} {rate * cfg.batch_size:>9.0f} {rate / reference:>6.2f}x")


if __name__ == "__main__":
    main()
