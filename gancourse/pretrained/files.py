"""The shipped files: generator weights (fp16, ``weights_only``-loadable), their manifest, and downloads by hash.

The package ships the reference generators inside the package, so that a reader on
Colab or a laptop gets them with ``pip install``. What this module guarantees:

- a weights file holds only the generator's ``state_dict`` (and, under keys prefixed
  ``ema.``, the moving average of its weights when the trainer kept one), floating-point
  tensors as fp16 (batch-norm running statistics included), written atomically and
  loaded only with ``torch.load(..., weights_only=True)``, which runs no pickled code;
- ``manifest.json`` (committed, sorted keys) records each file's sha256 and size with
  its config, provenance and metrics; a file whose sha256 differs is refused with the
  file, the expected and the actual hash in the message, and so is an entry whose hash is
  missing, null or not 64 hex digits (never a silent "unchecked"); hex case does not matter;
- :func:`load_from_url` is the download path for larger models a reader publishes
  elsewhere, in the style of ``torch.hub.load_state_dict_from_url(..., check_hash=True)``:
  cached, verified against a sha256 before it is used, loaded with ``weights_only=True``.

The paths are module attributes read at call time (:data:`WEIGHTS_DIR`,
:data:`MANIFEST_PATH`), so tests redirect them with ``monkeypatch.setattr``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import urllib.parse
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from gancourse.checkpoints import save_checkpoint
from gancourse.data.files import DOWNLOAD_DEADLINE_S, cache_dir, download, sha256_file

#: Where the shipped weights live: ``<name>.pt`` each (package data, see pyproject.toml).
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
#: The manifest of the shipped weights (package data, committed).
MANIFEST_PATH = Path(__file__).resolve().parent / "manifest.json"
#: The domain classifiers whose features scored the shipped models: ``classifier-<dataset>.pt`` (package data).
FEATURES_DIR = Path(__file__).resolve().parent / "features"
#: The tag of a weights file (a ``"format"`` entry beside the tensors).
WEIGHTS_FORMAT = "gancourse-generator-weights-v1"
MANIFEST_FORMAT = "gancourse-pretrained-manifest-v1"
#: The prefix of the averaged generator's entries in a weights file.
EMA_PREFIX = "ema."
_SHA256 = re.compile(r"[0-9a-f]{64}")


class WeightsError(RuntimeError):
    """A weights file is missing, altered, unreadable or does not fit its generator; the message says which."""


def recorded_sha256(record: Mapping[str, Any], what: str) -> str:
    """The sha256 a manifest entry records for ``what``, lower-cased; a missing, null or malformed one raises.

    A manifest entry without a usable hash must not load unchecked: a replaced file would
    then pass as the shipped one. Hex digits compare case-blind (``sha256sum`` prints lower
    case, other tools upper case), as :func:`load_from_url` accepts either.
    """
    value = record.get("sha256")
    if not isinstance(value, str) or not _SHA256.fullmatch(value.lower()):
        raise WeightsError(
            f"the manifest's entry for {what} has sha256 = {value!r}, not the 64 hex digits of the file's SHA-256: "
            "without it the file cannot be checked, so it is not loaded. Reinstall gancourse (or `git checkout` "
            "manifest.json)"
        )
    return value.lower()


# --------------------------------------------------------------------------------------
# Weights files
# --------------------------------------------------------------------------------------


def half_state(module: nn.Module, prefix: str = "") -> dict[str, torch.Tensor]:
    """``module.state_dict()`` on the CPU with floating-point tensors as fp16 (integers, e.g. counters, kept).

    fp16 halves the files; its 11-bit mantissa (relative rounding 2^-11, about 5e-4)
    is far below what changes a sample visibly, and :func:`gancourse.pretrained.train`
    records the metric of the fp16 weights next to the fp32 one so that the claim is
    checked, not assumed. A value beyond fp16's range (65504) is refused.
    """
    state = {}
    for key, tensor in module.state_dict().items():
        tensor = tensor.detach().cpu()
        if tensor.is_floating_point():
            half = tensor.to(torch.float16)
            if not bool(torch.isfinite(half).all()) and bool(torch.isfinite(tensor).all()):
                raise WeightsError(f"{prefix}{key} holds values beyond fp16's range (|x| > 65504): cannot export it")
            tensor = half
        # its own small, contiguous storage: no view of a larger buffer, no channels_last strides
        state[prefix + key] = tensor.clone(memory_format=torch.contiguous_format)
    return state


def export_weights(generator: nn.Module, averaged: nn.Module | None, path: str | os.PathLike) -> Path:
    """Write G's state (and the averaged G's, keys ``ema.*``) as fp16 to ``path``, atomically; returns the path.

    The file is a flat dict of tensors plus a ``"format"`` tag, written by
    :func:`gancourse.checkpoints.save_checkpoint` (temporary file, fsync, read back with
    ``weights_only=True``, rename), and refused if any tensor is NaN or infinite.
    """
    state: dict[str, Any] = half_state(generator)
    if averaged is not None:
        state.update(half_state(averaged, EMA_PREFIX))
    path = save_checkpoint(path, {"kind": WEIGHTS_FORMAT, **state}, finite=[k for k in state])
    return readable(path)


def readable(path: Path) -> Path:
    """``path`` made readable by everyone (0644): it ships in the package, and temporary files are created 0600."""
    os.chmod(path, 0o644)
    return path


def read_weights(path: str | os.PathLike, sha256: str | None = None) -> dict[str, torch.Tensor]:
    """The tensors of a weights file, loaded with ``weights_only=True``, after checking its sha256.

    ``sha256``: the expected hex digest (either case); a mismatch raises :class:`WeightsError`
    naming the file, the expected and the actual hash, before anything is unpickled.
    ``None`` only for a file this process has just written (:func:`export_weights`);
    a manifest's hash goes through :func:`recorded_sha256`, which refuses a missing one.
    """
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path} does not exist")
    if sha256 is not None:
        if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256.lower()):
            raise WeightsError(f"sha256 = {sha256!r} for {path} is not 64 hex digits: the file cannot be checked")
        sha256 = sha256.lower()
        actual = sha256_file(path)
        if actual != sha256:
            raise WeightsError(
                f"{path} has sha256 {actual}, but the manifest expects {sha256}: the file was altered, truncated "
                "or replaced. Reinstall gancourse (or `git checkout` the file), or retrain it with "
                f"`python -m gancourse.pretrained train {path.stem} --force`"
            )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # a truncated or foreign file: torch raises many types
        raise WeightsError(f"{path} is not a readable weights file ({type(err).__name__}: {err})") from err
    if not isinstance(state, dict) or state.get("kind") != WEIGHTS_FORMAT:
        raise WeightsError(f"{path} is not a gancourse weights file (no kind = {WEIGHTS_FORMAT!r} entry)")
    return {k: v for k, v in state.items() if isinstance(v, torch.Tensor)}


def split_state(state: Mapping[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor] | None]:
    """(G's state, the averaged G's state or None) of a weights file's tensors."""
    generator = {k: v for k, v in state.items() if not k.startswith(EMA_PREFIX)}
    averaged = {k[len(EMA_PREFIX) :]: v for k, v in state.items() if k.startswith(EMA_PREFIX)}
    return generator, averaged or None


# --------------------------------------------------------------------------------------
# The manifest
# --------------------------------------------------------------------------------------


def read_manifest(path: str | os.PathLike | None = None) -> dict[str, Any]:
    """The manifest (``{"format", "models": {name: entry}, "features": {dataset: entry}}``); empty if there is none."""
    path = Path(path or MANIFEST_PATH)
    if not path.exists():
        return {"format": MANIFEST_FORMAT, "models": {}, "features": {}}
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise WeightsError(f"{path} is not a readable manifest ({type(err).__name__}: {err})") from err
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise WeightsError(f"{path} is not a gancourse manifest (no format = {MANIFEST_FORMAT!r})")
    manifest.setdefault("models", {})
    manifest.setdefault("features", {})
    return manifest


def manifest_text(manifest: Mapping[str, Any]) -> str:
    """The manifest as committed: indented JSON with sorted keys and a final newline (stable diffs)."""
    return json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path``'s sibling ``.lock`` file (POSIX), so that parallel trainings can all record."""
    try:
        import fcntl
    except ImportError:  # Windows: no parallel trainings expected; no lock
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(f".{path.name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def update_manifest(
    name: str, entry: Mapping[str, Any] | None, path: str | os.PathLike | None = None, section: str = "models"
) -> Path:
    """Set (or with ``entry=None`` remove) ``name``'s entry in ``section``; read-modify-write under a lock, atomic."""
    path = Path(path or MANIFEST_PATH)
    with _locked(path):
        manifest = read_manifest(path)
        if entry is None:
            manifest[section].pop(name, None)
        else:
            manifest[section][name] = dict(entry)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(manifest_text(manifest))
            os.replace(readable(Path(tmp)), path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return path


# --------------------------------------------------------------------------------------
# Downloads by URL and hash
# --------------------------------------------------------------------------------------


def download_dir() -> Path:
    """Where :func:`load_from_url` caches files: ``cache_dir() / "pretrained"`` (``~/.cache/gancourse/pretrained``)."""
    return cache_dir() / "pretrained"


def load_from_url(
    url: str,
    sha256: str,
    file_name: str | None = None,
    directory: str | os.PathLike | None = None,
    deadline: float = DOWNLOAD_DEADLINE_S,
) -> dict[str, Any]:
    """Download a state dict (https, http or file URL), verify its sha256, cache it, load it with ``weights_only=True``.

    The download path for larger models than the package ships, in the style of
    ``torch.hub.load_state_dict_from_url(url, check_hash=True)``, but with the full
    sha256 given by the caller (not a prefix in the file name). The file is saved as
    ``directory / file_name`` (default: :func:`download_dir` and the URL's last path
    component); a cached file with the right hash is used without downloading, one
    with another hash is downloaded again. A download whose hash differs is never
    saved (:class:`gancourse.data.DataError` names the URL and both hashes). ``deadline``
    bounds the whole download in seconds (each read's timeout is 60 s): a server that
    trickles bytes is stopped with a :class:`~gancourse.data.DataError`, nothing saved.
    """
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256.lower()):
        raise ValueError(f"sha256 = {sha256!r} must be the 64 hex digits of the file's SHA-256 (sha256sum FILE)")
    name = file_name or Path(urllib.parse.unquote(urllib.parse.urlparse(url).path)).name
    if not name or name in (".", "..") or Path(name).name != name:
        raise ValueError(f"file_name = {name!r} is not a plain file name: pass file_name='model.pt'")
    target = download(url, Path(directory or download_dir()) / name, sha256.lower(), deadline=deadline)
    try:
        return torch.load(target, map_location="cpu", weights_only=True)
    except Exception as err:
        raise WeightsError(
            f"{target} (from {url}) has the expected sha256 but does not load with weights_only=True "
            f"({type(err).__name__}: {err}): it is not a plain state dict of tensors"
        ) from err
