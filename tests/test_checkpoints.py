import errno
import multiprocessing
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from gancourse import checkpoints
from gancourse.models import TinyRegressor


def test_roundtrip_with_weights_only(tmp_path):
    model = TinyRegressor()
    optimizer = torch.optim.Adam(model.parameters())
    model(torch.randn(4, 3)).sum().backward()
    optimizer.step()
    path = checkpoints.save_checkpoint(
        tmp_path / "a" / "run.pt",
        {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": 7, "config": {"lr": 0.1}},
    )
    state = checkpoints.load_checkpoint(path)
    assert state["step"] == 7 and state["config"] == {"lr": 0.1}
    restored = TinyRegressor()
    restored.load_state_dict(state["model"])
    x = torch.randn(2, 3)
    assert torch.equal(restored(x), model(x))
    assert not (tmp_path / "a" / "run.pt.tmp").exists()


def test_rng_state_restores_every_generator(tmp_path):
    checkpoints.save_checkpoint(tmp_path / "rng.pt", {"rng": checkpoints.rng_state()})
    first = (random.random(), float(np.random.rand()), float(torch.rand(1)))
    checkpoints.set_rng_state(checkpoints.load_checkpoint(tmp_path / "rng.pt")["rng"])
    assert (random.random(), float(np.random.rand()), float(torch.rand(1))) == first


def test_missing_file(tmp_path):
    with pytest.raises(checkpoints.CheckpointError, match="nothing.pt does not exist"):
        checkpoints.load_checkpoint(tmp_path / "nothing.pt")


def test_garbage_file(tmp_path):
    path = tmp_path / "garbage.pt"
    path.write_bytes(b"this is not a checkpoint")
    with pytest.raises(checkpoints.CheckpointError, match="garbage.pt is not a readable checkpoint"):
        checkpoints.load_checkpoint(path)


def test_foreign_torch_file(tmp_path):
    path = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(2)}, path)
    with pytest.raises(checkpoints.CheckpointError, match="foreign.pt is not a gancourse checkpoint"):
        checkpoints.load_checkpoint(path)


def test_pickled_object_is_refused(tmp_path):
    path = tmp_path / "object.pt"
    torch.save({"format": checkpoints.FORMAT, "model": TinyRegressor()}, path)  # a whole module, not a state dict
    with pytest.raises(checkpoints.CheckpointError, match="object.pt is not a readable checkpoint"):
        checkpoints.load_checkpoint(path)


def test_save_leaves_no_temporary_file_and_uses_unique_names(tmp_path, monkeypatch):
    names = []
    real_mkstemp = checkpoints.tempfile.mkstemp

    def spy(*args, **kwargs):
        fd, name = real_mkstemp(*args, **kwargs)
        names.append(name)
        return fd, name

    monkeypatch.setattr(checkpoints.tempfile, "mkstemp", spy)
    checkpoints.save_checkpoint(tmp_path / "run.pt", {"step": 1})
    checkpoints.save_checkpoint(tmp_path / "run.pt", {"step": 2})
    assert len(set(names)) == 2 and all(Path(n).parent == tmp_path for n in names)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.pt"]
    assert checkpoints.load_checkpoint(tmp_path / "run.pt")["step"] == 2


def test_a_killed_saves_temporary_is_removed_by_the_next_save_or_load(tmp_path):
    """SIGKILL during a save: the temporary stays. A dead writer's (or an old) one goes; a live writer's stays."""
    import os
    import subprocess
    import sys

    path = checkpoints.save_checkpoint(tmp_path / "run.pt", {"step": 1})
    host = checkpoints._writer_tag().rsplit("-", 1)[0]
    code = (
        "import os, sys, torch; from gancourse import checkpoints; "
        "checkpoints.os.replace = lambda *a: os.kill(os.getpid(), 9); "  # killed just before the rename
        "checkpoints.save_checkpoint(sys.argv[1], {'w': torch.zeros(1000)})"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}  # this checkout's gancourse
    killed = subprocess.run([sys.executable, "-c", code, str(path)], env=env)
    assert killed.returncode == -9
    (left,) = [p for p in tmp_path.iterdir() if p.name != "run.pt"]
    assert left.name.startswith(f".run.pt.{host}-") and left.name.endswith(".tmp")
    live = tmp_path / f".run.pt.{host}-{os.getpid()}.abcdefgh.tmp"  # this process: a live writer
    elsewhere = tmp_path / ".run.pt.otherhost-1.abcdefgh.tmp"  # another machine's writer: its pid means nothing here
    old = tmp_path / ".run.pt.12345678.tmp"  # no writer in the name, untouched for an hour
    other_run = tmp_path / f".other.pt.{host}-999999999.abcdefgh.tmp"  # another checkpoint's
    for extra in (live, elsewhere, old, other_run):
        extra.write_bytes(b"partial")
    os.utime(old, (0, 0))
    assert checkpoints.load_checkpoint(path)["step"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["run.pt", live.name, elsewhere.name, other_run.name])
    os.utime(elsewhere, (0, 0))
    checkpoints.save_checkpoint(path, {"step": 2})
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["run.pt", live.name, other_run.name])


def _writer(path, value, rounds):
    for _ in range(rounds):
        checkpoints.save_checkpoint(path, {"value": torch.full((20_000,), float(value)), "who": value})


@pytest.mark.slow
def test_two_concurrent_writers_never_tear_the_file(tmp_path):
    path = tmp_path / "shared.pt"
    checkpoints.save_checkpoint(path, {"value": torch.zeros(20_000), "who": 0})
    ctx = multiprocessing.get_context("spawn")
    writers = [ctx.Process(target=_writer, args=(path, who, 25)) for who in (1, 2)]
    for w in writers:
        w.start()
    seen = set()
    while any(w.is_alive() for w in writers):
        state = checkpoints.load_checkpoint(path)  # a reader never sees a torn file
        assert torch.all(state["value"] == state["who"])
        seen.add(state["who"])
    for w in writers:
        w.join()
        assert w.exitcode == 0
    final = checkpoints.load_checkpoint(path)
    assert final["who"] in (1, 2) and torch.all(final["value"] == final["who"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shared.pt"]


def test_disk_full_removes_the_temporary_file_and_names_the_path(tmp_path, monkeypatch):
    path = checkpoints.save_checkpoint(tmp_path / "run.pt", {"step": 1})

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(checkpoints.os, "fsync", full)
    with pytest.raises(checkpoints.CheckpointError, match=r"could not write the checkpoint .*run.pt: the disk is full"):
        checkpoints.save_checkpoint(path, {"step": 2})
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.pt"]
    assert checkpoints.load_checkpoint(path)["step"] == 1  # the previous checkpoint is intact


class _FillsUp:
    """A file on a disk with ``room`` bytes left: a write beyond them fails with ENOSPC, as a full disk's does."""

    def __init__(self, file, room):
        self.file, self.room = file, room

    def write(self, data):
        if len(data) > self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(data)
        return self.file.write(data)

    def __getattr__(self, name):
        return getattr(self.file, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.file.close()


def test_disk_full_inside_torch_save_says_the_disk_is_full(tmp_path, monkeypatch):
    path = checkpoints.save_checkpoint(tmp_path / "run.pt", {"step": 1})
    fdopen = checkpoints.os.fdopen
    monkeypatch.setattr(checkpoints.os, "fdopen", lambda fd, mode: _FillsUp(fdopen(fd, mode), room=4096))
    # torch's writer turns the OSError into "RuntimeError: ... unexpected pos": the reason must survive
    with pytest.raises(checkpoints.CheckpointError, match=r"run.pt: the disk is full\. Nothing was changed") as err:
        checkpoints.save_checkpoint(path, {"step": 2, "weights": torch.zeros(100_000)})
    assert "unexpected pos" not in str(err.value)
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.pt"]
    assert checkpoints.load_checkpoint(path)["step"] == 1


def test_permission_denied_is_about_permissions_not_the_file(tmp_path, monkeypatch):
    path = checkpoints.save_checkpoint(tmp_path / "run.pt", {"step": 1})

    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(checkpoints.torch, "load", denied)  # (as root, chmod 000 would not stop the read)
    with pytest.raises(checkpoints.CheckpointError, match="run.pt cannot be read: permission denied") as err:
        checkpoints.load_checkpoint(path)
    assert "chmod" in str(err.value) and "Delete it" not in str(err.value)
    monkeypatch.setattr(checkpoints.tempfile, "mkstemp", denied)
    with pytest.raises(checkpoints.CheckpointError, match="run.pt: permission denied.*fix the permissions") as err:
        checkpoints.save_checkpoint(path, {"step": 2})
    assert "free some space" not in str(err.value)


def test_nonfinite_state_is_never_written(tmp_path):
    path = checkpoints.save_checkpoint(tmp_path / "run.pt", {"model": {"w": torch.ones(3)}}, finite=["model"])
    with pytest.raises(checkpoints.NonFiniteState, match=r"NaN or inf in model\.w"):
        checkpoints.save_checkpoint(path, {"model": {"w": torch.tensor([1.0, float("nan"), 2.0])}}, finite=["model"])
    assert torch.equal(checkpoints.load_checkpoint(path)["model"]["w"], torch.ones(3))
    assert checkpoints.nonfinite_entries({"opt": {"state": [{"exp_avg": torch.tensor([float("inf")])}]}}) == [
        "opt.state[0].exp_avg"
    ]


def test_unwritable_folder_is_reported_before_training(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(checkpoints.CheckpointError, match="cannot write checkpoints to .*file"):
        checkpoints.check_writable(blocker / "run.pt")
    with pytest.raises(checkpoints.CheckpointError, match="is a folder"):
        checkpoints.check_writable(tmp_path)
    assert checkpoints.check_writable(tmp_path / "new" / "run.pt").parent.is_dir()


@pytest.mark.parametrize("size", [0, 7, 100])
def test_empty_or_truncated_file(tmp_path, size):
    good = checkpoints.save_checkpoint(tmp_path / "good.pt", {"w": torch.randn(1000)})
    path = tmp_path / "cut.pt"
    path.write_bytes(good.read_bytes()[:size])
    with pytest.raises(checkpoints.CheckpointError, match="cut.pt is (empty|not a readable checkpoint)"):
        checkpoints.load_checkpoint(path)


def test_refusal_keeps_torchs_trust_warning(tmp_path):
    path = tmp_path / "object.pt"
    torch.save({"format": checkpoints.FORMAT, "model": TinyRegressor()}, path)
    with pytest.raises(checkpoints.CheckpointError) as info:
        checkpoints.load_checkpoint(path)
    assert "only if you trust the source" in str(info.value) and "\x1b[" not in str(info.value)


def test_missing_keys_are_named(tmp_path):
    with pytest.raises(checkpoints.CheckpointError, match="run.pt lacks generator, opt_d"):
        checkpoints.require_keys({"step": 1}, ["step", "generator", "opt_d"], tmp_path / "run.pt")


def test_generator_state_same_device_is_exact():
    g = torch.Generator().manual_seed(3)
    torch.rand(5, generator=g)
    stored = checkpoints.generator_state(g)
    expected = torch.rand(4, generator=g)
    fresh = torch.Generator()
    assert checkpoints.set_generator_state(fresh, stored) is True
    assert torch.equal(torch.rand(4, generator=fresh), expected)
    fresh = torch.Generator()
    assert checkpoints.set_generator_state(fresh, stored["state"]) is True  # an untagged (older) CPU state
    assert torch.equal(torch.rand(4, generator=fresh), expected)


def test_cuda_generator_state_loads_on_a_cpu(tmp_path):
    # what torch.Generator("cuda").get_state() returns: 16 bytes (Philox seed and offset)
    cuda_like = {"device": "cuda", "state": torch.arange(16, dtype=torch.uint8), "seed": 7}
    path = checkpoints.save_checkpoint(tmp_path / "gpu.pt", {"noise_rng": cuda_like})
    stored = checkpoints.load_checkpoint(path)["noise_rng"]
    draws = []
    for _ in range(2):
        g = torch.Generator()
        with pytest.warns(UserWarning, match="cuda random-number generator state cannot continue on cpu"):
            assert checkpoints.set_generator_state(g, stored) is False
        draws.append(torch.rand(3, generator=g))
    assert torch.equal(draws[0], draws[1])  # deterministic: the same checkpoint continues the same way
    g = torch.Generator()
    with pytest.warns(UserWarning):
        checkpoints.set_generator_state(g, cuda_like["state"])  # untagged 16-byte state: recognised as CUDA


def test_cpu_generator_state_loads_on_a_cuda_generator():
    class CudaGenerator:  # stands in for torch.Generator("cuda") on a machine without a GPU
        device = torch.device("cuda")
        seed = None

        def manual_seed(self, seed):
            self.seed = seed

        def set_state(self, state):
            raise AssertionError("a CPU state must not be fed to a CUDA generator")

    stored = checkpoints.generator_state(torch.Generator().manual_seed(1))
    target = CudaGenerator()
    with pytest.warns(UserWarning, match="cpu random-number generator state cannot continue on cuda"):
        assert checkpoints.set_generator_state(target, stored) is False
    assert isinstance(target.seed, int)


def test_global_rng_state_loaded_onto_another_device_map(tmp_path):
    state = checkpoints.rng_state()
    state["cuda"] = [torch.arange(16, dtype=torch.uint8)]  # written on a GPU machine
    path = checkpoints.save_checkpoint(tmp_path / "rng.pt", {"rng": state})
    first = (random.random(), float(np.random.rand()), float(torch.rand(1)))
    checkpoints.set_rng_state(checkpoints.load_checkpoint(path)["rng"])  # no CUDA here: the CUDA part is skipped
    assert (random.random(), float(np.random.rand()), float(torch.rand(1))) == first
