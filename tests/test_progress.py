"""The run timer: the estimate before training, the measured one after the warm-up (a fake clock)."""

import pytest

from gancourse.config import DCGANConfig, ProGANConfig, budget
from gancourse.train.progress import SHORTEN, RunTimer


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def make(cfg, steps, device="cuda", **kwargs):
    clock, shown, printed = FakeClock(), [], []
    timer = RunTimer(cfg, 0, steps, device, clock=clock, show=shown.append, out=printed.append, **kwargs)
    return timer, clock, shown, printed


def test_before_training_the_budget_estimate_is_shown():
    cfg = DCGANConfig()
    _, _, shown, printed = make(cfg, 5000)
    expected = budget.duration(budget.t4_seconds(cfg, 5000))
    assert shown == [f"training DCGAN: 5,000 steps, expected about {expected} on an NVIDIA T4"]
    assert printed == []  # a short run gives no advice


def test_after_the_warm_up_the_measured_rate_gives_the_time_left():
    timer, clock, shown, _ = make(DCGANConfig(), 1000, device="cpu", warmup_steps=20)
    for step in range(1, 10):  # 9 steps in 4.5 s: still warming up
        clock.now += 0.5
        timer.update(step)
    assert len(shown) == 1 and "on a CPU like the CI machine's" in shown[0]
    timer2, clock2, shown2, _ = make(DCGANConfig(), 1000, device="cpu", warmup_steps=20, warmup_seconds=1e9)
    for step in range(1, 21):
        clock2.now += 0.5
        timer2.update(step)
    # 20 steps in 10 s: 2 steps/s, 980 steps left = 490 s, 500 s in all
    assert shown2[-1] == "training DCGAN: 2.0 steps/s here, 8 min in all expected (8 min left)"
    clock2.now += 100
    timer2.update(21)
    assert len(shown2) == 2  # said once


def test_warm_up_ends_after_warmup_seconds():
    timer, clock, shown, _ = make(DCGANConfig(), 1000, warmup_steps=20, warmup_seconds=5.0)
    clock.now += 6.0
    timer.update(3)  # 3 steps in 6 s: 0.5 steps/s, 997 left
    assert "0.5 steps/s" in shown[-1] and "33 min left" in shown[-1]


def test_a_long_run_says_how_to_shorten_it():
    _, _, shown, printed = make(ProGANConfig.for_mode("paper"), ProGANConfig.for_mode("paper").steps)
    assert "h on an NVIDIA T4" in shown[0]
    assert printed and SHORTEN in printed[0]


def test_duration_and_scaling():
    assert budget.duration(42) == "42 s" and budget.duration(600) == "10 min" and budget.duration(7200) == "2.0 h"
    cfg = DCGANConfig()
    # the estimate is linear in steps, and the counted FLOPs scale with the batch
    assert budget.t4_seconds(cfg, 200) == pytest.approx(2 * budget.t4_seconds(cfg, 100))
    assert budget.gflop_per_step(cfg.replace(batch_size=64)) == pytest.approx(budget.gflop_per_step(cfg) / 2)


def test_a_trainer_with_its_progress_bar_shows_the_estimate(capsys):
    from gancourse.config import ToyGANConfig
    from gancourse.train.recipes import RECIPES

    trainer = RECIPES["toy_gan"].build(ToyGANConfig(steps=3, log_every=1))
    trainer.train(progress=True)
    assert trainer.step == 3
    captured = capsys.readouterr()
    assert "training ToyGAN: 3 steps, expected about" in captured.err  # in the bar (tqdm writes to stderr)
    assert "to shorten it" not in captured.out  # a short run prints no advice
