"""gancourse.models.dcgan: the guidelines of Radford et al. 2016, sizes, the critic's norm option, D's features."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gancourse.models import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator


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


def test_dcgan_networks_refuse_wrong_sizes_instead_of_giving_wrong_outputs():
    from gancourse.models import DCGANDiscriminator, DCGANGenerator

    d = DCGANDiscriminator(4, 32)
    # a 64 px image used to give 25 logits per image (a silent (B * 25,) output)
    with pytest.raises(ValueError, match=r"images must have shape \(B, 1, 32, 32\), got \(2, 1, 64, 64\)"):
        d(torch.randn(2, 1, 64, 64))
    with pytest.raises(ValueError, match=r"z must have shape \(B, 8\), got \(2, 9\)"):
        DCGANGenerator(8, 4, 32)(torch.randn(2, 9))
    assert DCGANGenerator(8, 4, 32)(torch.randn(2, 8, 1, 1)).shape == (2, 1, 32, 32)
    for kwargs, name in (({"latent_dim": 0}, "latent_dim"), ({"base_channels": 0}, "base_channels")):
        with pytest.raises(ValueError, match=f"{name} = 0 is out of range"):
            DCGANGenerator(**{"latent_dim": 8, "base_channels": 4, **kwargs})


# ------------------------------------------------------------------------------------
# The DCGAN discriminator as a Wasserstein critic: the norm option (chapter 6)
# ------------------------------------------------------------------------------------


def test_default_norm_is_batch_norm_with_unchanged_state_dict_keys():
    d = DCGANDiscriminator(8, 32)
    assert d.norm == "batch" and sum(isinstance(m, nn.BatchNorm2d) for m in d.modules()) == 2
    # the layout of earlier checkpoints: conv, act, (conv, BN, act) x 2, conv
    assert {"net.3.running_mean", "net.6.running_mean", "net.8.weight"} <= set(d.state_dict())
    assert "net.2.bias" not in d.state_dict()  # no bias before batch norm


@pytest.mark.parametrize("norm", ["batch", "layer", "none"])
def test_critic_norm_options_shapes(norm):
    d = DCGANDiscriminator(4, 16, norm=norm)
    assert d(torch.randn(3, 1, 16, 16)).shape == (3,)
    kinds = {type(m) for m in d.modules()}
    assert (nn.BatchNorm2d in kinds) == (norm == "batch")
    assert (nn.GroupNorm in kinds) == (norm == "layer")
    hidden_convs = [m for m in d.modules() if isinstance(m, nn.Conv2d)][1:-1]
    assert all((m.bias is not None) == (norm == "none") for m in hidden_convs)


@pytest.mark.parametrize("norm, independent", [("batch", False), ("layer", True), ("none", True)])
def test_a_samples_score_depends_on_its_batch_only_with_batch_norm(norm, independent):
    """The gradient penalty is per sample: with layer norm or none, f(x_i) ignores the rest of the batch."""
    torch.manual_seed(0)
    d = DCGANDiscriminator(4, 16, norm=norm).train()
    x = torch.randn(5, 1, 16, 16)
    alone = torch.cat([d(x[i : i + 1]) for i in range(2)]) if norm != "batch" else d(x[:2])
    together = d(x)[:2]
    assert torch.allclose(alone, together, atol=1e-6) == independent


def test_layer_norm_normalises_each_sample_over_channels_and_positions():
    norm = [m for m in DCGANDiscriminator(4, 16, norm="layer").modules() if isinstance(m, nn.GroupNorm)][0]
    assert norm.num_groups == 1 and norm.weight.shape == (norm.num_channels,)  # per-channel affine, like BN
    h = torch.randn(3, norm.num_channels, 4, 4) * 5 + 2
    expected = nn.functional.layer_norm(h, h.shape[1:], eps=norm.eps)  # over (C, H, W), no affine
    assert torch.allclose(norm(h), expected, atol=1e-5)


def test_bad_norm_names_the_parameter():
    with pytest.raises(ValueError, match="norm = 'instance' is not allowed: choose one of 'batch', 'layer', 'none'"):
        DCGANDiscriminator(4, 16, norm="instance")


# ------------------------------------------------------------------------------------
# Features of D's last hidden layer (feature matching, chapter 12)
# ------------------------------------------------------------------------------------


def test_discriminator_features_are_the_input_of_the_last_layer():
    torch.manual_seed(0)
    d = DCGANDiscriminator(4, 16).eval()
    x = torch.randn(3, 1, 16, 16)
    f = d.features(x)
    assert f.shape == (3, 8 * 4 * 4)  # width 4 -> 8 at 4 x 4
    last = d.net[-1]
    assert torch.allclose(nn.functional.linear(f, last.weight.flatten(1), last.bias), d(x).unsqueeze(1), atol=1e-5)
    m = MLPDiscriminator((2,), 32, n_hidden=2)
    y = torch.randn(4, 2)
    assert m.features(y).shape == (4, 16)
    assert torch.allclose(m.net[-1](m.features(y)).squeeze(1), m(y))
