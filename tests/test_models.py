"""gancourse.models as a whole: every image model draws and reads colour images at 64 px."""

from __future__ import annotations

import pytest
import torch

from gancourse.models import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator


def test_every_gan_model_draws_and_reads_colour_at_64px():
    """Colour data (emoji, CIFAR-10, folders): channels=3 at 64 x 64 through every image model."""
    from gancourse.models import (
        ConditionalDiscriminator,
        ConditionalGenerator,
        PatchDiscriminator,
        ProDiscriminator,
        ProGenerator,
        ResNetCritic,
        ResNetGenerator,
        UNetGenerator,
    )

    z, labels = torch.randn(2, 16), torch.tensor([0, 9])
    pairs = [
        (DCGANGenerator(16, 4, 64, channels=3), DCGANDiscriminator(4, 64, channels=3)),
        (ResNetGenerator(16, 8, 64, channels=3), ResNetCritic(8, 64, channels=3)),
        (MLPGenerator(16, 32, out_shape=(3, 64, 64)), MLPDiscriminator((3, 64, 64), 32)),
    ]
    for g, d in pairs:
        x = g(z)
        assert x.shape == (2, 3, 64, 64) and x.abs().max() <= 1
        assert d(x).shape == (2,)
    g, d = ConditionalGenerator(16, 10, 4, 64, channels=3), ConditionalDiscriminator(10, 4, 64, channels=3)
    x = g(z, labels)
    assert x.shape == (2, 3, 64, 64) and d(x, labels).shape == (2,)
    g, d = (
        ProGenerator(16, 64, channels=3, fmap_base=64, fmap_max=16),
        ProDiscriminator(64, channels=3, fmap_base=64, fmap_max=16),
    )
    x = g(z, resolution=64, alpha=1.0)  # fully grown
    assert x.shape == (2, 3, 64, 64) and d(x, resolution=64, alpha=1.0).shape[0] == 2
    unet = UNetGenerator(3, 3, 4, 64)
    y = unet(torch.rand(2, 3, 64, 64) * 2 - 1)
    assert y.shape == (2, 3, 64, 64)
    assert PatchDiscriminator(6, 4, 3)(y, y).shape[0] == 2  # D sees (input, output): 3 + 3 channels
    with pytest.raises(ValueError, match=r"images must have shape \(B, 1, 64, 64\), got \(2, 3, 64, 64\)"):
        DCGANDiscriminator(4, 64, channels=1)(torch.zeros(2, 3, 64, 64))  # a grey D refuses colour input
