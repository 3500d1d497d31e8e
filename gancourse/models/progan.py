"""ProGAN: progressive growing of GANs (Karras, Aila, Laine & Lehtinen, ICLR 2018, NVIDIA).

Both networks start at 4 x 4 and grow by doubling the resolution. A new block is
*faded in* (Sec. 2, Fig. 2): while alpha rises from 0 to 1,

    G(z)  = (1 - alpha) * upsample(toRGB_prev(h)) + alpha * toRGB_new(block_new(h)),
    D(x)  = ... (1 - alpha) * fromRGB_prev(avgpool(x)) + alpha * block_new(fromRGB_new(x)) ...,

so at alpha = 0 the grown networks compute exactly what the smaller ones did, and
at alpha = 1 the old toRGB/fromRGB 1 x 1 layers are gone. Upsampling is nearest
neighbour, downsampling 2 x 2 average pooling.

The three tricks of Sec. 3-4, each with an ablation switch:

* **equalized learning rate** (Sec. 4.1): weights drawn from N(0, 1) and multiplied at
  every forward pass by He's constant sqrt(2 / fan_in), so Adam's step, which is
  invariant to the gradient's scale, moves every layer at the same relative speed;
* **pixelwise feature normalisation** in G (Sec. 4.2): each pixel's feature vector
  divided by its root mean square, after every 3 x 3 convolution (and on z);
* **minibatch standard deviation** in D (Sec. 3): the standard deviation of each
  feature over a group of 4 samples, averaged to one number per group and appended
  as an extra feature map, so D can see a lack of variety.

Layers (Table 2): G block = upsample -> conv3x3 -> LReLU(0.2) -> PixelNorm -> conv3x3
-> LReLU -> PixelNorm; G's first block = z -> dense to 4 x 4 -> conv3x3. D mirrors it
with fromRGB, conv3x3, conv3x3, avgpool; D's last block = minibatch stddev -> conv3x3
-> conv4x4 -> dense to one score. G's output is linear (no tanh), as in the paper.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from gancourse.checks import check_positive_int


def _log2_resolution(resolution: int, name: str = "resolution") -> int:
    if (
        isinstance(resolution, bool)
        or not isinstance(resolution, int)
        or resolution < 4
        or resolution & (resolution - 1)
    ):
        raise ValueError(f"{name} = {resolution!r} is not allowed: use a power of two >= 4 (4, 8, 16, 32, 64, ...)")
    return int(math.log2(resolution))


def resize_images(images: torch.Tensor, resolution: int) -> torch.Tensor:
    """(B, C, S, S) -> (B, C, r, r): average pooling down (box filter), nearest neighbour up."""
    size = images.shape[-1]
    _log2_resolution(resolution)
    if resolution < size:
        return F.avg_pool2d(images, size // resolution)
    if resolution > size:
        return F.interpolate(images, scale_factor=resolution // size, mode="nearest")
    return images


def fade_real_images(images: torch.Tensor, resolution: int, alpha: float) -> torch.Tensor:
    """Real images as D sees them at ``resolution`` during a fade-in (Sec. A.1).

    Downsampled to ``resolution``, then blended (1 - alpha) * upsample(downsample(x)) + alpha * x
    with their half-resolution version, exactly as G's output is blended.
    """
    real = resize_images(images, resolution)  # (B, C, r, r)
    if alpha >= 1 or resolution == 4:
        return real
    low = F.interpolate(F.avg_pool2d(real, 2), scale_factor=2, mode="nearest")  # (B, C, r, r), blocky
    return (1 - alpha) * low + alpha * real


class EqualizedConv2d(nn.Module):
    """Conv2d with w ~ N(0, 1) scaled at run time by ``gain / sqrt(fan_in)`` (Sec. 4.1).

    ``equalized=False`` is the ablation: the usual He initialisation, w ~ N(0, scale^2),
    and no run-time scale. Both compute the same function at initialisation; they
    differ in how Adam's steps change it. Biases start at zero.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        padding: int = 0,
        gain: float = math.sqrt(2),
        equalized: bool = True,
    ) -> None:
        super().__init__()
        self.padding = padding
        he_scale = gain / math.sqrt(in_channels * kernel_size * kernel_size)  # He et al. 2015: sqrt(2 / fan_in)
        self.runtime_scale = he_scale if equalized else 1.0
        init_std = 1.0 if equalized else he_scale
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size) * init_std)
        self.bias = nn.Parameter(torch.zeros(out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.runtime_scale, self.bias, padding=self.padding)


class EqualizedLinear(nn.Module):
    """Linear layer with the same run-time scaling as :class:`EqualizedConv2d`."""

    def __init__(self, in_features: int, out_features: int, gain: float = math.sqrt(2), equalized: bool = True) -> None:
        super().__init__()
        he_scale = gain / math.sqrt(in_features)
        self.runtime_scale = he_scale if equalized else 1.0
        self.weight = nn.Parameter(torch.randn(out_features, in_features) * (1.0 if equalized else he_scale))
        self.bias = nn.Parameter(torch.zeros(out_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.runtime_scale, self.bias)


class PixelNorm(nn.Module):
    """b = a / sqrt(mean_j(a_j^2) + 1e-8) over the channels j of each pixel (Sec. 4.2, Eq. 2)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + 1e-8)


class MinibatchStdDev(nn.Module):
    """(B, C, H, W) -> (B, C + 1, H, W): one extra map, the mean standard deviation in a group (Sec. 3).

    The batch is split into groups of ``group_size`` (B must be a multiple of it,
    or smaller); within a group, the standard deviation of every feature at every
    pixel is averaged to one number, which fills the extra map of each group member.
    Sample i belongs to group i % (B / group_size), as in the official code.
    """

    def __init__(self, group_size: int = 4) -> None:
        super().__init__()
        check_positive_int("group_size", group_size, note="paper: 4")
        self.group_size = group_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        g = min(self.group_size, b)
        if b % g:
            raise ValueError(
                f"batch size {b} is not a multiple of the minibatch-stddev group size {g}: "
                "use a batch size divisible by it"
            )
        y = x.reshape(g, b // g, c, h, w)  # (G, M, C, H, W): group members along dim 0
        std = (y.var(dim=0, unbiased=False) + 1e-8).sqrt()  # (M, C, H, W)
        std = std.mean(dim=(1, 2, 3)).view(b // g, 1, 1, 1)  # (M, 1, 1, 1): one number per group
        return torch.cat([x, std.repeat(g, 1, h, w)], dim=1)  # sample i gets group i % M


def feature_maps(resolution: int, fmap_base: int, fmap_max: int) -> int:
    """Channels at a resolution, as in the official code: min(fmap_max, fmap_base / (resolution / 2)).

    The paper's 8192 and 512 give 512 channels up to 32 x 32, then 256, 128, 64, 32, 16.
    """
    return max(1, min(fmap_max, 2 * fmap_base // resolution))


def _conv(cin: int, cout: int, kernel: int, equalized: bool, gain: float = math.sqrt(2)) -> EqualizedConv2d:
    return EqualizedConv2d(cin, cout, kernel, padding=kernel // 2 if kernel == 3 else 0, gain=gain, equalized=equalized)


class _Grown(nn.Module):
    """What both networks share: the resolutions, and the current (resolution, alpha) state."""

    def _setup(self, max_resolution: int) -> None:
        self.max_resolution = max_resolution
        self.resolutions = [2**k for k in range(2, _log2_resolution(max_resolution, "max_resolution") + 1)]
        self.resolution, self.alpha = 4, 1.0

    def set_stage(self, resolution: int, alpha: float = 1.0) -> None:
        """Grow (or shrink) to ``resolution``; ``alpha`` in [0, 1] fades its newest block in."""
        self._stage(resolution, alpha)
        self.resolution, self.alpha = resolution, float(alpha)

    def _stage(self, resolution: int | None, alpha: float | None) -> tuple[int, int, float]:
        resolution = self.resolution if resolution is None else resolution
        alpha = self.alpha if alpha is None else float(alpha)
        if resolution not in self.resolutions:
            raise ValueError(
                f"resolution = {resolution!r} is not allowed: choose one of {', '.join(map(str, self.resolutions))}"
            )
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha = {alpha} is out of range: allowed 0 <= alpha <= 1")
        return self.resolutions.index(resolution), resolution, alpha


class ProGenerator(_Grown):
    """z (B, latent_dim) -> image (B, channels, r, r) at the current resolution r (linear output)."""

    def __init__(
        self,
        latent_dim: int = 512,
        max_resolution: int = 32,
        channels: int = 1,
        fmap_base: int = 8192,
        fmap_max: int = 512,
        equalized_lr: bool = True,
        pixel_norm: bool = True,
    ) -> None:
        super().__init__()
        self._setup(max_resolution)
        self.latent_dim = latent_dim
        eq = equalized_lr
        norm = PixelNorm() if pixel_norm else nn.Identity()
        act = nn.LeakyReLU(0.2)
        width = [feature_maps(r, fmap_base, fmap_max) for r in self.resolutions]
        self.normalize_latent = norm
        # first block: z -> (B, w, 4, 4) by a dense layer ("conv 4x4" on a 1x1 input), then conv3x3;
        # the official code uses gain sqrt(2)/4 for this dense layer
        self.dense = EqualizedLinear(latent_dim, width[0] * 16, gain=math.sqrt(2) / 4, equalized=eq)
        self.first = nn.Sequential(act, norm, _conv(width[0], width[0], 3, eq), act, norm)
        # block k (k >= 1): (B, w[k-1], r/2, r/2) -> upsample -> conv3x3 -> conv3x3 -> (B, w[k], r, r)
        self.blocks = nn.ModuleList([nn.Identity()])  # index 0 is `first`, kept apart for the reshape
        for k in range(1, len(self.resolutions)):
            self.blocks.append(
                nn.Sequential(
                    nn.Upsample(scale_factor=2, mode="nearest"),
                    _conv(width[k - 1], width[k], 3, eq),
                    act,
                    norm,
                    _conv(width[k], width[k], 3, eq),
                    act,
                    norm,
                )
            )
        # toRGB: 1x1 convolution at every resolution, gain 1 (a linear output layer)
        self.to_rgb = nn.ModuleList([_conv(w, channels, 1, eq, gain=1.0) for w in width])

    def forward(self, z: torch.Tensor, resolution: int | None = None, alpha: float | None = None) -> torch.Tensor:
        k, _, alpha = self._stage(resolution, alpha)
        h = self.dense(self.normalize_latent(z)).view(len(z), -1, 4, 4)  # (B, w0, 4, 4)
        h = self.first(h)
        for i in range(1, k):
            h = self.blocks[i](h)  # the blocks already grown: (B, w[k-1], r/2, r/2) after the loop
        if k == 0:
            return self.to_rgb[0](h)
        new = self.to_rgb[k](self.blocks[k](h))  # (B, C, r, r): the new block's image
        if alpha >= 1.0:
            return new
        old = F.interpolate(self.to_rgb[k - 1](h), scale_factor=2, mode="nearest")  # the smaller G's image, upsampled
        return (1 - alpha) * old + alpha * new


class ProDiscriminator(_Grown):
    """image (B, channels, r, r) at the current resolution r -> score (B,)."""

    def __init__(
        self,
        max_resolution: int = 32,
        channels: int = 1,
        fmap_base: int = 8192,
        fmap_max: int = 512,
        equalized_lr: bool = True,
        minibatch_std: bool = True,
        group_size: int = 4,
    ) -> None:
        super().__init__()
        self._setup(max_resolution)
        eq = equalized_lr
        act = nn.LeakyReLU(0.2)
        width = [feature_maps(r, fmap_base, fmap_max) for r in self.resolutions]
        # fromRGB: 1x1 convolution + LReLU at every resolution
        self.from_rgb = nn.ModuleList([nn.Sequential(_conv(channels, w, 1, eq), act) for w in width])
        # block k (k >= 1): (B, w[k], r, r) -> conv3x3 -> conv3x3 -> avgpool -> (B, w[k-1], r/2, r/2)
        self.blocks = nn.ModuleList([nn.Identity()])
        for k in range(1, len(self.resolutions)):
            self.blocks.append(
                nn.Sequential(
                    _conv(width[k], width[k], 3, eq),
                    act,
                    _conv(width[k], width[k - 1], 3, eq),
                    act,
                    nn.AvgPool2d(2),
                )
            )
        extra = 1 if minibatch_std else 0
        # last block at 4 x 4: minibatch stddev -> conv3x3 -> conv4x4 (valid, to 1 x 1) -> dense to one score
        self.last = nn.Sequential(
            MinibatchStdDev(group_size) if minibatch_std else nn.Identity(),
            _conv(width[0] + extra, width[0], 3, eq),
            act,
            _conv(width[0], width[0], 4, eq),
            act,  # (B, w0, 1, 1)
            nn.Flatten(),
            EqualizedLinear(width[0], 1, gain=1.0, equalized=eq),
        )

    def forward(self, x: torch.Tensor, resolution: int | None = None, alpha: float | None = None) -> torch.Tensor:
        k, r, alpha = self._stage(resolution, alpha)
        if x.shape[-1] != r or x.shape[-2] != r:
            raise ValueError(f"images of shape {tuple(x.shape)} given to D at resolution {r}: resize them to {r} x {r}")
        h = self.from_rgb[k](x)
        if k > 0:
            h = self.blocks[k](h)  # (B, w[k-1], r/2, r/2)
            if alpha < 1.0:
                old = self.from_rgb[k - 1](F.avg_pool2d(x, 2))  # what the smaller D saw
                h = (1 - alpha) * old + alpha * h
        for i in range(k - 1, 0, -1):
            h = self.blocks[i](h)
        return self.last(h).flatten()  # (B,)
