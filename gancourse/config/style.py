"""Hyperparameters of neural style transfer (Gatys, Ecker & Bethge 2016, CVPR).

Defaults follow the paper where it states a value: style layers conv1_1 ...
conv5_1 with equal weights w_l = 1/5, content layer conv4_2, average pooling,
L-BFGS, 512 px (Secs. 2-3 of the paper). Two deliberate differences:

* the loss weights: our losses are normalised differently (see
  :mod:`gancourse.style.losses`), so the paper's ratio alpha/beta = 1e-3 or
  1e-4 does not carry over. The default beta = 1e6 with alpha = 1 is the
  balance of PyTorch's style-transfer tutorial, which uses the same Gram and
  mean-squared-error normalisation (it sums its five style layers where we
  average them, taps them before the ReLU and max-pools). It was not tuned
  here: the ImageNet weights could not be downloaded where this was written;
* the start: the paper starts from white noise (its Fig. 6 shows that starting
  from the photo works as well); starting from the photo needs fewer steps.

With random VGG weights, set ``normalize_losses=True`` (every layer's error
relative to its target) and a style weight near 10:
:func:`gancourse.style.transfer.settings_for_weights` does so.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

from gancourse.config.base import Config, param

#: Every layer of VGG19 (Simonyan & Zisserman 2015, configuration E) that can be tapped,
#: in depth order; "convX_Y" names the rectified response of that convolution.
VGG19_LAYERS = (
    "conv1_1", "conv1_2",
    "conv2_1", "conv2_2",
    "conv3_1", "conv3_2", "conv3_3", "conv3_4",
    "conv4_1", "conv4_2", "conv4_3", "conv4_4",
    "conv5_1", "conv5_2", "conv5_3", "conv5_4",
)  # fmt: skip

#: The style layers of Gatys et al. 2016 (Sec. 3), shallow to deep.
STYLE_LAYERS = ("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1")
#: The content layer of Gatys et al. 2016 (Sec. 3).
CONTENT_LAYERS = ("conv4_2",)


@dataclasses.dataclass(frozen=True)
class StyleConfig(Config):
    """One style-transfer run: image size, loss weights, layers, optimiser and its start.

    ``style_layer_weights`` empty means equal weights 1/L over the style layers
    (the paper's choice); otherwise it gives one weight per style layer.
    ``style_blend`` is the weight of the second style image when two are given:
    the target Gram matrices are (1 - blend) G(style 1) + blend G(style 2).
    """

    QUICK: ClassVar[Mapping[str, Any]] = {"image_size": 128, "steps": 40}
    SMOKE: ClassVar[Mapping[str, Any]] = {"image_size": 64}

    image_size: int = param(
        512, 16, 2048, help="output size in pixels: the square's side, or with keep_aspect the longer side (paper: 512)"
    )
    keep_aspect: bool = param(
        False, help="keep the content photo's aspect ratio, image_size its longer side (False: its centre square)"
    )
    content_weight: float = param(1.0, 1e-3, 1e3, log=True, help="alpha, weight of the content loss")
    style_weight: float = param(1e6, 1e-3, 1e9, log=True, help="beta, weight of the style loss")
    tv_weight: float = param(0.0, 0.0, 1e3, step=0.1, help="weight of the total-variation loss (paper: 0)")
    content_layers: tuple[str, ...] = param(CONTENT_LAYERS, help="layers whose responses are the content")
    style_layers: tuple[str, ...] = param(STYLE_LAYERS, help="layers whose Gram matrices are the style")
    style_layer_weights: tuple[float, ...] = param((), 0.0, 1e6, help="w_l per style layer; empty: 1/L each")
    style_blend: float = param(0.5, 0.0, 1.0, step=0.05, help="weight of the second style image, if any")
    normalize_losses: bool = param(False, help="each layer's error relative to its target (not in the paper)")
    optimizer: str = param("lbfgs", choices=("lbfgs", "adam"), help="L-BFGS (paper) or Adam")
    steps: int = param(500, 1, 100_000, help="optimiser steps (one L-BFGS iteration = one step)")
    lr: float = param(0.02, 1e-4, 1.0, log=True, help="Adam step size, for pixels in [0, 1]")
    init: str = param("content", choices=("content", "noise"), help="start from the photo or white noise (paper)")
    pooling: str = param("avg", choices=("avg", "max"), help="VGG pooling: average (paper) or max (VGG's own)")
    preserve_color: bool = param(False, help="luminance-only transfer (Gatys et al. 2016b, arXiv:1606.05897)")
    seed: int = param(0, 0, 2**31 - 1, help="seed of the noise start and of random VGG weights")

    def check(self) -> None:
        cls = type(self).__name__
        for name in ("content_layers", "style_layers"):
            layers = getattr(self, name)
            unknown = [layer for layer in layers if layer not in VGG19_LAYERS]
            if unknown:
                raise ValueError(
                    f"{cls}.{name} = {layers!r} has unknown layer(s) {', '.join(map(repr, unknown))}: "
                    f"allowed {', '.join(VGG19_LAYERS)}"
                )
            if len(set(layers)) != len(layers):
                raise ValueError(f"{cls}.{name} = {layers!r} names a layer twice")
        if not self.content_layers and not self.style_layers:
            raise ValueError(f"{cls}.content_layers and {cls}.style_layers are both empty: there is nothing to match")
        if self.style_layer_weights and len(self.style_layer_weights) != len(self.style_layers):
            raise ValueError(
                f"{cls}.style_layer_weights = {self.style_layer_weights!r} has {len(self.style_layer_weights)} "
                f"entries but style_layers has {len(self.style_layers)}: give one weight per layer, or ()"
            )

    def layer_weights(self) -> dict[str, float]:
        """w_l for each style layer: the given weights, else 1/L each (Gatys et al. 2016, Sec. 3)."""
        if self.style_layer_weights:
            return dict(zip(self.style_layers, self.style_layer_weights, strict=True))
        return {layer: 1.0 / len(self.style_layers) for layer in self.style_layers}
