"""pix2pix: a U-Net generator and a PatchGAN discriminator (Isola et al. 2017, Sec. 3.2 and App. 6.1.1).

* **Generator**: an encoder-decoder whose decoder layer i also receives the
  encoder's layer n - i through a skip connection (the U-Net of Ronneberger et
  al. 2015), so low-level information such as edge positions does not have to
  squeeze through the 1 x 1 bottleneck. Encoder blocks are
  Conv(4, stride 2)-BatchNorm-LeakyReLU(0.2) (no norm in the first one, nor at the
  1 x 1 bottleneck); decoder blocks are ConvTranspose(4, stride 2)-BatchNorm-
  Dropout-ReLU with dropout 0.5 in the first three; the last block maps to the
  output channels and tanh. At 256 x 256 the paper's encoder is
  C64-C128-C256-C512-C512-C512-C512-C512 (eight halvings to 1 x 1); here the
  depth is log2(image_size), so 32 x 32 images take five.
* **No z**: the paper found the generator learnt to ignore input noise, and uses
  dropout as its only noise, "at both training and test time" (Sec. 3.2). A
  :class:`NoiseDropout` stays on in ``eval()`` mode unless ``test_dropout=False``.
* **Norm**: batch norm with batch size 1 (the paper's setting for most tasks)
  normalises every image by its own statistics, which is instance
  normalisation (Ulyanov et al. 2016); ``norm="instance"`` says so directly.
* **Discriminator**: a PatchGAN, a fully convolutional net that gives one
  real/fake logit per N x N patch, N its *receptive field*: C64-C128-C256-C512
  with 4 x 4 kernels (strides 2, 2, 2, 1) and a last stride-1 convolution to one
  channel sees 70 x 70 pixels. It sees the input and the output stacked on the
  channel axis, so it judges whether the output fits *this* input.
  :func:`receptive_field` computes N from the layer list.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import nn

from gancourse.checks import check_positive_int
from gancourse.models.dcgan import dcgan_init
from gancourse.models.layers import NormLayer, norm_layer

#: Normalisations the pix2pix networks accept by name (see :func:`gancourse.models.layers.norm_layer`).
NORMS = ("batch", "instance")


class NoiseDropout(nn.Dropout):
    """Dropout that also drops in ``eval()`` mode when ``at_test`` is set: pix2pix's noise source."""

    def __init__(self, p: float = 0.5, at_test: bool = True) -> None:
        super().__init__(p)
        self.at_test = at_test

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.dropout(x, self.p, training=self.training or self.at_test)


def unet_depth(image_size: int) -> int:
    """Halvings from ``image_size`` down to 1 x 1 (256 -> 8, as in the paper; 32 -> 5)."""
    if image_size < 8 or image_size > 1024 or image_size & (image_size - 1):
        raise ValueError(
            f"image_size = {image_size} is not supported: the U-Net halves the image down to 1 x 1, "
            "so allowed values are powers of two from 8 to 1024"
        )
    return int(math.log2(image_size))


class UNetGenerator(nn.Module):
    """input image (B, in_channels, S, S) -> output image (B, out_channels, S, S) in [-1, 1]; no z."""

    def __init__(
        self,
        in_channels: int = 1,
        out_channels: int = 1,
        base_channels: int = 64,
        image_size: int = 32,
        norm: str | NormLayer = "batch",
        dropout: float = 0.5,
        test_dropout: bool = True,
        n_dropout: int = 3,
    ) -> None:
        super().__init__()
        make_norm = norm_layer(norm, allowed=NORMS)
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout = {dropout} is out of range: allowed 0 <= dropout < 1 (paper: 0.5)")
        self.depth, self.image_size, self.in_channels = unet_depth(image_size), image_size, in_channels
        widths = [min(base_channels * 2**i, base_channels * 8) for i in range(self.depth)]  # 64, 128, 256, 512, 512...
        self.down = nn.ModuleList()
        previous = in_channels
        for i, width in enumerate(widths):  # (B, prev, s, s) -> (B, width, s/2, s/2)
            # no norm on the first layer (paper) nor at the 1 x 1 bottleneck (one value per channel:
            # batch norm at batch size 1 would set it to zero)
            use_norm = 0 < i < self.depth - 1
            self.down.append(
                nn.Sequential(
                    nn.Conv2d(previous, width, kernel_size=4, stride=2, padding=1, bias=not use_norm),
                    make_norm(width) if use_norm else nn.Identity(),
                    nn.LeakyReLU(0.2, inplace=True),
                )
            )
            previous = width
        self.up = nn.ModuleList()
        for j in range(self.depth - 1):  # decoder j: innermost first; (B, in, s, s) -> (B, out, 2s, 2s)
            in_width = widths[-1] if j == 0 else 2 * widths[self.depth - 1 - j]  # x 2: the skip is concatenated
            out_width = widths[self.depth - 2 - j]
            self.up.append(
                nn.Sequential(
                    nn.ConvTranspose2d(in_width, out_width, kernel_size=4, stride=2, padding=1, bias=False),
                    make_norm(out_width),
                    NoiseDropout(dropout, test_dropout) if j < n_dropout and dropout > 0 else nn.Identity(),
                    nn.ReLU(inplace=True),
                )
            )
        self.out = nn.Sequential(
            nn.ConvTranspose2d(2 * widths[0], out_channels, kernel_size=4, stride=2, padding=1), nn.Tanh()
        )
        self.apply(dcgan_init)  # N(0, 0.02), as the paper

    def forward(self, condition: torch.Tensor) -> torch.Tensor:
        if condition.ndim != 4 or condition.shape[1:] != (self.in_channels, self.image_size, self.image_size):
            raise ValueError(
                f"condition must have shape (B, {self.in_channels}, {self.image_size}, {self.image_size}), "
                f"got {tuple(condition.shape)}"
            )
        skips = []
        x = condition
        for block in self.down:  # 32 -> 16 -> 8 -> 4 -> 2 -> 1
            x = block(x)
            skips.append(x)
        skips.pop()  # the bottleneck itself is not a skip
        for block in self.up:  # 1 -> 2 -> 4 -> 8 -> 16, each joined by its mirror image in the encoder
            x = torch.cat([block(x), skips.pop()], dim=1)
        return self.out(x)  # 16 -> 32


class PatchDiscriminator(nn.Module):
    """(image (B, C_out, H, W), condition (B, C_in, H, W)) -> logits (B, H', W'), one per patch.

    Unlike the book's other discriminators it returns a map, not (B,): the loss
    averages the cross-entropy over all patches (``binary_cross_entropy_with_logits``
    takes any shape). ``n_layers`` = 3 is the paper's 70 x 70 PatchGAN.
    """

    def __init__(
        self,
        in_channels: int = 2,
        base_channels: int = 64,
        n_layers: int = 3,
        norm: str | NormLayer = "batch",
    ) -> None:
        super().__init__()
        make_norm = norm_layer(norm, allowed=NORMS)
        check_positive_int("n_layers", n_layers, note="paper 70 x 70: 3")
        self.in_channels = in_channels
        width = base_channels
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, width, kernel_size=4, stride=2, padding=1),  # C64, no norm
            nn.LeakyReLU(0.2, inplace=True),
        ]
        for i in range(1, n_layers + 1):
            stride = 2 if i < n_layers else 1  # 70 x 70: strides 2, 2, 2, then 1
            new_width = min(width * 2, base_channels * 8)
            layers += [
                nn.Conv2d(width, new_width, kernel_size=4, stride=stride, padding=1, bias=False),
                make_norm(new_width),
                nn.LeakyReLU(0.2, inplace=True),
            ]
            width = new_width
        layers.append(nn.Conv2d(width, 1, kernel_size=4, stride=1, padding=1))  # one logit per patch
        self.net = nn.Sequential(*layers)
        self.apply(dcgan_init)

    def forward(self, image: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        if image.ndim != 4 or condition.ndim != 4:
            raise ValueError(
                f"image and condition must both be (B, C, H, W), got {tuple(image.shape)} and {tuple(condition.shape)}"
            )
        if image.shape[0] != condition.shape[0] or image.shape[2:] != condition.shape[2:]:
            raise ValueError(
                f"image {tuple(image.shape)} and condition {tuple(condition.shape)} are not paired: "
                "they need the same batch size and the same height and width"
            )
        if image.shape[1] + condition.shape[1] != self.in_channels:
            raise ValueError(
                f"image ({image.shape[1]} channels) + condition ({condition.shape[1]} channels) must give "
                f"in_channels = {self.in_channels}"
            )
        return self.net(torch.cat([condition, image], dim=1)).squeeze(1)  # (B, H', W')


def receptive_field_steps(layers: nn.Module | Iterable[nn.Module]) -> list[dict[str, int | str]]:
    """Layer by layer: kernel, stride, and the receptive field r and jump j after it.

    For a chain of convolutions (kernel k, stride s, dilation d), r grows by
    (d (k - 1)) j and j, the distance in input pixels between neighbouring
    outputs, is multiplied by s:  r_l = r_{l-1} + d (k - 1) j_{l-1},  j_l = s j_{l-1}.
    Other layers (norms, activations) do not change either. Only a plain chain is
    meaningful (skip connections, as in a U-Net, are not followed).
    """
    modules = layers.modules() if isinstance(layers, nn.Module) else iter(layers)
    r, j, steps = 1, 1, []
    for m in modules:
        if isinstance(m, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            k, s, d = (_first(getattr(m, a, 1)) for a in ("kernel_size", "stride", "dilation"))
            r, j = r + d * (k - 1) * j, j * s
            steps.append({"layer": type(m).__name__, "kernel": k, "stride": s, "receptive_field": r, "jump": j})
    if not steps:
        raise ValueError("layers contain no convolution or pooling layer: no receptive field to compute")
    return steps


def receptive_field(layers: nn.Module | Iterable[nn.Module]) -> int:
    """Side, in input pixels, of the patch one output of a conv chain sees (70 for the paper's PatchGAN)."""
    return int(receptive_field_steps(layers)[-1]["receptive_field"])


def _first(value) -> int:
    return int(value[0] if isinstance(value, tuple) else value)
