"""Where a reference run came from: its commit, device and wall time, and its FID against training minutes.

:class:`CurveRecorder` scores a reference run every tenth of its steps while it trains (the
averaged generator where there is one, ``n`` samples against ``n`` real test images in the
features every reference score uses, the real floor beside it), with the training seconds
so far, evaluation not counted: the curve that shows where more training stops paying. The
points are kept in a JSON file beside the run's checkpoint, so an interrupted run resumes
its curve too.
"""

from __future__ import annotations

import copy
import json
import os
import platform
import subprocess
import time
from pathlib import Path
from typing import Any

import torch

from gancourse.config import GANConfig
from gancourse.pretrained import scores


def git_commit() -> str:
    """``git rev-parse HEAD`` of the package's checkout (with ``+dirty`` for uncommitted changes), or "unknown"."""
    folder = Path(__file__).resolve().parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+dirty" if dirty else "") if head else "unknown"


def device_line(device: torch.device) -> str:
    """The device in words: ``cpu (x86_64, Intel(R) Xeon(R) ...)`` or the CUDA device's name."""
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{device.type} ({', '.join(x for x in (platform.machine(), model or platform.processor()) if x)})"


def add_wall_time(ledger: Path, seconds: float) -> dict[str, float]:
    """Add one session's seconds to a run's time ledger (a JSON file beside its checkpoint); returns the totals."""
    totals = {"seconds": 0.0, "sessions": 0}
    if ledger.exists():
        try:
            totals.update(json.loads(ledger.read_text()))
        except (OSError, ValueError):
            pass
    totals["seconds"] += seconds
    totals["sessions"] += 1
    ledger.parent.mkdir(parents=True, exist_ok=True)
    ledger.write_text(json.dumps(totals))
    return totals


class CurveRecorder:
    """``on_step(trainer)`` for a reference run: FID (and the floor) every ``steps / points`` steps, with training time.

    ``path``: the JSON file of the points (``{"step", "train_seconds", "fid", "floor_fid"}``),
    read back on resume; ``train_seconds`` sums the time between the trainer's steps, leaving
    out the scoring itself and each session's first step (which holds the data loader's start).
    """

    def __init__(self, recipe: str, cfg: GANConfig, path: Path, points: int = 10, n: int = 500, seed: int = 0) -> None:
        self.recipe, self.cfg, self.path, self.n, self.seed = recipe, cfg, Path(path), n, seed
        self.every = max(1, cfg.steps // points)
        self.points: list[dict[str, Any]] = json.loads(self.path.read_text()) if self.path.exists() else []
        self.seconds = self.points[-1]["train_seconds"] if self.points else 0.0
        self._last: float | None = None  # the end of the previous step of this session

    def __call__(self, trainer: Any) -> None:
        now = time.perf_counter()
        if self._last is not None:
            self.seconds += now - self._last
        self._last = now
        due = trainer.step % self.every == 0 or trainer.step == self.cfg.steps
        if not due or any(p["step"] == trainer.step for p in self.points):
            return
        averaged = getattr(trainer, "generator_ema", None) is not None
        # a copy, so that scoring (eval mode, batch-norm statistics) never touches the networks in training
        generator = copy.deepcopy(trainer.sampler(averaged=True) if averaged else trainer.generator).cpu().float()
        measured = scores.measure(self.recipe, self.cfg, {"g": generator}, self.n, self.seed)
        fid = measured["g"].get("fid")
        point = {"step": int(trainer.step), "train_seconds": round(self.seconds, 2), "fid": fid}
        point["floor_fid"] = measured.get("floor", {}).get("fid")
        self.points.append(point)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.points))
        os.replace(temporary, self.path)
        fid_text = "no FID" if fid is None else f"FID {fid:.1f} (floor {point['floor_fid']:.1f})"
        print(f"step {trainer.step}: {fid_text} after {self.seconds / 60:.1f} training minutes", flush=True)
        self._last = time.perf_counter()  # the scoring is not training time
