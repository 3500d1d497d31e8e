"""Ctrl-C and SIGTERM during ``python -m gancourse train`` (gancourse.cli.interrupts): the run is saved and resumes."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from gancourse import cli
from gancourse.checkpoints import load_checkpoint
from gancourse.train.checkpointing import Checkpointing
from gancourse.train.loop import GANTrainer

ROOT = Path(__file__).resolve().parent.parent
#: the toy GAN saves no periodic checkpoint (checkpoint_every = 0): before, an interrupt lost the whole run
TOY = ["--mode", "quick", "--no-progress", "--no-eval", "--device", "cpu"]
TOY += [arg for item in ("steps=12", "batch_size=16", "hidden=16", "sample_every=1", "checkpoint_every=0")
        for arg in ("--set", item)]  # fmt: skip
OTHER = {signal.SIGINT: signal.SIGTERM, signal.SIGTERM: signal.SIGINT}


def _same_run(a: dict, b: dict) -> None:
    assert a["step"] == b["step"] and a["history"] == b["history"]
    for net in ("generator", "discriminator"):
        for name, value in a[net].items():
            assert torch.equal(b[net][name], value), f"{net}.{name}"
    assert [s for s, _ in a["samples"]] == [s for s, _ in b["samples"]]
    for (_, x), (_, y) in zip(a["samples"], b["samples"], strict=True):
        assert torch.equal(x, y)
    for key in ("opt_g", "opt_d"):
        for slot, state in a[key]["state"].items():
            for name, value in state.items():
                assert torch.equal(torch.as_tensor(b[key]["state"][slot][name]), torch.as_tensor(value)), key


def _resume(printed: str) -> list[str]:
    """The arguments of the ``python -m gancourse ...`` command the interrupted run printed."""
    line = next(line.strip() for line in printed.splitlines() if line.strip().startswith("python -m gancourse"))
    words = shlex.split(line)
    assert words[:3] == ["python", "-m", "gancourse"] and words[-1] == "--resume"
    return words[3:]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_inside_a_step_saves_the_run_before_it_and_resume_is_exact(signum, tmp_path, monkeypatch, capsys):
    assert cli.main(["train", "toy_gan", *TOY, "--out", str(tmp_path / "whole")]) == 0
    advance, save = GANTrainer.advance, Checkpointing.save

    def advance_then_signal(self):
        values = advance(self)  # D and G updated, the step counted: all of it must be undone
        if self.step == 6:
            os.kill(os.getpid(), signum)
        return values

    def save_under_fire(self, *args, **kwargs):
        os.kill(os.getpid(), OTHER[signum])  # a second signal while saving: reported, the save goes on
        return save(self, *args, **kwargs)

    monkeypatch.setattr(GANTrainer, "advance", advance_then_signal)
    monkeypatch.setattr(Checkpointing, "save", save_under_fire)
    parts = tmp_path / "parts"
    assert cli.main(["train", "toy_gan", *TOY, "--out", str(parts)]) == 128 + signum
    printed = capsys.readouterr()
    assert f"{signal.Signals(signum).name}: stopped at step 5 of 12" in printed.out
    assert "still saving the run" in printed.err and "Traceback" not in printed.err
    assert load_checkpoint(parts / "checkpoint.pt")["step"] == 5
    monkeypatch.undo()
    assert cli.main(_resume(printed.out)) == 0
    _same_run(load_checkpoint(tmp_path / "whole" / "checkpoint.pt"), load_checkpoint(parts / "checkpoint.pt"))
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the handlers are put back


def test_a_signal_while_loading_changes_nothing(tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", "toy_gan", *TOY, "--out", str(out), "--stop-after", "3"]) == 0
    before = (out / "checkpoint.pt").read_bytes()
    load = Checkpointing.load

    def load_then_signal(self, *args, **kwargs):
        step = load(self, *args, **kwargs)
        os.kill(os.getpid(), signal.SIGTERM)
        return step

    monkeypatch.setattr(Checkpointing, "load", load_then_signal)
    assert cli.main(["train", "toy_gan", *TOY, "--out", str(out), "--resume"]) == 143
    assert "stopped before training began" in capsys.readouterr().out
    assert (out / "checkpoint.pt").read_bytes() == before


def test_the_resume_command_repeats_the_options_and_fixes_mode_and_folder():
    command = cli.interrupts.resume_command("dcgan", ["--set", "lr_g=1e-4", "--stop-after", "9"], "quick", "runs/a b")
    assert (
        command
        == "python -m gancourse train dcgan --set lr_g=1e-4 --stop-after 9 --mode quick --out 'runs/a b' --resume"
    )
    assert cli.interrupts.resume_command("dcgan", ["--mode=full", "--out", "x", "--resume"], "quick", "x") == (
        "python -m gancourse train dcgan --mode=full --out x --resume"
    )


#: the command line in a process of its own, each step slowed down so that a signal from outside lands mid-run
SLOW_STEPS = """
import sys, time
from gancourse import cli
from gancourse.train.loop import GANTrainer
advance = GANTrainer.advance
def slow(self):
    values = advance(self)
    time.sleep(0.05)
    return values
GANTrainer.advance = slow
sys.exit(cli.main(sys.argv[1:]))
"""


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_from_outside_saves_the_run_and_resume_is_exact(signum, tmp_path, capsys):
    steps = ["--set", "steps=30", "--set", "sample_every=5"]  # the later --set wins over TOY's
    assert cli.main(["train", "toy_gan", *TOY, *steps, "--out", str(tmp_path / "whole")]) == 0
    parts = tmp_path / "parts"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    argv = [sys.executable, "-c", SLOW_STEPS, "train", "toy_gan", *TOY, *steps, "--out", str(parts)]
    run = subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (parts / "samples" / "step_0000005.png").exists():  # training is under way
        assert run.poll() is None, run.communicate()
        assert time.monotonic() < deadline, "the run did not reach step 5"
        time.sleep(0.02)
    run.send_signal(signum)
    out, err = run.communicate(timeout=120)
    assert run.returncode == 128 + signum, err
    assert "Traceback" not in err
    step = load_checkpoint(parts / "checkpoint.pt")["step"]
    assert 4 <= step < 30 and f"stopped at step {step} of 30" in out  # 4: the signal came while step 5 was written
    assert cli.main(_resume(out)) == 0  # the printed command, run here
    _same_run(load_checkpoint(tmp_path / "whole" / "checkpoint.pt"), load_checkpoint(parts / "checkpoint.pt"))
