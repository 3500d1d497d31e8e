"""Benchmark: style-transfer optimisation steps per second at 256 and 512 px, package loop vs a plain loop.

    python -m gancourse.bench.style [--sizes 256 512] [--steps N] [--optimizer lbfgs] [--device cuda]

The *package path* is :func:`gancourse.style.stylize` (Gatys et al. 2016: VGG19
up to conv5_1, content at conv4_2, five Gram matrices, one L-BFGS iteration per
step), timed over its optimisation loop only, as it reports in
``StyleRun.seconds``. The *reference* is the minimal loop written inline below:
the same network (the same module objects, so the same weights and pooling), the
same losses and the same optimiser, without the package's bookkeeping (loss
records, snapshots, progress bar, the denormal guard). Both run in the same
process on the same inputs, one after the other; the ratio of their steps per
second is the package's overhead (1.0 = none).

The cost of a step does not depend on the weights or on what the pixels show,
so the network has random weights (no download) and the images are noise. The
default is short on a CPU (2 timed steps per size, after 1 warm-up step); pass
``--steps 50`` or more on a GPU for stable numbers.
"""

from __future__ import annotations

import argparse
import datetime
import os
import time

import torch
import torch.nn.functional as F

from gancourse.bench import non_negative_int, positive_int
from gancourse.device import pick_device
from gancourse.style import StyleConfig, stylize, vgg19_features


def reference_steps_per_second(
    net: torch.nn.Module, content: torch.Tensor, painting: torch.Tensor, cfg: StyleConfig, warmup: int
) -> float:
    """A plain Gatys loop on ``net`` (a :class:`VGGFeatures`): L-BFGS with max_iter=1, ``cfg.steps`` timed steps."""
    layers = cfg.content_layers + cfg.style_layers
    stops = {net.taps[layer]: layer for layer in layers}  # module index -> layer name

    def features(x: torch.Tensor) -> dict[str, torch.Tensor]:
        x = (x - net.mean) / net.std
        out = {}
        for i, module in enumerate(net.features[: max(stops) + 1]):
            x = module(x)
            if i in stops:
                out[stops[i]] = x
        return out

    def gram(f: torch.Tensor) -> torch.Tensor:
        b, c, h, w = f.shape
        f = f.view(b, c, h * w)
        return torch.bmm(f, f.transpose(1, 2)) / (c * h * w)

    with torch.no_grad():
        content_target = {layer: f for layer, f in features(content).items() if layer in cfg.content_layers}
        style_target = {layer: gram(f) for layer, f in features(painting).items() if layer in cfg.style_layers}
    x = content.clone().requires_grad_(True)
    optimizer = torch.optim.LBFGS(
        [x], lr=1.0, max_iter=1, history_size=100, tolerance_grad=0.0, tolerance_change=0.0
    ) if cfg.optimizer == "lbfgs" else torch.optim.Adam([x], lr=cfg.lr)  # fmt: skip
    weight = 1.0 / len(cfg.style_layers)

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        f = features(x)
        loss = cfg.content_weight * sum(F.mse_loss(f[k], v) / v.square().mean() for k, v in content_target.items())
        loss = loss + cfg.style_weight * sum(
            weight * F.mse_loss(gram(f[k]), v) / v.square().mean() for k, v in style_target.items()
        )
        loss.backward()
        return loss

    for _ in range(warmup):
        optimizer.step(closure)
    _sync(content.device)
    start = time.perf_counter()
    for _ in range(cfg.steps):
        optimizer.step(closure)
    _sync(content.device)
    return cfg.steps / (time.perf_counter() - start)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=positive_int, nargs="+", default=[256, 512], help="image sides in pixels")
    parser.add_argument(
        "--steps", type=positive_int, default=None, help="timed steps per size (default: 2 on CPU, 50 on GPU)"
    )
    parser.add_argument(
        "--warmup", type=non_negative_int, default=1, help="untimed steps first (allocations, kernel choice)"
    )
    parser.add_argument("--optimizer", default="lbfgs", choices=("lbfgs", "adam"))
    parser.add_argument("--device", default=None, help="cpu, cuda, mps (default: the best available)")
    args = parser.parse_args(argv)
    device = pick_device(args.device)
    steps = args.steps or (2 if device.type == "cpu" else 50)
    if steps < 1 or args.warmup < 0:
        parser.error("--steps must be >= 1 and --warmup >= 0")

    base = StyleConfig(steps=steps, optimizer=args.optimizer, normalize_losses=True, style_weight=10.0)
    net = vgg19_features(base.content_layers + base.style_layers, pooling=base.pooling, weights="random").to(device)
    load = f" | load average {os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else ""
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{os.cpu_count()} CPU cores"
    print(
        f"date {datetime.date.today()} | torch {torch.__version__} | device {device} ({name}) | "
        f"{torch.get_num_threads()} torch threads{load}"
    )
    print(
        f"VGG19 up to conv5_1, {base.pooling} pooling, random weights; {args.optimizer}, "
        f"{steps} timed steps after {args.warmup} warm-up step(s) per size"
    )
    print()
    print(f"{'size':>6} {'package steps/s':>16} {'reference steps/s':>18} {'package / reference':>20}")
    for size in args.sizes:
        cfg = base.replace(image_size=size)
        g = torch.Generator().manual_seed(size)
        content = torch.rand(1, 3, size, size, generator=g).to(device)
        painting = torch.rand(1, 3, size, size, generator=g).to(device)
        if args.warmup:
            stylize(content, painting, cfg.replace(steps=args.warmup), net, device, verbose=False)
        package = stylize(content, painting, cfg, net, device, verbose=False).steps_per_second
        reference = reference_steps_per_second(net, content, painting, cfg, args.warmup)
        print(f"{size:>6} {package:>16.3f} {reference:>18.3f} {package / reference:>20.2f}")


if __name__ == "__main__":
    main()
