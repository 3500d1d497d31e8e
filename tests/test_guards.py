"""gancourse.train.guards: a NaN or inf loss, weight or optimiser state stops the run, truthfully."""

import pytest
import torch
from torch import nn

from gancourse.train.guards import TrainingDiverged, check_weights, checked_window, last_good

CPU = torch.device("cpu")
NAN, INF = float("nan"), float("inf")


def window(*rows):
    return [(i, {"loss_d": torch.tensor(d), "loss_g": torch.tensor(g)}) for i, (d, g) in enumerate(rows)]


def test_checked_window_returns_the_table_of_finite_values():
    names, table = checked_window(window((1.0, 2.0), (3.0, 4.0)), "no checkpoint was written")
    assert names == ["loss_d", "loss_g"] and torch.equal(table, torch.tensor([[1.0, 2.0], [3.0, 4.0]]))


def test_checked_window_names_the_first_bad_step_and_value():
    rows = window((1.0, 2.0), (0.5, NAN), (INF, INF))
    with pytest.raises(TrainingDiverged, match=r"diverged at step 2: loss_g = nan\. Stopped; LAST\.") as err:
        checked_window(rows, "LAST")
    assert "loss_d" not in str(err.value)  # the finite value is not named
    with pytest.raises(TrainingDiverged, match=r"step 1: loss_d = inf, loss_g = -inf"):
        checked_window(window((INF, -INF)), "LAST")
    assert issubclass(TrainingDiverged, RuntimeError)


def test_check_weights_names_the_nan_entry_and_passes_finite_ones():
    torch.manual_seed(0)
    generator = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    opt = torch.optim.Adam(generator.parameters())
    generator(torch.randn(4, 2)).sum().backward()
    opt.step()
    check_weights({"generator": generator}, {"opt_g": opt}, CPU, 7, "LAST")  # finite: no exception
    with torch.no_grad():
        generator[0].weight[1, 0] = NAN
    with pytest.raises(TrainingDiverged, match=r"by step 7: NaN or inf in generator\.0\.weight although.*LAST"):
        check_weights({"generator": generator}, {"opt_g": opt}, CPU, 7, "LAST")
    with torch.no_grad():
        generator[0].weight.zero_()
    opt.state[generator[2].bias]["exp_avg"].fill_(INF)
    with pytest.raises(TrainingDiverged, match=r"opt_g\.state\.3\.exp_avg"):
        check_weights({"generator": generator}, {"opt_g": opt}, CPU, 7, "LAST")
    check_weights({}, {}, CPU, 0, "LAST")  # nothing to check


def test_last_good_says_what_is_on_disk(tmp_path):
    path = tmp_path / "run.pt"
    assert last_good(path, 5) == "no checkpoint was written"  # the file is not there
    assert last_good(None, None) == "no checkpoint was written"
    path.write_bytes(b"x")
    assert last_good(path, 5) == f"the last good checkpoint, {path} (step 5), is intact"
    assert last_good(path, None) == f"{path} was not overwritten by this run"
