"""``python -m gancourse sample`` (gancourse.cli.sampling): what cannot be written or drawn is one line."""

from __future__ import annotations

import errno

import pytest

from gancourse import cli
from gancourse.cli import sampling

TOY = ["--mode", "quick", "--no-progress", "--no-eval", "--device", "cpu"]
TOY += [arg for item in ("steps=1", "batch_size=16", "hidden=16") for arg in ("--set", item)]


@pytest.fixture(scope="module")
def toy_checkpoint(tmp_path_factory):
    out = tmp_path_factory.mktemp("toy") / "run"
    assert cli.main(["train", "toy_gan", *TOY, "--out", str(out)]) == 0
    return str(out / "checkpoint.pt")


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_a_grid_where_no_folder_can_be_made(toy_checkpoint, capsys):
    assert cli.main(["sample", toy_checkpoint, "--out", "/proc/nope/x.png", "--device", "cpu"]) == 1
    line = _one_line(capsys.readouterr().err)
    assert "could not write the sample grid /proc/nope/x.png" in line and "check the path" in line


def test_a_full_disk_while_writing_the_grid(toy_checkpoint, tmp_path, monkeypatch, capsys):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(sampling, "_save_grid", full)
    grid = tmp_path / "grid.png"
    assert cli.main(["sample", toy_checkpoint, "--out", str(grid), "--device", "cpu"]) == 1
    line = _one_line(capsys.readouterr().err)
    assert f"could not write the sample grid {grid}: the disk is full; free some space, or choose another --out" in line


@pytest.mark.parametrize("seed", [2**70, 2**63, -1])
def test_seeds_out_of_the_generators_range(toy_checkpoint, tmp_path, seed, capsys):
    grid = tmp_path / "grid.png"
    assert cli.main(["sample", toy_checkpoint, "--seed", str(seed), "--out", str(grid)]) == 2
    line = _one_line(capsys.readouterr().err)
    assert f"--seed = {seed} is out of range: allowed 0 <= seed <= 2**63 - 1" in line
    assert not grid.exists()
    assert cli.main(["sample", toy_checkpoint, "--seed", str(2**63 - 1), "--out", str(grid)]) == 0
