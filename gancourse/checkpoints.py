"""Checkpoints: save a training run, resume it exactly, load it safely.

A checkpoint is a plain dict of tensors, numbers, strings, lists and dicts, so it
loads with ``torch.load(..., weights_only=True)``, which refuses to run the
arbitrary code a pickled object could carry. It records a format tag, so a file
that is not a gancourse checkpoint is reported as such, and it can hold every
random-number-generator state (Python, NumPy, PyTorch CPU and CUDA), so that a
resumed run draws the same numbers as an uninterrupted one.

What a failure can and cannot do to a checkpoint file:

- Writes are atomic: the state goes to a temporary file with a unique name in the
  target's folder, is flushed to disk (``fsync``), read back with ``weights_only``,
  and only then renamed over the target (``os.replace``, atomic on POSIX and
  Windows). A run killed while saving, a full disk or a second process saving to
  the same path leaves either the previous complete file or the new complete
  file, never a torn one, and never a stray temporary file from a failed write.
  A write killed outright (SIGKILL, power loss) cannot clean up after itself: its
  temporary is removed by the next save or load of the same path once it is
  certainly abandoned (:func:`remove_stale_temporaries`).
- ``finite=`` names the entries (weights, optimiser state) that must hold only
  finite numbers: a state with a NaN or inf there is refused before anything is
  written, so a diverged run never overwrites the last good checkpoint.
- Random-number generators are stored with their device (:func:`generator_state`).
  On the same kind of device a resumed run continues bit for bit. Across devices
  (a checkpoint written on a GPU loaded on a CPU, or the reverse) a
  ``torch.Generator``'s stream cannot be carried over (CUDA uses Philox, the CPU
  the Mersenne Twister), so that generator is re-seeded from its stored state,
  deterministically, with a warning: weights, optimiser state, step, history,
  the data order and the Python/NumPy/PyTorch-CPU generators are preserved
  exactly; only the noise stream on the new device differs from the old one.
"""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import json
import math
import os
import random
import re
import socket
import tempfile
import time
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gancourse.cache import cache_dir

FORMAT = "gancourse-checkpoint-v1"

_ANSI = re.compile(r"\x1b\[[0-9;]*m")  # torch bolds part of its weights_only message


class CheckpointError(RuntimeError):
    """A file is missing, unreadable or not a gancourse checkpoint; the message names it."""


class NonFiniteState(CheckpointError):
    """A state to be saved holds NaN or inf where only finite numbers belong; nothing was written."""


def checkpoint_dir() -> Path:
    """Where chapters keep their trained models: ``cache_dir() / 'checkpoints'``."""
    return cache_dir() / "checkpoints"


# --------------------------------------------------------------------------------------
# Random-number generators
# --------------------------------------------------------------------------------------


def rng_state() -> dict[str, Any]:
    """Every global RNG state as tensors and plain values (so that ``weights_only`` can load it)."""
    version, mt_state, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state = {
        "python": [version, list(mt_state), gauss],
        "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, cached],
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` recorded, on whatever device this machine has.

    The Python, NumPy and PyTorch CPU states are restored exactly everywhere (a
    checkpoint loaded with ``map_location='cuda'`` has them moved back to the CPU).
    The CUDA states are restored for as many GPUs as both machines have; on a
    machine without CUDA they are ignored, and a checkpoint written without CUDA
    leaves this machine's CUDA generators as they are.
    """
    version, mt_state, gauss = state["python"]
    random.setstate((version, tuple(mt_state), gauss))
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, keys.cpu().numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"].cpu())
    if state.get("cuda") and torch.cuda.is_available():
        for index, cuda_state in enumerate(state["cuda"][: torch.cuda.device_count()]):
            torch.cuda.set_rng_state(cuda_state.cpu(), index)


def generator_state(generator: torch.Generator) -> dict[str, Any]:
    """A ``torch.Generator``'s state tagged with its device type: ``{"device", "state", "seed"}``."""
    return {"device": generator.device.type, "state": generator.get_state(), "seed": generator.initial_seed()}


def set_generator_state(generator: torch.Generator, stored: Mapping[str, Any] | torch.Tensor) -> bool:
    """Restore :func:`generator_state`'s record into ``generator``; True if the stream continues exactly.

    Same device type: the exact state. Another device type (a CUDA state on a CPU
    generator, or the reverse), whose state cannot be translated: the generator is
    re-seeded with a seed derived from the stored state (the same checkpoint always
    gives the same continuation), a warning says so, and False is returned. A bare
    state tensor (older checkpoints) is recognised by its size.
    """
    if isinstance(stored, torch.Tensor):  # no device tag: a CPU (Mersenne Twister) state is 5056 bytes
        stored = {"device": "cpu" if stored.numel() == 5056 else "cuda", "state": stored}
    state = stored["state"].cpu()
    if stored["device"] == generator.device.type:
        generator.set_state(state)
        return True
    seed = int.from_bytes(hashlib.sha256(state.numpy().tobytes()).digest()[:8], "little") & (2**63 - 1)
    generator.manual_seed(seed)
    warnings.warn(
        f"a {stored['device']} random-number generator state cannot continue on {generator.device.type}: "
        f"re-seeded from it (seed {seed}). Weights, optimiser, data order and step are restored exactly; "
        "the noise drawn from here on differs from a run that stays on one device.",
        stacklevel=2,
    )
    return False


# --------------------------------------------------------------------------------------
# Saving and loading
# --------------------------------------------------------------------------------------


def nonfinite_entries(state: Any, prefix: str = "") -> list[str]:
    """The dotted names of the floating-point tensors in ``state`` (nested dicts/lists) that hold NaN or inf."""
    bad: list[str] = []
    if isinstance(state, torch.Tensor):
        if (state.is_floating_point() or state.is_complex()) and not bool(torch.isfinite(state).all()):
            bad.append(prefix or "<tensor>")
    elif isinstance(state, float):
        if not math.isfinite(state):
            bad.append(prefix or "<number>")
    elif isinstance(state, Mapping):
        for key, value in state.items():
            bad += nonfinite_entries(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(state, (list, tuple)):
        for index, value in enumerate(state):
            bad += nonfinite_entries(value, f"{prefix}[{index}]")
    return bad


def check_writable(path: str | os.PathLike) -> Path:
    """Create ``path``'s folder and check a file can be written there; :class:`CheckpointError` if not.

    Called before a long run, so that a read-only or missing folder is reported
    before hours of training, not at the final save.
    """
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"the checkpoint path {path} is a folder: give a file name such as {path / 'run.pt'}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".probe")
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise CheckpointError(
            f"cannot write checkpoints to {path.parent} ({err.strerror or err}): "
            "choose a writable folder (checkpoint_path= / directory=) or fix its permissions"
        ) from err
    return path


#: A temporary checkpoint file untouched for this long is abandoned, whoever wrote it: a
#: save writes, fsyncs, reads back and renames in one go, so a live writer's file is
#: minutes old at most even for gigabytes on a slow disk.
STALE_TMP_S = 30 * 60


def _writer_tag() -> str:
    """``<host>-<pid>``: who writes a temporary file, part of its name (the host as [A-Za-z0-9-])."""
    host = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:40] or "host"
    return f"{host}-{os.getpid()}"


def _process_exists(pid: int) -> bool:
    """Whether a process ``pid`` runs on this machine (POSIX); True where that cannot be asked."""
    if os.name != "posix":  # Windows: os.kill(pid, 0) would terminate the process
        return True
    try:
        os.kill(pid, 0)  # signal 0: only asks
    except ProcessLookupError:
        return False
    except OSError:  # e.g. another user's process: it exists
        return True
    return True


def remove_stale_temporaries(path: str | os.PathLike, older_than_s: float = STALE_TMP_S) -> list[Path]:
    """Remove the abandoned temporaries ``.<name>.*.tmp`` of checkpoint ``path``; returns what was removed.

    Two processes may save the same path at once (each into its own temporary), so a
    temporary is removed only when its writer is certainly gone: its name records a
    process of this machine (``.<name>.<host>-<pid>.<random>.tmp``) that no longer
    exists, or it has not been modified for ``older_than_s`` seconds. The pid alone
    is not enough on a folder shared between machines (another host's pid means
    nothing here), hence the host in the name and the age for every other name. A
    reused pid only keeps a file longer, until its age removes it. Files that cannot
    be listed or removed are left as they are: cleaning up must never fail a save.
    """
    path = Path(path)
    prefix, host = f".{path.name}.", _writer_tag().rsplit("-", 1)[0]
    removed = []
    try:
        candidates = [p for p in path.parent.iterdir() if p.name.startswith(prefix) and p.name.endswith(".tmp")]
    except OSError:
        return removed
    for tmp in candidates:
        writer = re.match(rf"{re.escape(host)}-(\d+)\.", tmp.name[len(prefix) :])
        try:
            abandoned = time.time() - tmp.stat().st_mtime > older_than_s
            if writer is not None and int(writer.group(1)) != os.getpid():
                abandoned = abandoned or not _process_exists(int(writer.group(1)))
            if abandoned:
                tmp.unlink()
                removed.append(tmp)
        except OSError:
            continue
    return removed


def save_checkpoint(
    path: str | os.PathLike, state: dict[str, Any], finite: Iterable[str] = (), verify: bool = True
) -> Path:
    """Write ``state`` (plus the format tag) to ``path`` atomically; returns the path.

    ``finite`` names top-level entries whose floating-point tensors must be finite
    (:class:`NonFiniteState` otherwise, raised before anything is written). With
    ``verify`` the temporary file is read back with ``weights_only=True`` before it
    replaces ``path``. A failed write removes its temporary file, leaves ``path`` as
    it was and raises :class:`CheckpointError` naming the path and the reason.
    """
    path = Path(path)
    bad = [name for key in finite for name in nonfinite_entries(state[key], key)]
    if bad:
        shown = ", ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        raise NonFiniteState(
            f"not saving {path}: NaN or inf in {shown}. The previous checkpoint there (if any) is unchanged"
        )
    tmp: str | None = None
    writer: _Writes | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(path)
        # a unique name in the same folder (same file system, so the rename is atomic):
        # two processes saving to one path never write into each other's file; the
        # name records the writer, so that a killed writer's file can be recognised
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{_writer_tag()}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as file:
            writer = _Writes(file)  # torch reports a failed write as "unexpected pos": keep the OSError
            torch.save({"format": FORMAT, **state}, writer)
            file.flush()
            os.fsync(file.fileno())  # the bytes are on disk before the name points at them
        if verify:
            written = torch.load(tmp, map_location="cpu", weights_only=True)
            if not isinstance(written, dict) or written.get("format") != FORMAT:
                raise CheckpointError(f"{tmp} did not read back as a checkpoint")
        os.replace(tmp, path)  # atomic on POSIX and Windows
        tmp = None
        _fsync_folder(path.parent)
    except OSError as err:
        raise _write_error(path, err) from err
    except CheckpointError:
        raise
    except Exception as err:  # e.g. an object torch cannot serialise, or a failed read-back
        if writer is not None and writer.error is not None:  # torch's RuntimeError over a full disk
            raise _write_error(path, writer.error) from err
        raise CheckpointError(f"could not write the checkpoint {path}: {type(err).__name__}: {err}") from err
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    return path


class _Writes:
    """A binary file for ``torch.save`` that keeps the ``OSError`` of a failed write (torch replaces it by its own)."""

    def __init__(self, file: Any) -> None:
        self.file, self.error = file, None

    def write(self, data: Any) -> int:
        try:
            return self.file.write(data)
        except OSError as err:
            self.error = err
            raise

    def flush(self) -> None:
        self.file.flush()


#: errno values that mean "not allowed here": the advice is about permissions, not the file's contents
_DENIED = (errno.EACCES, errno.EPERM, errno.EROFS)


def _write_error(path: Path, err: OSError) -> CheckpointError:
    """The :class:`CheckpointError` of a save that failed with ``err``: the reason, and what to do about it."""
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        reason, fix = "the disk is full", "free some space, or save elsewhere (trainer.save(path), --out)"
    elif err.errno in _DENIED:
        reason = "permission denied" if err.errno != errno.EROFS else "the file system is read-only"
        fix = f"fix the permissions of {path.parent}, or save elsewhere (trainer.save(path), --out)"
    else:
        reason, fix = err.strerror or str(err), "save elsewhere (trainer.save(path), --out)"
    return CheckpointError(f"could not write the checkpoint {path}: {reason}. Nothing was changed there; {fix}")


def _fsync_folder(folder: Path) -> None:
    """Make a rename durable (POSIX); a no-op where folders cannot be opened (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint with ``weights_only=True``; raise :class:`CheckpointError` if it is not one."""
    path = Path(path)
    remove_stale_temporaries(path)  # a save killed outright left its temporary beside the file
    if not path.is_file():
        raise CheckpointError(f"{path} does not exist: train first, or check the path")
    if path.stat().st_size == 0:
        raise CheckpointError(
            f"{path} is empty (0 bytes), left by an interrupted copy or write: delete it and train again"
        )
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except OSError as err:  # the file is there but cannot be read: its contents are not at fault
        if err.errno in _DENIED:
            raise CheckpointError(
                f"{path} cannot be read: permission denied. Fix its permissions (chmod u+r {path}) or run as "
                "the user who owns it; the file itself may be fine"
            ) from err
        raise CheckpointError(f"{path} cannot be read: {err.strerror or err}") from err
    except Exception as err:  # torch raises many types for a foreign, truncated or malicious file
        detail = _ANSI.sub("", str(err)).strip() or "no message"
        raise CheckpointError(
            f"{path} is not a readable checkpoint ({type(err).__name__}: {detail}). Delete it and train again."
        ) from err
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(
            f"{path} is not a gancourse checkpoint (no '{FORMAT}' tag): delete it or pick another file"
        )
    return state


def require_keys(state: Mapping[str, Any], keys: Iterable[str], path: str | os.PathLike) -> None:
    """:class:`CheckpointError` naming the entries of ``keys`` that ``state`` (loaded from ``path``) lacks."""
    missing = [key for key in keys if key not in state]
    if missing:
        raise CheckpointError(
            f"{path} lacks {', '.join(missing)}: it was written by another program or version; "
            "delete it and train again"
        )


# --------------------------------------------------------------------------------------
# Which configuration a checkpoint belongs to
# --------------------------------------------------------------------------------------


def _jsonable(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def config_record(cfg: Any) -> dict[str, Any]:
    """The config as a checkpoint stores it: its class name and its fields as plain values."""
    return {"config_class": type(cfg).__name__, "config": dataclasses.asdict(cfg)}


#: Config fields that say how long a run is and how it is watched, not what it trains: they stay out of
#: :func:`config_key`, so that logging more often never retrains a finished model, and a longer run of the
#: same experiment continues a shorter one (``gancourse.train.cache.load_or_train``).
RUN_FIELDS = ("steps", "log_every", "sample_every", "checkpoint_every")


def config_key(cfg: Any) -> str:
    """A short hash of the experiment: the config's class and every field that changes the trained weights.

    :data:`RUN_FIELDS` are left out. ``amp`` and ``channels_last`` stay in: bfloat16
    autocast rounds every matrix product, and the channels-last layout selects other
    convolution kernels, whose sums run in another order, so both train other bits.
    """
    fields = {k: v for k, v in dataclasses.asdict(cfg).items() if k not in RUN_FIELDS}
    blob = _jsonable({"class": type(cfg).__name__, **fields})
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def cache_file(name: str, cfg: Any, directory: str | os.PathLike | None = None) -> Path:
    """Where the model cache keeps the run ``name`` of ``cfg``: ``<directory>/<name>-<key>-<steps>steps.pt``."""
    return Path(directory or checkpoint_dir()) / f"{name}-{config_key(cfg)}-{cfg.steps}steps.pt"


def config_differences(cfg: Any, state: dict[str, Any]) -> list[str]:
    """The fields in which ``cfg`` differs from the config a checkpoint was trained with.

    :data:`RUN_FIELDS` are not compared (a finished run may be continued for more steps,
    and logged differently); a different config class is reported as ``["class"]``.
    Empty: the checkpoint fits.
    """
    if state.get("config_class") != type(cfg).__name__:
        return ["class"]
    mine = {k: v for k, v in dataclasses.asdict(cfg).items() if k not in RUN_FIELDS}
    theirs = {k: v for k, v in state.get("config", {}).items() if k not in RUN_FIELDS}
    return sorted(k for k in set(mine) | set(theirs) if _jsonable(mine.get(k)) != _jsonable(theirs.get(k)))
