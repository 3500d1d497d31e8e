"""gancourse.train.state: the registry that checkpoints and the undo of an interrupted step both read."""

import pytest
import torch
from torch import nn

from gancourse.train.state import ReusedCopies, TrainerState, clone


def registered():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 1))
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    holder = {"step": 0, "history": [1.0]}
    state = TrainerState()
    state.module("net", lambda: net)
    state.optimizer("opt", opt)
    state.value("step", lambda: holder["step"], lambda s: holder.__setitem__("step", s))
    state.value("history", lambda: holder["history"], lambda h: holder.__setitem__("history", h), optional=True)
    return state, net, opt, holder


def train_once(net, opt):
    opt.zero_grad()
    net(torch.randn(8, 3)).pow(2).mean().backward()
    opt.step()


def test_required_finite_and_duplicate_names():
    state, *_ = registered()
    assert state.required == ("net", "opt", "step") and state.finite == ("net", "opt")
    with pytest.raises(ValueError, match="already has a part named 'step'"):
        state.value("step", lambda: 0, lambda s: None)


@pytest.mark.parametrize("first_step_before", [False, True])
def test_undo_restores_everything_in_place(first_step_before):
    state, net, opt, holder = registered()
    if first_step_before:
        train_once(net, opt)
    tensors = [*net.parameters(), *net.buffers()]
    kept = [t.detach().clone() for t in tensors]
    moments = {id(p): {k: v.clone() for k, v in s.items()} for p, s in opt.state.items()}
    snapshot = state.snapshot()
    for _ in range(2):
        train_once(net, opt)
    opt.param_groups[0]["lr"] = 0.5
    holder["step"] = 9
    holder["history"].append(2.0)  # in place: the snapshot holds a copy
    state.undo(snapshot)
    assert all(a is b for a, b in zip(tensors, [*net.parameters(), *net.buffers()], strict=True))  # same objects
    assert all(torch.equal(a, b) for a, b in zip(tensors, kept, strict=True))
    assert {id(p) for p in opt.state} == set(moments)  # Adam's first-step entries go when taken after the snapshot
    for p, s in opt.state.items():
        assert all(torch.equal(s[k], moments[id(p)][k]) for k in s)
    assert opt.param_groups[0]["lr"] == 1e-2 and holder == {"step": 0, "history": [1.0]}
    train_once(net, opt)  # the undone state's tensors are not the reused buffers: a second undo still works
    state.undo(snapshot)
    assert all(torch.equal(a, b) for a, b in zip(tensors, kept, strict=True))


def test_reused_copies_keep_buffers_while_shapes_stay():
    copies = ReusedCopies()
    tensors = [torch.randn(3), torch.arange(4)]
    first = copies.save(tensors)
    assert all(torch.equal(a, b) and a is not b for a, b in zip(first, tensors, strict=True))
    tensors[0].add_(1.0)
    second = copies.save(tensors)
    assert all(a is b for a, b in zip(first, second, strict=True)) and torch.equal(second[0], tensors[0])
    third = copies.save([torch.randn(5), torch.arange(4)])
    assert third[0] is not first[0] and third[0].shape == (5,)


def test_clone_copies_nested_tensors():
    x = torch.ones(2, requires_grad=True)
    copied = clone({"a": [x, (x, 3)], "b": "s"})
    assert type(copied["a"][1]) is tuple and copied["b"] == "s" and copied["a"][1][1] == 3
    with torch.no_grad():
        x.add_(1.0)
    assert torch.equal(copied["a"][0], torch.ones(2)) and not copied["a"][0].requires_grad
