"""``python -m gancourse train`` (gancourse.cli.training): the run folder is checked first, errors are one line."""

from __future__ import annotations

import errno
import tempfile

import pytest

from gancourse import cli
from gancourse.checkpoints import load_checkpoint
from gancourse.cli import sampling

TOY = ["--mode", "quick", "--no-progress", "--no-eval", "--device", "cpu"]
TOY += [arg for item in ("steps=2", "batch_size=16", "hidden=16", "sample_every=1") for arg in ("--set", item)]


def _train(out, *extra):
    return cli.main(["train", "toy_gan", *TOY, "--out", str(out), *extra])


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_a_folder_with_files_but_no_checkpoint_is_refused_naming_them(tmp_path, capsys):
    out = tmp_path / "mine"
    (out / "samples").mkdir(parents=True)
    (out / "config.json").write_text('{"mine": true}')
    (out / "history.json").write_text("[1, 2, 3]")
    assert _train(out) == 2
    line = _one_line(capsys.readouterr().err)
    assert "holds files but no checkpoint.pt: config.json, history.json, samples" in line
    assert "choose another --out, or remove them" in line
    assert (out / "config.json").read_text() == '{"mine": true}' and not (out / "checkpoint.pt").exists()
    assert _train(out, "--resume") == 2  # nothing to continue either
    assert "holds no checkpoint.pt (it holds config.json, history.json, samples)" in capsys.readouterr().err


def test_empty_folders_finished_runs_and_resume_still_work(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / ".checkpoint.pt.host-1.abc.tmp").write_bytes(b"a killed save")  # the run's own: not the user's files
    assert _train(empty, "--stop-after", "1") == 0
    assert _train(empty) == 2 and "pass --resume" in capsys.readouterr().err
    assert _train(empty, "--resume") == 0 and load_checkpoint(empty / "checkpoint.pt")["step"] == 2
    assert _train(empty, "--resume") == 0  # a finished run: loaded, not retrained
    assert "resumed" in capsys.readouterr().out


def test_an_out_that_is_a_file(tmp_path, capsys):
    blocker = tmp_path / "afile"
    blocker.write_text("not a folder")
    assert _train(blocker) == 2
    assert "--out = " in (line := _one_line(capsys.readouterr().err)) and "is a file: give a folder" in line
    assert blocker.read_text() == "not a folder"


def test_a_read_only_out_is_reported_before_training(tmp_path, monkeypatch, capsys):
    out = tmp_path / "locked"
    mkstemp = tempfile.mkstemp

    def denied(*args, dir=None, **kwargs):  # (as root, chmod would not stop the write)
        if dir is not None and str(dir).startswith(str(out)):
            raise PermissionError(errno.EACCES, "Permission denied", str(dir))
        return mkstemp(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    assert _train(out) == 1
    line = _one_line(capsys.readouterr().err)
    assert f"could not write the run into --out = {out}: permission denied; fix its permissions" in line
    assert "choose another --out" in line


def test_a_full_disk_while_writing_a_grid(tmp_path, monkeypatch, capsys):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    save_grid = sampling._save_grid

    def full_at_step_2(images, path, *args):
        if path.name == "step_0000002.png":
            raise OSError(errno.ENOSPC, "No space left on device")
        return save_grid(images, path, *args)

    monkeypatch.setattr(sampling, "_save_grid", full_at_step_2)
    out = tmp_path / "run"
    assert _train(out) == 1
    printed = capsys.readouterr()
    line = _one_line(printed.err)
    assert f"could not write the sample grid {out / 'samples' / 'step_0000002.png'}: the disk is full" in line
    assert "free some space, or choose another --out" in line
    # the step that wrote it was undone; the one before is kept, and resumes
    assert load_checkpoint(out / "checkpoint.pt")["step"] == 1 and "continue with:" in printed.out
    monkeypatch.undo()
    assert _train(out, "--resume") == 0 and load_checkpoint(out / "checkpoint.pt")["step"] == 2


def test_debug_shows_the_traceback(tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("")
    with pytest.raises(cli.UsageError, match="is a file"):
        cli.main(["--debug", "train", "toy_gan", *TOY, "--out", str(blocker)])
