"""Building blocks shared by the networks: the normalisation layer, and the number of doublings.

Every network takes its normalisation as ``norm``: a name (``"batch"``, ``"layer"``,
``"instance"``, ``"none"``), or, as torchvision's models do, any callable that maps a channel
count to a module (``norm=lambda c: nn.GroupNorm(4, c)``). :func:`norm_layer` turns either into
that callable.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from torch import nn

#: A normalisation layer: channels -> module, e.g. ``nn.BatchNorm2d``.
NormLayer = Callable[[int], nn.Module]

#: The normalisations :func:`norm_layer` knows by name.
NORMS = ("batch", "layer", "instance", "none")


def _layer_norm(channels: int) -> nn.Module:
    # GroupNorm with one group normalises each sample over all its channels and pixels:
    # the layer norm of Ba et al. 2016 (and of the WGAN-GP code) for feature maps
    return nn.GroupNorm(1, channels)


def _instance_norm(channels: int) -> nn.Module:
    return nn.InstanceNorm2d(channels, affine=True)  # per-image, per-channel statistics; learnt scale and shift


def _no_norm(channels: int) -> nn.Module:
    return nn.Identity()


_BY_NAME: dict[str, NormLayer] = {
    "batch": nn.BatchNorm2d,
    "layer": _layer_norm,
    "instance": _instance_norm,
    "none": _no_norm,
}


def norm_layer(norm: str | NormLayer, allowed: Sequence[str] = NORMS, name: str = "norm") -> NormLayer:
    """The normalisation after a hidden convolution, as a callable ``channels -> nn.Module``.

    * ``"batch"``: ``BatchNorm2d`` (Ioffe & Szegedy 2015), statistics over the batch, so each
      sample's output depends on the other samples of its batch;
    * ``"layer"``: layer norm as WGAN-GP suggests (Gulrajani et al. 2017, Sec. 4), normalising
      each sample on its own over all of its (C, H, W) values. ``GroupNorm(1, C)`` computes
      exactly that normalisation; unlike ``LayerNorm([C, H, W])`` its learned scale and shift
      are per channel (C values, like batch norm) rather than per position (C H W values), so
      the layer does not depend on the image size and has few parameters for weight clipping
      to act on;
    * ``"instance"``: ``InstanceNorm2d`` with a learnt scale and shift (Ulyanov et al. 2016),
      each image and channel by its own statistics: pix2pix's batch norm at batch size 1;
    * ``"none"``: ``nn.Identity``.

    A callable is returned as it is. ``allowed`` restricts the names a network accepts;
    ``name`` is the parameter named in the error.
    """
    if callable(norm):
        return norm
    if norm not in allowed:
        raise ValueError(f"{name} = {norm!r} is not allowed: choose one of {', '.join(map(repr, allowed))}")
    return _BY_NAME[norm]


def has_shift(layer: nn.Module) -> bool:
    """Whether a normalisation layer adds its own per-channel shift, which makes a preceding conv's bias redundant."""
    return not isinstance(layer, nn.Identity) and getattr(layer, "bias", None) is not None


def n_doublings(image_size: int) -> int:
    """Doublings from 4 x 4 up to ``image_size`` (32 -> 3: 4 -> 8 -> 16 -> 32) in the DCGAN-style networks."""
    if (
        isinstance(image_size, bool)
        or not isinstance(image_size, int)
        or not 16 <= image_size <= 128
        or image_size & (image_size - 1)
    ):
        raise ValueError(
            f"image_size = {image_size!r} is not supported: the networks double 4 x 4 up to the image size, "
            "so allowed values are 16, 32, 64, 128"
        )
    return int(math.log2(image_size // 4))
