import math

import pytest
import torch

from gancourse import experiments
from gancourse.config import StabilisationConfig, ToyGANConfig

CPU = torch.device("cpu")


def test_every_trick_is_a_valid_config_change():
    base = ToyGANConfig()
    tricks = experiments.stabilisation_tricks(base)
    assert tricks[0].changes == {} and len({t.name for t in tricks}) == len(tricks)
    for trick in tricks:
        base.replace(**trick.changes)  # validates every field and range


def test_compare_tricks_trains_each_trick_and_seed_and_summarises(monkeypatch):
    cfg = StabilisationConfig(steps=30, seeds=2, n_samples=200)
    tricks = experiments.stabilisation_tricks(experiments.base_config(cfg))[:2]
    monkeypatch.setattr(
        experiments,
        "base_config",
        lambda c: ToyGANConfig(steps=c.steps, hidden=16, batch_size=32, sample_every=c.steps),
    )
    runs = experiments.compare_tricks(cfg, tricks, device=CPU, progress=False)
    assert [(r.trick, r.seed) for r in runs] == [(t.name, s) for t in tricks for s in (0, 1)]
    assert all(r.samples.shape == (200, 2) and r.coverage.n_modes == 8 for r in runs)
    assert not torch.equal(runs[0].samples, runs[1].samples)  # seeds differ
    table = experiments.summarise(runs, experiments.floor(cfg))
    assert list(table.index) == [t.name for t in tricks] + ["real samples (floor)"]
    per_seed = [int(m) for m in table.loc[tricks[0].name, "modes per seed"].split()]
    assert per_seed == [r.coverage.modes_captured for r in runs[:2]]
    mean, spread = (float(x) for x in table.loc[tricks[0].name, "modes (of 8)"].split(" ± "))
    assert mean == pytest.approx(sum(per_seed) / 2, abs=0.05)


def test_the_floor_captures_every_mode():
    cover = experiments.floor(StabilisationConfig(n_samples=2500))
    assert cover.modes_captured == 8 and cover.high_quality_share > 0.98 and cover.kl_from_uniform < 0.01
    assert math.isfinite(cover.kl_from_uniform)
