"""Benchmark: feature extraction + FID on 10,000 images, batched streaming path vs one image at a time.

    python -m gancourse.bench.metrics [--n 10000] [--reference-n 1000] [--batch-size 250] [--threads 0]

The *package path* is :func:`gancourse.metrics.feature_statistics` (images pushed
through the extractor ``batch_size`` at a time, mean and covariance accumulated in
float64) followed by :func:`gancourse.metrics.fid_from_statistics`. The
*reference* is the plain loop written inline below: one image per forward pass,
every feature vector kept, then ``np.mean`` / ``np.cov`` and the Fréchet distance.
It runs on ``--reference-n`` images only and its per-image rate is extrapolated
to n (printed as such); both paths are also run on the same ``--reference-n``
images to check that they give the same FID.

Images are the real test split of the data set (a stand-in for generated
images: the cost does not depend on what the pixels show); the real statistics
are those of n training images, computed once and not timed. The extractor is
the domain classifier of the run mode (trained first if not cached, not timed).

On a CPU shared with other processes the reference suffers most: every one of
its thousands of small forward passes synchronises the torch threads, and a
thread that has lost its core makes the others wait (run with ``--threads 1``, or
set ``OMP_WAIT_POLICY=PASSIVE``, to see the effect of batching alone). The load
average is printed with the results for that reason.

Peak memory is the peak resident-set size above the level at the start of each
phase, sampled every 2 ms from ``/proc/self/statm`` (Linux; elsewhere
``ru_maxrss``, which only rises), and ``torch.cuda.max_memory_allocated`` on CUDA.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import resource
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from gancourse.bench import non_negative_int, positive_int
from gancourse.device import pick_device
from gancourse.metrics import (
    ClassifierFeatures,
    feature_statistics,
    fid_from_statistics,
    frechet_distance,
    load_or_train_classifier,
    real_images,
)

PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * PAGE
    except OSError:  # not Linux: the lifetime peak is all there is
        scale = 1 if platform.system() == "Darwin" else 1024
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


class PeakMemory:
    """Peak RSS above the starting level while the ``with`` block runs (and peak CUDA memory)."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.peak_bytes = 0
        self.cuda_bytes = 0

    def __enter__(self) -> PeakMemory:
        self._start = _rss_bytes()
        self._high = self._start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
        self._thread.start()
        return self

    def _poll(self) -> None:
        while not self._stop.is_set():
            self._high = max(self._high, _rss_bytes())
            time.sleep(0.002)

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()
        self._high = max(self._high, _rss_bytes())
        self.peak_bytes = self._high - self._start
        if self.device.type == "cuda":
            self.cuda_bytes = torch.cuda.max_memory_allocated(self.device)


def timed(fn: Callable[[], Any], device: torch.device) -> tuple[Any, float, PeakMemory]:
    if device.type == "cuda":
        torch.cuda.synchronize()
    with PeakMemory(device) as memory:
        start = time.perf_counter()
        result = fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
    return result, seconds, memory


@torch.no_grad()
def reference_fid(
    extractor: torch.nn.Module, images: torch.Tensor, real_mu: np.ndarray, real_sigma: np.ndarray
) -> float:
    """The plain way: one image per forward pass, every feature kept, then np.mean / np.cov."""
    device = next(extractor.parameters()).device
    rows = []
    for image in images:  # (1, 32, 32)
        rows.append(extractor(image.unsqueeze(0).to(device)).cpu().numpy()[0])  # (d,)
    features = np.stack(rows).astype(np.float64)  # (N, d): grows with N
    return frechet_distance(real_mu, real_sigma, features.mean(axis=0), np.cov(features, rowvar=False))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=positive_int, default=10_000, help="images whose FID is computed (default 10,000)")
    parser.add_argument(
        "--reference-n", type=positive_int, default=1000, help="images for the unbatched reference loop"
    )
    parser.add_argument("--batch-size", type=positive_int, default=250, help="batch size of the package path")
    parser.add_argument("--dataset", default="mnist", choices=("mnist", "fashion_mnist"))
    parser.add_argument("--mode", default="quick", choices=("quick", "full"), help="which cached classifier")
    parser.add_argument("--device", default=None, help="cpu, cuda, mps (default: the best available)")
    parser.add_argument(
        "--threads", type=non_negative_int, default=0, help="torch CPU threads (default 0: torch's choice)"
    )
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if not 2 <= args.reference_n <= args.n:
        parser.error("--reference-n must be between 2 and --n")

    device = pick_device(args.device)
    extractor = ClassifierFeatures(load_or_train_classifier(args.dataset, args.mode, device=device))
    real = real_images(args.dataset, "train", args.n, seed=0)
    fake = real_images(args.dataset, "test", args.n, seed=1)  # (n, 1, 32, 32) in [-1, 1]
    real_stats = feature_statistics(extractor, real, batch_size=args.batch_size)

    load = f" | load average {os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else ""
    print(
        f"date {datetime.date.today()} | torch {torch.__version__} | device {device} | "
        f"{os.cpu_count()} CPU cores, {torch.get_num_threads()} torch threads{load}"
    )
    print(f"extractor: {extractor.name}, {extractor.dim}-d features; images {tuple(fake.shape[1:])}")

    def package(images: torch.Tensor) -> float:
        return fid_from_statistics(real_stats, feature_statistics(extractor, images, batch_size=args.batch_size))

    package(fake[: args.batch_size])  # warm-up: first-call allocations and kernel selection
    fid_small, t_small, mem_small = timed(lambda: package(fake[: args.n // 5]), device)
    fid_batched, t_batched, mem_batched = timed(lambda: package(fake), device)
    m = args.reference_n
    fid_ref, t_ref, mem_ref = timed(lambda: reference_fid(extractor, fake[:m], real_stats.mean, real_stats.cov), device)
    fid_check = package(fake[:m])

    rate_batched, rate_ref = args.n / t_batched, m / t_ref
    mib = 2.0**20

    def row(path: str, images: int, seconds: float, peak: str) -> None:
        print(f"{path:<44} {images:>7} {seconds:>8.2f} {images / seconds:>9.0f} {peak:>14}")

    print()
    print(f"{'path':<44} {'images':>7} {'seconds':>8} {'images/s':>9} {'peak RSS +MiB':>14}")
    row("package: batched, streaming statistics", args.n // 5, t_small, f"{mem_small.peak_bytes / mib:.1f}")
    row("package: batched, streaming statistics", args.n, t_batched, f"{mem_batched.peak_bytes / mib:.1f}")
    row("reference: one image at a time, np.cov", m, t_ref, f"{mem_ref.peak_bytes / mib:.1f}")
    if m < args.n:
        row("reference extrapolated (its rate x n)", args.n, args.n / rate_ref, "-")
    if device.type == "cuda":
        print(
            f"peak CUDA memory: batched {mem_batched.cuda_bytes / mib:.1f} MiB, "
            f"reference {mem_ref.cuda_bytes / mib:.1f} MiB"
        )
    d = extractor.dim
    print(
        f"memory the statistics need: package {(d * d + d) * 8 / mib:.2f} MiB at any n (float64 d x d); "
        f"reference {args.n * d * (4 + 8) / mib:.2f} MiB at n = {args.n:,} (every feature, float32 + float64 copy)"
    )
    print()
    print(f"speed-up of the package path: {rate_batched / rate_ref:.1f}x (images per second, same run)")
    print(
        f"FID on {args.n:,} images: {fid_batched:.4f} "
        f"(on {args.n // 5:,}: {fid_small:.4f}; FID's bias grows as n shrinks)"
    )
    print(
        f"same {m:,} images, package vs reference FID: {fid_check:.6f} vs {fid_ref:.6f} "
        f"(difference {abs(fid_check - fid_ref):.2e})"
    )


if __name__ == "__main__":
    main()
