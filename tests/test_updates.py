"""gancourse.train.updates: one optimiser update under mixed precision, and the frozen opponent."""

import copy

import pytest
import torch
from torch import nn

from gancourse.train.updates import MixedPrecision, frozen

CPU = torch.device("cpu")


def small_net(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 1))


def loss_of(net, x):
    return (net(x) ** 2).mean()


@pytest.mark.parametrize("enabled", [False, True])  # True on the CPU: bfloat16 autocast, no scaler
def test_update_is_exactly_zero_grad_backward_step(enabled):
    net = small_net()
    by_hand = copy.deepcopy(net)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    opt_by_hand = torch.optim.Adam(by_hand.parameters(), lr=1e-2)
    precision = MixedPrecision(CPU, enabled, [opt])
    torch.manual_seed(1)
    for _ in range(4):
        x = torch.randn(8, 3)
        for mine, theirs in zip(net.parameters(), by_hand.parameters(), strict=True):
            mine.grad = torch.full_like(mine, 100.0)  # stale gradients: an update that did not clear them differs
            theirs.grad = torch.full_like(theirs, 100.0)
        with precision.autocast():
            loss = loss_of(net, x)
        precision.update(opt, loss)
        with precision.autocast():
            loss_by_hand = loss_of(by_hand, x)
        opt_by_hand.zero_grad(set_to_none=True)
        loss_by_hand.backward()
        opt_by_hand.step()
    for mine, theirs in zip(net.parameters(), by_hand.parameters(), strict=True):
        assert torch.equal(mine, theirs)  # bit-exact
        assert torch.equal(mine.grad, theirs.grad)
    for mine, theirs in zip(opt.state.values(), opt_by_hand.state.values(), strict=True):
        assert mine.keys() == theirs.keys() and all(torch.equal(mine[k], theirs[k]) for k in mine)
    assert not any(scaler.is_enabled() for scaler in precision.scalers)  # no float16 on the CPU: no scaling


def test_the_optimiser_step_runs_outside_autocast():
    seen = []

    class Recording(torch.optim.SGD):
        def step(self, closure=None):
            seen.append(torch.is_autocast_enabled("cpu"))
            return super().step(closure)

    net = small_net()
    opt = Recording(net.parameters(), lr=0.1)
    precision = MixedPrecision(CPU, True, [opt])
    with precision.autocast():
        assert torch.is_autocast_enabled("cpu")
        assert net(torch.randn(4, 3)).dtype == torch.bfloat16  # the forward pass in bfloat16 on the CPU
        precision.update(opt, loss_of(net, torch.randn(4, 3)))
        assert torch.is_autocast_enabled("cpu")  # the block's autocast is back after the update
    assert seen == [False]
    assert all(p.dtype == torch.float32 for p in net.parameters())  # the weights stay in full precision
    off = MixedPrecision(CPU, False, [opt])
    with off.autocast():
        assert not torch.is_autocast_enabled("cpu") and net(torch.randn(4, 3)).dtype == torch.float32


def test_each_optimiser_has_its_own_scaler():
    a, b = small_net(0), small_net(1)
    opt_a, opt_b = torch.optim.SGD(a.parameters(), lr=0.1), torch.optim.SGD(b.parameters(), lr=0.1)
    precision = MixedPrecision(CPU, False, [opt_a, opt_b])
    assert len(precision.scalers) == 2 and precision.scalers[0] is not precision.scalers[1]
    assert len(precision.state_dicts()) == 2
    before = [p.detach().clone() for p in b.parameters()]
    precision.update(opt_a, loss_of(a, torch.randn(4, 3)))
    assert all(torch.equal(x, y) for x, y in zip(before, b.parameters(), strict=True))  # only a's optimiser stepped


def mixed_flags_net():
    net = small_net()
    net[0].bias.requires_grad_(False)  # mixed flags: a parameter already frozen before the block
    return net, [p.requires_grad for p in net.parameters()]


def test_frozen_switches_gradients_off_inside_and_restores_each_flag():
    net, flags = mixed_flags_net()
    assert flags == [True, False, True, True]
    with frozen(net) as inside:
        assert inside is net
        assert not any(p.requires_grad for p in net.parameters())
        out = loss_of(net, torch.randn(4, 3))
        assert not out.requires_grad  # no gradient reaches the frozen network
    assert [p.requires_grad for p in net.parameters()] == flags  # the frozen bias stays frozen, the rest train


def test_frozen_restores_the_flags_when_the_block_raises():
    net, flags = mixed_flags_net()
    with pytest.raises(KeyboardInterrupt):
        with frozen(net):
            raise KeyboardInterrupt
    assert [p.requires_grad for p in net.parameters()] == flags


def test_frozen_disabled_leaves_the_flags():
    net, flags = mixed_flags_net()
    with frozen(net, enabled=False):
        assert [p.requires_grad for p in net.parameters()] == flags
        loss_of(net, torch.randn(4, 3)).backward()
    assert net[0].weight.grad is not None and net[0].bias.grad is None  # trained as it was
    assert [p.requires_grad for p in net.parameters()] == flags
