"""Benchmark: DCGAN training images per second, ``GANTrainer`` vs the canonical PyTorch loop.

    python -m gancourse.bench.train [--configs 32:32 64:64] [--batch-size 64] [--rounds 5]
                                    [--seconds 1.0] [--device cpu] [--threads 0] [--compile]

The *reference* is the iteration of ``dcgan/main.py`` in pytorch/examples, the loop a
reader would copy, written here from its published algorithm with its own model
classes (:class:`Generator`, :class:`Discriminator`: no biases, Sigmoid at the end of
D, ``nn.BCELoss``), generalised from 64 px to the benchmark's image size: ``netD.zero_grad()``,
D on a real batch, one G forward, D on ``fake.detach()``, one D step; then
``netG.zero_grad()`` and the generator's update through ``D(fake)`` with the *same*
``fake``. Its data come from the same preloaded tensor as the trainer's (uniform
indices), not from a ``DataLoader``, so the loader's cost is measured in neither.

Rows, all at the same image size, width and batch, timed in the same run:

* ``canonical`` (1.00 by definition);
* ``plain loop``: the benchmark's former reference, Goodfellow et al. 2014, Alg. 1 as
  written (a fresh z for the generator's update, so two G forwards per step) on the
  package's networks, D not frozen;
* ``GANTrainer`` with ``reuse_fake=True``, the canonical loop's algorithm (history,
  divergence guard, fixed-noise snapshots every 50 steps, atomic steps; no checkpoints,
  no progress bar), and with its default ``reuse_fake=False`` (fresh z for G, Alg. 1);
* levers, each alone on top of ``reuse_fake=True``:
  ``freeze_d_in_g_step=False``, ``atomic_steps = False`` (no in-memory copy of the state
  at each step's start), ``channels_last=False`` (NCHW; on the CPU oneDNN's
  convolutions are faster in NHWC), ``amp`` (bfloat16 autocast, on the CPU too; float16 on
  CUDA GPUs without bfloat16),
  one torch thread instead of torch's default, ``torch.compile`` of both networks
  (``--compile``; its compile time is printed, a failure is reported as a row);
  on CUDA also the real images kept on the device.

Because the machine may be shared, the rows are *interleaved*: every path is built
and warmed up first, then each round times every path for about ``--seconds``, in a
rotated order; a row's rate is the median over the rounds, its ratio the median of
its per-round ratios to the canonical loop of the same round, and the spread column
gives the smallest and largest per-round ratio, the noise to read the ratio with.

What the rows showed on our machine, and what was kept, is in the book's results page
(book/results.md, "Benchmarks").
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import math
import os
import statistics
import time
from collections.abc import Callable

import torch
from torch import nn

from gancourse.bench import non_negative_int, positive_int
from gancourse.config import DataConfig, DCGANConfig
from gancourse.data import preload
from gancourse.device import pick_device, seed_everything
from gancourse.models import DCGANDiscriminator, DCGANGenerator
from gancourse.train import GANTrainer, TensorSampler

# ------------------------------------------------------------------------------------
# the canonical loop: pytorch/examples, dcgan/main.py
# ------------------------------------------------------------------------------------


def _doublings(image_size: int) -> int:
    return int(math.log2(image_size // 4))  # 64 px: 4 (the example's 4 -> 8 -> 16 -> 32 -> 64)


class Generator(nn.Module):
    """The example's ``Generator``: z (B, nz, 1, 1) -> (B, nc, S, S); 64 px gives its ngf*8, *4, *2, *1 layers."""

    def __init__(self, nz: int = 100, ngf: int = 64, nc: int = 1, image_size: int = 64) -> None:
        super().__init__()
        n = _doublings(image_size)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(nz, ngf * 2 ** (n - 1), 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 2 ** (n - 1)),
            nn.ReLU(True),
        ]
        for i in range(n - 1, 0, -1):
            layers += [
                nn.ConvTranspose2d(ngf * 2**i, ngf * 2 ** (i - 1), 4, 2, 1, bias=False),
                nn.BatchNorm2d(ngf * 2 ** (i - 1)),
                nn.ReLU(True),
            ]
        layers += [nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)

    def forward(self, noise: torch.Tensor) -> torch.Tensor:
        return self.main(noise)


class Discriminator(nn.Module):
    """The example's ``Discriminator``: (B, nc, S, S) -> probability (B,), Sigmoid at the end."""

    def __init__(self, ndf: int = 64, nc: int = 1, image_size: int = 64) -> None:
        super().__init__()
        n = _doublings(image_size)
        layers: list[nn.Module] = [nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True)]
        for i in range(n - 1):
            layers += [
                nn.Conv2d(ndf * 2**i, ndf * 2 ** (i + 1), 4, 2, 1, bias=False),
                nn.BatchNorm2d(ndf * 2 ** (i + 1)),
                nn.LeakyReLU(0.2, inplace=True),
            ]
        layers += [nn.Conv2d(ndf * 2 ** (n - 1), 1, 4, 1, 0, bias=False), nn.Sigmoid()]
        self.main = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x).view(-1, 1).squeeze(1)


def weights_init(m: nn.Module) -> None:
    """The example's initialisation: N(0, 0.02) convolutions, N(1, 0.02) batch-norm scales."""
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif classname.find("BatchNorm") != -1:
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def canonical_step(netG, netD, criterion, optimizerG, optimizerD, real, noise) -> tuple[float, ...]:
    """One iteration of the example's loop; returns its printed values (errD, errG, D(x), D(G(z)) before/after)."""
    # (1) Update D network: maximize log(D(x)) + log(1 - D(G(z)))
    netD.zero_grad()
    label = torch.full((real.size(0),), 1.0, dtype=real.dtype, device=real.device)
    output = netD(real)
    errD_real = criterion(output, label)
    errD_real.backward()
    D_x = output.mean().item()
    fake = netG(noise)
    label.fill_(0.0)
    output = netD(fake.detach())
    errD_fake = criterion(output, label)
    errD_fake.backward()
    D_G_z1 = output.mean().item()
    errD = errD_real + errD_fake
    optimizerD.step()
    # (2) Update G network: maximize log(D(G(z))), through the same fake batch
    netG.zero_grad()
    label.fill_(1.0)
    output = netD(fake)
    errG = criterion(output, label)
    errG.backward()
    D_G_z2 = output.mean().item()
    optimizerG.step()
    return errD.item(), errG.item(), D_x, D_G_z1, D_G_z2


def plain_step(generator, discriminator, criterion, opt_g, opt_d, real, noise_d, noise_g) -> None:
    """Goodfellow et al. 2014, Alg. 1 (k = 1) as written: a fresh z for G's update, D not frozen."""
    fake = generator(noise_d).detach()  # as the former reference wrote it: forward with a graph, then detach
    real_out, fake_out = discriminator(real), discriminator(fake)
    loss_d = criterion(real_out, torch.ones_like(real_out)) + criterion(fake_out, torch.zeros_like(fake_out))
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    opt_d.step()
    fake_out = discriminator(generator(noise_g))
    loss_g = criterion(fake_out, torch.ones_like(fake_out))
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()


# ------------------------------------------------------------------------------------
# paths: each a function run(steps)
# ------------------------------------------------------------------------------------


@dataclasses.dataclass
class Path:
    name: str
    run: Callable[[int], None]
    threads: int = 0  # 0: the benchmark's thread setting
    failed: str = ""
    warmup_s: float = 0.0
    rates: list[float] = dataclasses.field(default_factory=list)  # images/s, one per round
    ratios: list[float] = dataclasses.field(default_factory=list)  # vs canonical, one per round


def _adam(params, cfg: DCGANConfig) -> torch.optim.Adam:
    return torch.optim.Adam(params, lr=cfg.lr_g, betas=(cfg.beta1, cfg.beta2))


def canonical_loop(cfg: DCGANConfig, images: torch.Tensor, device: torch.device) -> Callable[[int], None]:
    """The example's loop on its own networks (nz = latent_dim, ngf = ndf = base_channels)."""
    seed_everything(cfg.seed)
    netG = Generator(cfg.latent_dim, cfg.base_channels, images.shape[1], cfg.image_size).to(device)
    netG.apply(weights_init)
    netD = Discriminator(cfg.base_channels, images.shape[1], cfg.image_size).to(device)
    netD.apply(weights_init)
    criterion, optimizerG, optimizerD = nn.BCELoss(), _adam(netG.parameters(), cfg), _adam(netD.parameters(), cfg)
    data_rng, b = torch.Generator().manual_seed(cfg.seed), cfg.batch_size

    def run(steps: int) -> None:
        for _ in range(steps):
            real = images[torch.randint(len(images), (b,), generator=data_rng)].to(device)  # (B, nc, S, S)
            noise = torch.randn(b, cfg.latent_dim, 1, 1, device=device)
            canonical_step(netG, netD, criterion, optimizerG, optimizerD, real, noise)

    return run


def plain_loop(cfg: DCGANConfig, images: torch.Tensor, device: torch.device) -> Callable[[int], None]:
    seed_everything(cfg.seed)
    generator = DCGANGenerator(cfg.latent_dim, cfg.base_channels, cfg.image_size, images.shape[1]).to(device)
    discriminator = DCGANDiscriminator(cfg.base_channels, cfg.image_size, images.shape[1]).to(device)
    criterion = nn.BCEWithLogitsLoss()
    opt_g, opt_d = _adam(generator.parameters(), cfg), _adam(discriminator.parameters(), cfg)
    data_rng, b = torch.Generator().manual_seed(cfg.seed), cfg.batch_size

    def run(steps: int) -> None:
        for _ in range(steps):
            real = images[torch.randint(len(images), (b,), generator=data_rng)].to(device)
            noise_d, noise_g = torch.randn(2, b, cfg.latent_dim, device=device)
            plain_step(generator, discriminator, criterion, opt_g, opt_d, real, noise_d, noise_g)
        torch.zeros((), device=device).item()  # waits for the device, like the trainer's logging does

    return run


def trainer_loop(
    cfg: DCGANConfig, images: torch.Tensor, device: torch.device, compile: bool = False, atomic_steps: bool = True
) -> Callable[[int], None]:
    """``GANTrainer`` on the package's networks, optionally with ``torch.compile``d networks."""
    seed_everything(cfg.seed)
    generator = DCGANGenerator(cfg.latent_dim, cfg.base_channels, cfg.image_size, images.shape[1])
    discriminator = DCGANDiscriminator(cfg.base_channels, cfg.image_size, images.shape[1])
    trainer = GANTrainer(generator, discriminator, TensorSampler(images), cfg, device=device)
    trainer.atomic_steps = atomic_steps  # default True: the state at each step's start is copied in memory
    if compile:
        trainer.generator = torch.compile(trainer.generator)
        trainer.discriminator = torch.compile(trainer.discriminator)

    def run(steps: int) -> None:
        trainer.train(trainer.step + steps, progress=False)

    return run


def build_paths(cfg: DCGANConfig, images: torch.Tensor, device: torch.device, compile: bool) -> list[Path]:
    cuda = device.type == "cuda"
    cfg = cfg.replace(reuse_fake=True)  # the trainer rows run the canonical loop's algorithm, the levers on top
    paths = [
        Path("canonical: pytorch/examples dcgan", canonical_loop(cfg, images, device)),
        Path("plain loop: Alg. 1, two G forwards", plain_loop(cfg, images, device)),
        Path("GANTrainer, reuse_fake=True (the canonical algorithm)", trainer_loop(cfg, images, device)),
        Path(
            "GANTrainer defaults: reuse_fake=False (Alg. 1)",
            trainer_loop(cfg.replace(reuse_fake=False), images, device),
        ),
        Path(
            "  lever off: freeze_d_in_g_step=False",
            trainer_loop(cfg.replace(freeze_d_in_g_step=False), images, device),
        ),
        Path("  lever off: atomic_steps=False", trainer_loop(cfg, images, device, atomic_steps=False)),
        Path(
            "  + channels_last" if not cfg.channels_last else "  lever off: channels_last=False",
            trainer_loop(cfg.replace(channels_last=not cfg.channels_last), images, device),
        ),
    ]
    if cuda:
        paths.append(Path("  + amp (bf16/fp16 autocast)", trainer_loop(cfg.replace(amp=True), images, device)))
        paths.append(Path("  + real images kept on the GPU", trainer_loop(cfg, images.to(device), device)))
    else:
        paths.append(Path("  + amp (bf16 autocast on the CPU)", trainer_loop(cfg.replace(amp=True), images, device)))
        if torch.get_num_threads() > 1:
            paths.append(Path("  + 1 torch thread", trainer_loop(cfg, images, device), threads=1))
    if compile:
        try:
            paths.append(Path("  + torch.compile (G and D)", trainer_loop(cfg, images, device, compile=True)))
        except Exception as error:  # noqa: BLE001 - reported as a row, never hidden
            failed = f"{type(error).__name__}: {error}"
            paths.append(Path("  + torch.compile (G and D)", lambda steps: None, failed=failed))
    return paths


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def measure(paths: list[Path], batch_size: int, device: torch.device, warmup: int, rounds: int, seconds: float) -> None:
    """Warm every path up, then time them interleaved: ``rounds`` rounds, rotated order; fills rates and ratios."""
    default_threads = torch.get_num_threads()
    steps = {}
    for path in paths:
        torch.set_num_threads(path.threads or default_threads)
        start = time.perf_counter()
        try:
            path.run(warmup)  # allocations, oneDNN primitive creation, cuDNN autotuning, compilation
            _sync(device)
        except Exception as error:  # noqa: BLE001 - a lever that fails here (torch.compile) is a row, not a crash
            path.failed = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"[:200]
        path.warmup_s = time.perf_counter() - start
        if not path.failed:  # one more timed step sets how many make about `seconds`
            start = time.perf_counter()
            path.run(1)
            _sync(device)
            steps[path.name] = max(1, round(seconds / max(time.perf_counter() - start, 1e-6)))
    live = [p for p in paths if not p.failed]
    for r in range(rounds):
        order = live[r % len(live) :] + live[: r % len(live)]
        for path in order:
            torch.set_num_threads(path.threads or default_threads)
            n = steps[path.name]
            start = time.perf_counter()
            path.run(n)
            _sync(device)
            path.rates.append(n * batch_size / max(time.perf_counter() - start, 1e-9))
        for path in live:
            path.ratios.append(path.rates[-1] / live[0].rates[-1])
    torch.set_num_threads(default_threads)


def report(paths: list[Path]) -> None:
    print(f"{'path':<40} {'images/s':>9} {'ratio':>7}  {'per-round ratios':>17}  warm-up")
    for path in paths:
        if path.failed:
            print(f"{path.name:<40} {'failed':>9}            {path.failed}")
            continue
        rate, ratio = statistics.median(path.rates), statistics.median(path.ratios)
        spread = f"{min(path.ratios):.2f} - {max(path.ratios):.2f}"
        print(f"{path.name:<40} {rate:>9.0f} {ratio:>6.2f}x  {spread:>17}  {path.warmup_s:6.1f} s")


def positive_float(text: str) -> float:
    """argparse type: a number > 0 (seconds per measurement)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or math.isinf(value):
        raise argparse.ArgumentTypeError(f"{value} is out of range: allowed a finite number > 0")
    return value


def size_and_width(text: str) -> tuple[int, int]:
    """argparse type: ``image_size:base_channels``, both integers >= 1 (DCGANConfig checks the rest)."""
    size, sep, width = text.partition(":")
    if not sep:
        raise argparse.ArgumentTypeError(f"{text!r} is not image_size:base_channels, e.g. 32:32")
    return positive_int(size), positive_int(width)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--configs",
        nargs="+",
        type=size_and_width,
        default=[(32, 32), (64, 64)],
        help="image_size:base_channels pairs (default 32:32 64:64)",
    )
    parser.add_argument("--batch-size", type=positive_int, default=64)
    parser.add_argument("--rounds", type=positive_int, default=5, help="interleaved timing rounds (default 5)")
    parser.add_argument(
        "--seconds", type=positive_float, default=1.0, help="about this long per path and round (default 1)"
    )
    parser.add_argument(
        "--warmup", type=positive_int, default=3, help="untimed steps per path before timing (default 3)"
    )
    parser.add_argument("--device", default=None, help="cpu, cuda, mps (default: the best available)")
    parser.add_argument(
        "--threads", type=non_negative_int, default=0, help="torch CPU threads (default 0: torch's choice)"
    )
    parser.add_argument("--compile", action="store_true", help="add a torch.compile row (slow to compile on a CPU)")
    args = parser.parse_args(argv)
    sizes = args.configs
    if args.threads:
        torch.set_num_threads(args.threads)

    device = pick_device(args.device)
    load = f" | load average {os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else ""
    print(
        f"date {datetime.date.today()} | torch {torch.__version__} | device {device} | "
        f"{os.cpu_count()} CPU cores, {torch.get_num_threads()} torch threads{load}"
    )
    for size, width in sizes:
        cfg = DCGANConfig(
            image_size=size,
            base_channels=width,
            batch_size=args.batch_size,
            log_every=10,
            sample_every=50,
            checkpoint_every=0,
        )  # check() validates the size and width
        images, _ = preload(DataConfig(dataset="mnist", image_size=size, limit=10_000))
        print(
            f"\nDCGAN {size} px, width {width}, batch {cfg.batch_size}: {args.rounds} interleaved rounds of "
            f"~{args.seconds:g} s per path after {args.warmup} warm-up steps{load}"
        )
        paths = build_paths(cfg, images, device, args.compile)
        measure(paths, cfg.batch_size, device, args.warmup, args.rounds, args.seconds)
        report(paths)
    if hasattr(os, "getloadavg"):
        print(f"\nload average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
