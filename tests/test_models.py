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


from torch import nn  # noqa: E402

from gancourse.models import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator  # noqa: E402


@pytest.mark.parametrize("size", [16, 32, 64, 128])
def test_dcgan_shapes(size):
    g, d = DCGANGenerator(latent_dim=10, base_channels=4, image_size=size), DCGANDiscriminator(4, size)
    x = g(torch.randn(3, 10))
    assert x.shape == (3, 1, size, size)
    assert -1 <= x.min() and x.max() <= 1  # tanh output
    assert d(x).shape == (3,)


def test_dcgan_follows_the_guidelines():
    g, d = DCGANGenerator(base_channels=8, image_size=32), DCGANDiscriminator(8, 32)
    g_layers, d_layers = list(g.net), list(d.net)
    assert not any(isinstance(m, (nn.MaxPool2d, nn.AvgPool2d, nn.Linear)) for m in [*g_layers, *d_layers])
    assert isinstance(g_layers[-1], nn.Tanh) and isinstance(g_layers[-2], nn.ConvTranspose2d)  # no BN on G's output
    assert isinstance(d_layers[1], nn.LeakyReLU) and d_layers[1].negative_slope == 0.2  # no BN on D's input
    assert not isinstance(d_layers[-1], nn.Sigmoid)  # logits
    convs = [m for m in [*g.modules(), *d.modules()] if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    std = torch.cat([m.weight.flatten() for m in convs]).std()
    assert 0.018 < std < 0.022  # N(0, 0.02) init
    # width doubles as resolution halves: 8 -> 16 -> 32 channels in D at 32 px
    assert [m.out_channels for m in d.modules() if isinstance(m, nn.Conv2d)] == [8, 16, 32, 1]


@pytest.mark.parametrize("size", [8, 48, 256])
def test_dcgan_rejects_unsupported_sizes(size):
    with pytest.raises(ValueError, match=f"image_size = {size} is not supported"):
        DCGANGenerator(image_size=size)
    with pytest.raises(ValueError, match=f"image_size = {size} is not supported"):
        DCGANDiscriminator(image_size=size)


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
