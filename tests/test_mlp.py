"""gancourse.models.mlp: the tiny regressor of chapter 3 and the MLP GAN's shapes, gradients and checks."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gancourse.models import MLPDiscriminator, MLPGenerator, TinyRegressor


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


def test_mlp_gan_shapes():
    g = MLPGenerator(latent_dim=8, hidden=32, out_shape=(1, 32, 32))
    d = MLPDiscriminator((1, 32, 32), hidden=32)
    x = g(torch.randn(5, 8))
    assert x.shape == (5, 1, 32, 32) and d(x).shape == (5,)
    toy = MLPGenerator(latent_dim=2, hidden=16, out_shape=(2,), image_output=False)
    assert toy(torch.randn(4, 2)).shape == (4, 2)
    assert not isinstance(list(toy.net)[-1], nn.Tanh)
    with pytest.raises(ValueError, match="hidden = 0 is out of range"):
        MLPDiscriminator((2,), hidden=0)
