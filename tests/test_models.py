import pytest
import torch

from gancourse.models import TinyRegressor


def test_shapes_and_parameter_count():
    model = TinyRegressor()
    assert model(torch.randn(7, 3)).shape == (7, 1)
    assert sum(p.numel() for p in model.parameters()) == 3 * 20 + 20 + 20 + 1
    assert TinyRegressor(5, 8, 2)(torch.randn(4, 5)).shape == (4, 2)


@pytest.mark.parametrize("kwargs, name", [({"hidden": 0}, "hidden"), ({"in_features": 0}, "in_features")])
def test_bad_sizes(kwargs, name):
    with pytest.raises(ValueError, match=f"{name} = 0 is out of range: allowed {name} >= 1"):
        TinyRegressor(**kwargs)


def test_gradcheck():
    model = TinyRegressor(hidden=4).double()
    x = torch.randn(3, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(model, (x,))
