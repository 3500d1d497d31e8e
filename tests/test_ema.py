"""gancourse.train.ema: the generator's moving average (Karras et al. 2018, App. A.1), its weights.

Batch-norm buffers of the average are not tested here (how the average gets its
statistics is the trainer's business).
"""

import math

import pytest
import torch
from torch import nn

from gancourse.train.ema import GeneratorAverage


def small_generator(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 6), nn.LeakyReLU(0.2), nn.Linear(6, 2)).double()


@pytest.mark.parametrize(
    "updates, beta",
    [(0, 0.1), (1, 2 / 11), (8, 0.5), (80, 0.9), (890, 0.99), (8990, 0.999), (10**6, 0.999)],
)
def test_beta_warms_up_to_the_decay(updates, beta):
    """beta_t = min(decay, (1 + t) / (10 + t)): 0.1 first, 0.5 after 8 updates, capped at the decay."""
    assert GeneratorAverage(small_generator(), 0.999).beta(updates) == pytest.approx(beta, abs=1e-12)


def test_beta_is_the_smaller_of_the_decay_and_the_warm_up():
    average = GeneratorAverage(small_generator(), 0.5)
    for t in range(30):
        assert average.beta(t) == min(0.5, (1 + t) / (10 + t))
    assert average.beta(7) < 0.5 and average.beta(8) == 0.5 and average.beta(1000) == 0.5
    betas = [GeneratorAverage(small_generator(), 0.999).beta(t) for t in range(0, 20000, 97)]
    assert betas == sorted(betas)  # never decreasing


def test_update_is_the_lerp_closed_form():
    generator = small_generator()
    average = GeneratorAverage(generator, 0.9)
    expected = [p.detach().clone() for p in generator.parameters()]  # the average starts at G
    assert all(torch.equal(a, e) for a, e in zip(average.module.parameters(), expected, strict=True))
    torch.manual_seed(1)
    for t in range(40):
        with torch.no_grad():
            for p in generator.parameters():
                p.add_(torch.randn_like(p))  # G moves between updates
        average.update(generator, t)
        beta = min(0.9, (1 + t) / (10 + t))
        current = [p.detach() for p in generator.parameters()]
        expected = [beta * e + (1 - beta) * p for e, p in zip(expected, current, strict=True)]
    pairs = zip(average.module.parameters(), expected, generator.parameters(), strict=True)
    for a, e, g in pairs:
        assert torch.allclose(a, e, rtol=1e-12, atol=1e-12)
        assert not torch.allclose(a, g)  # an average, not G's current weights


def test_update_uses_the_number_of_earlier_updates():
    """The same G folded in with t = 0 (beta 0.1) and t = 100 (beta = decay 0.9) lands in different places."""
    generator = small_generator()
    early, late = GeneratorAverage(generator, 0.9), GeneratorAverage(generator, 0.9)
    start = [p.detach().clone() for p in generator.parameters()]
    with torch.no_grad():
        for p in generator.parameters():
            p.add_(1.0)
    early.update(generator, 0)
    late.update(generator, 100)
    for e, s in zip(early.module.parameters(), start, strict=True):
        assert torch.allclose(e, s + 0.9)  # (1 - 0.1) of the unit step
    for a, s in zip(late.module.parameters(), start, strict=True):
        assert torch.allclose(a, s + 0.1)  # (1 - 0.9) of it


def test_the_average_is_a_copy_that_is_never_trained():
    generator = small_generator()
    average = GeneratorAverage(generator, 0.99)
    assert all(p.requires_grad for p in generator.parameters())  # G itself still trains
    assert not any(p.requires_grad for p in average.module.parameters())
    owned = {p.data_ptr() for p in average.module.parameters()}
    assert owned.isdisjoint(p.data_ptr() for p in generator.parameters())  # its own storage
    before = [p.detach().clone() for p in average.module.parameters()]
    with torch.no_grad():
        for p in generator.parameters():
            p.mul_(3.0)
    assert all(torch.equal(a, b) for a, b in zip(average.module.parameters(), before, strict=True))
    average.update(generator, 5)
    assert not any(p.requires_grad for p in average.module.parameters())
    out = average.module(torch.randn(3, 4, dtype=torch.float64))
    assert not out.requires_grad  # no graph: sampling from the average never builds one


@pytest.mark.parametrize("decay", [0.0, 1.0, 1.5, -0.1, math.nan])
def test_decay_out_of_range_is_refused(decay):
    with pytest.raises(ValueError, match=rf"decay = {decay!r} is out of range: allowed 0 < decay < 1"):
        GeneratorAverage(small_generator(), decay)
