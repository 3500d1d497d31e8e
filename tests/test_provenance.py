"""A reference run's provenance: the wall-time ledger and the FID curve recorded while it trains."""

import json

import pytest
import torch

from gancourse.config import DCGANConfig
from gancourse.pretrained import provenance
from gancourse.train.recipes import RECIPES


def test_the_ledger_sums_the_sessions(tmp_path):
    ledger = tmp_path / "run.time.json"
    provenance.add_wall_time(ledger, 1.5)
    assert provenance.add_wall_time(ledger, 2.0) == {"seconds": 3.5, "sessions": 2}


@pytest.mark.slow
def test_the_curve_scores_every_fifth_of_a_real_run_and_survives_a_resume(tmp_path):
    cfg = DCGANConfig(base_channels=8, batch_size=8, steps=10, data_limit=64, ema_decay=0.9, sample_every=5)
    trainer = RECIPES["dcgan"].build(cfg, device=torch.device("cpu"), checkpoint_path=tmp_path / "run.pt")
    path = tmp_path / "run.curve.json"
    curve = provenance.CurveRecorder("dcgan", cfg, path, points=5, n=50)
    trainer.train(6, progress=False, on_step=curve)
    assert [p["step"] for p in curve.points] == [2, 4, 6]
    seconds = [p["train_seconds"] for p in curve.points]
    assert seconds == sorted(seconds) and seconds[-1] > 0
    assert all(p["fid"] > p["floor_fid"] > 0 for p in curve.points)
    resumed = provenance.CurveRecorder("dcgan", cfg, path, points=5, n=50)  # a new session reads the points back
    assert resumed.points == curve.points and resumed.seconds == seconds[-1]
    resumed(trainer)  # step 6 again: already scored, nothing added
    trainer.train(10, progress=False, on_step=resumed)
    assert [p["step"] for p in json.loads(path.read_text())] == [2, 4, 6, 8, 10]
    assert resumed.points[-1]["train_seconds"] >= seconds[-1]
