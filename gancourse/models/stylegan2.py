"""StyleGAN2: a style-based generator with modulated convolutions (Karras et al. 2019 and 2020, NVIDIA).

Karras, Laine & Aila 2019, *A Style-Based Generator Architecture for GANs* (StyleGAN), replaced
ProGAN's input layer by a learnt constant and fed the latent code in at every layer instead:

* a **mapping network** f: z -> w, 8 fully connected layers (Sec. 2), trained with a learning
  rate 100 times smaller (lr multiplier 0.01, App. C), so that w need not follow z's Gaussian;
* **styles** s = A(w), one learnt affine map A per layer, that scale the layer's features;
* **noise inputs** (Sec. 2, Fig. 1): one Gaussian map per layer, times a learnt strength,
  added to the features, for the stochastic detail (hair, freckles) the styles need not encode;
* **style mixing** (Sec. 3.1): during training, 90 % of the batches are generated from two codes,
  w1 for the layers before a random crossover layer and w2 after it, so that neighbouring
  layers' styles cannot be correlated;
* the **truncation trick** (Sec. 3.1, Eq. 3 of 2019): w' = w_avg + psi (w - w_avg), about the
  average w tracked during training, trades variety for typicality at sampling time.

Karras, Laine, Aittala, Hellsten, Lehtinen & Aila 2020, *Analyzing and Improving the Image
Quality of StyleGAN* (StyleGAN2), replaced AdaIN by **weight demodulation** (Sec. 2.2):

    w'_ijk  = s_i * w_ijk                                   (Eq. 1: modulation by the style)
    sigma_j = sqrt(sum_{i,k} w'_ijk^2)                      (Eq. 2: output std for unit input)
    w''_ijk = w'_ijk / sqrt(sum_{i,k} w'_ijk^2 + eps)       (Eq. 3: demodulation)

i input channel, j output channel, k kernel position: each sample gets its own weights,
computed as one grouped convolution. Growing is gone too (Sec. 4.1): the **skip generator**
sums the upsampled toRGB outputs of every resolution, the **residual discriminator** has
skip connections scaled by 1/sqrt(2). The losses (non-saturating logistic, lazy R1) are the
trainer's (:mod:`gancourse.losses`).

Not followed here: up- and downsampling are bilinear interpolation and average pooling, not
the paper's transposed convolution with a [1, 3, 3, 1] FIR filter; the discriminator's
minibatch standard deviation is ProGAN's (one averaged map, as the paper's ``num_channels=1``);
path-length regularisation (Sec. 3.2) is not implemented.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from gancourse.checks import check_positive_int
from gancourse.models.progan import EqualizedConv2d, EqualizedLinear, MinibatchStdDev, PixelNorm, feature_maps

SQRT2 = math.sqrt(2)


def _log2(resolution: int) -> int:
    bad = isinstance(resolution, bool) or not isinstance(resolution, int)
    if bad or resolution < 4 or resolution & (resolution - 1):
        raise ValueError(f"resolution = {resolution!r} is not allowed: use a power of two >= 4 (4, 8, 16, 32, ...)")
    return int(math.log2(resolution))


def lrelu(x: torch.Tensor) -> torch.Tensor:
    """LReLU(0.2) times sqrt(2), the official code's activation after a modulated convolution (keeps unit scale)."""
    return F.leaky_relu(x, 0.2) * SQRT2


class MappingLinear(EqualizedLinear):
    """An equalized linear layer (ProGAN, Sec. 4.1) whose learning rate is ``lr_multiplier`` times smaller.

    Stored weights are N(0, 1 / lr_multiplier^2) and scaled at run time by
    ``lr_multiplier * gain / sqrt(fan_in)``: the same function at initialisation as ProGAN's
    layer, but Adam's steps, of fixed size in the stored weights, move it ``lr_multiplier``
    times as far (StyleGAN, App. C: 0.01 for the mapping network). The bias likewise.
    """

    def __init__(self, in_features: int, out_features: int, lr_multiplier: float = 1.0, gain: float = SQRT2) -> None:
        super().__init__(in_features, out_features, gain=gain)
        if not lr_multiplier > 0:
            raise ValueError(f"lr_multiplier = {lr_multiplier} is out of range: allowed > 0 (StyleGAN: 0.01)")
        self.lr_multiplier = lr_multiplier
        with torch.no_grad():
            self.weight.div_(lr_multiplier)  # (out, in) ~ N(0, 1 / lr_multiplier^2)
        self.runtime_scale *= lr_multiplier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.runtime_scale, self.bias * self.lr_multiplier)


class MappingNetwork(nn.Module):
    """z (B, latent_dim) -> w (B, w_dim): normalise z, then ``layers`` x (dense, LReLU) (StyleGAN, Sec. 2).

    Keeps the average w in a buffer ``w_avg`` (w_dim,), a moving average of the batch means,
    w_avg <- beta w_avg + (1 - beta) mean(w), updated at every forward in training mode;
    the truncation trick pulls w towards it (:meth:`truncate`). Being a buffer, it is in
    ``state_dict`` and so in every checkpoint.
    """

    def __init__(
        self, latent_dim: int = 512, w_dim: int = 512, layers: int = 8, lr_multiplier: float = 0.01, w_avg_beta=0.995
    ) -> None:
        super().__init__()
        check_positive_int("layers", layers, note="StyleGAN: 8")
        self.w_avg_beta = w_avg_beta
        self.normalize = PixelNorm()  # z / sqrt(mean(z^2)): z on the sphere of radius sqrt(latent_dim)
        dims = [latent_dim] + [w_dim] * layers
        pairs = zip(dims[:-1], dims[1:], strict=True)
        self.layers = nn.ModuleList(MappingLinear(a, b, lr_multiplier) for a, b in pairs)
        self.register_buffer("w_avg", torch.zeros(w_dim))  # (w_dim,)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        w = self.normalize(z)  # (B, latent_dim)
        for layer in self.layers:
            w = F.leaky_relu(layer(w), 0.2)  # (B, w_dim); the gain sqrt(2) is in the layer's scale
        if self.training:
            with torch.no_grad():
                self.w_avg.copy_(w.mean(dim=0).lerp(self.w_avg, self.w_avg_beta))  # beta avg + (1 - beta) mean
        return w

    def truncate(self, w: torch.Tensor, psi: float) -> torch.Tensor:
        """w' = w_avg + psi (w - w_avg) (StyleGAN, Eq. 3): psi = 1 leaves w, psi = 0 gives the average w."""
        return self.w_avg.lerp(w, psi) if psi != 1 else w  # (B, w_dim)


class ModulatedConv2d(nn.Module):
    """x (B, C_in, H, W) and w (B, w_dim) -> (B, C_out, H', W'): StyleGAN2's convolution (2020, Sec. 2.2).

    The style s = A(w) (B, C_in), an equalized affine map with bias 1 (so s starts at 1),
    scales each input channel of the weights (Eq. 1); with ``demodulate`` each output channel's
    weights are divided by their L2 norm (Eq. 3), so unit-variance input gives unit-variance
    output whatever the style (what AdaIN's normalisation did to the features, done to the
    weights instead). Each sample has its own weights: one grouped convolution with B groups.
    ``up=True`` doubles the resolution first (bilinear, not the paper's transposed convolution).
    """

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int, w_dim: int, demodulate=True, up=False
    ) -> None:
        super().__init__()
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel_size
        self.demodulate, self.up, self.padding = demodulate, up, kernel_size // 2
        self.affine = EqualizedLinear(w_dim, in_channels, gain=1.0)  # A: w -> s
        with torch.no_grad():
            self.affine.bias.fill_(1.0)  # s = 1 + A(w) at initialisation, as in the official code
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))  # N(0, 1)
        self.runtime_scale = 1 / math.sqrt(in_channels * kernel_size * kernel_size)  # equalized lr, gain 1

    def modulated_weight(self, w: torch.Tensor) -> torch.Tensor:
        """Per-sample weights (B, C_out, C_in, k, k): Eq. 1, then with ``demodulate`` Eq. 3."""
        s = self.affine(w)  # (B, C_in): the style
        weight = self.weight[None] * self.runtime_scale * s[:, None, :, None, None]  # (B, C_out, C_in, k, k), Eq. 1
        if self.demodulate:
            sigma_inv = torch.rsqrt(weight.pow(2).sum(dim=(2, 3, 4), keepdim=True) + 1e-8)  # (B, C_out, 1, 1, 1)
            weight = weight * sigma_inv  # Eq. 3: each output channel's weights have unit L2 norm
        return weight

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        b = x.shape[0]
        if self.up:
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)  # (B, C_in, 2H, 2W)
        weight = self.modulated_weight(w)  # (B, C_out, C_in, k, k)
        h, wd = x.shape[-2:]
        y = F.conv2d(
            x.reshape(1, b * self.in_channels, h, wd),  # (1, B * C_in, H, W): the batch as channel groups
            weight.reshape(b * self.out_channels, self.in_channels, self.kernel_size, self.kernel_size),
            padding=self.padding,
            groups=b,
        )  # (1, B * C_out, H, W)
        return y.reshape(b, self.out_channels, h, wd)


class NoiseInput(nn.Module):
    """x (B, C, H, W) -> x + strength * noise, noise (B, 1, H, W) ~ N(0, 1) per pixel (StyleGAN, Sec. 2).

    One learnt scalar ``strength`` per layer, starting at 0 (StyleGAN2's official code; StyleGAN
    had one per channel). ``mode``: ``"random"`` fresh noise (training), ``"const"`` a fixed map
    drawn at construction (a buffer, so samples are deterministic), ``"none"`` no noise.
    """

    def __init__(self, resolution: int) -> None:
        super().__init__()
        self.strength = nn.Parameter(torch.zeros(()))
        self.register_buffer("noise_const", torch.randn(1, 1, resolution, resolution))  # (1, 1, H, W)

    def forward(self, x: torch.Tensor, mode: str = "random") -> torch.Tensor:
        if mode == "none":
            return x
        if mode == "const":
            noise = self.noise_const  # (1, 1, H, W), broadcast over the batch
        elif mode == "random":
            noise = torch.randn(x.shape[0], 1, *x.shape[2:], device=x.device, dtype=x.dtype)  # (B, 1, H, W)
        else:
            raise ValueError(f"noise mode = {mode!r} is not allowed: choose 'random', 'const' or 'none'")
        return x + self.strength * noise


class StyleLayer(nn.Module):
    """Modulated 3 x 3 convolution -> noise -> bias -> LReLU: one styled layer of the synthesis network."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int, up: bool = False) -> None:
        super().__init__()
        self.conv = ModulatedConv2d(in_channels, out_channels, 3, w_dim, demodulate=True, up=up)
        self.noise = NoiseInput(resolution)
        self.bias = nn.Parameter(torch.zeros(out_channels))

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise_mode: str = "random") -> torch.Tensor:
        x = self.noise(self.conv(x, w), noise_mode)  # (B, C_out, r, r)
        return lrelu(x + self.bias[None, :, None, None])


class ToRGB(nn.Module):
    """(B, C, r, r) -> (B, channels, r, r): a modulated 1 x 1 convolution without demodulation, plus bias (linear)."""

    def __init__(self, in_channels: int, channels: int, w_dim: int) -> None:
        super().__init__()
        self.conv = ModulatedConv2d(in_channels, channels, 1, w_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return self.conv(x, w) + self.bias[None, :, None, None]


class SynthesisNetwork(nn.Module):
    """ws (B, n_ws, w_dim) -> image (B, channels, R, R): the skip generator of StyleGAN2 (2020, Fig. 7b).

    A learnt constant (C_4, 4, 4) starts it; each resolution r has its styled layers (one at 4,
    two from 8 on, the first upsampling) and a toRGB, and the image is the sum of every
    resolution's toRGB output, upsampled: image_r = upsample(image_{r/2}) + toRGB_r(x_r).
    Layer i takes style ws[:, i]; as in the official code a toRGB shares its index with the
    next resolution's first layer, so n_ws = 2 log2(R) - 2 (8 at 32 x 32).
    """

    def __init__(self, w_dim: int, resolution: int, channels: int, fmap_base: int, fmap_max: int) -> None:
        super().__init__()
        self.resolutions = [2**k for k in range(2, _log2(resolution) + 1)]
        width = [feature_maps(r, fmap_base, fmap_max) for r in self.resolutions]
        self.const = nn.Parameter(torch.randn(width[0], 4, 4))  # (C_4, 4, 4)
        self.layers = nn.ModuleList([StyleLayer(width[0], width[0], w_dim, 4)])
        self.to_rgb = nn.ModuleList([ToRGB(width[0], channels, w_dim)])
        for k, r in enumerate(self.resolutions[1:], start=1):
            self.layers.append(StyleLayer(width[k - 1], width[k], w_dim, r, up=True))
            self.layers.append(StyleLayer(width[k], width[k], w_dim, r))
            self.to_rgb.append(ToRGB(width[k], channels, w_dim))
        self.n_ws = 2 * len(self.resolutions)  # = 2 log2(R) - 2

    def forward(self, ws: torch.Tensor, noise_mode: str = "random") -> torch.Tensor:
        if ws.ndim != 3 or ws.shape[1] != self.n_ws:
            raise ValueError(f"ws of shape {tuple(ws.shape)}: the synthesis network needs (B, {self.n_ws}, w_dim)")
        x = self.const[None].expand(len(ws), -1, -1, -1)  # (B, C_4, 4, 4)
        x = self.layers[0](x, ws[:, 0], noise_mode)  # (B, C_4, 4, 4)
        image = self.to_rgb[0](x, ws[:, 1])  # (B, channels, 4, 4)
        for k in range(1, len(self.resolutions)):
            x = self.layers[2 * k - 1](x, ws[:, 2 * k - 1], noise_mode)  # (B, C_r, r, r), upsampled
            x = self.layers[2 * k](x, ws[:, 2 * k], noise_mode)  # (B, C_r, r, r)
            up = F.interpolate(image, scale_factor=2, mode="bilinear", align_corners=False)  # (B, channels, r, r)
            image = up + self.to_rgb[k](x, ws[:, 2 * k + 1])  # skip: the sum over resolutions
        return image


class StyleGAN2Generator(nn.Module):
    """z (B, latent_dim) -> image (B, channels, R, R), linear output: mapping, then synthesis.

    In training mode, with probability ``mixing_prob`` per batch, the batch is generated from
    two codes switched at a random layer (style mixing, StyleGAN Sec. 3.1), and the mapping
    network's average w is updated. In eval mode the noise is the constant maps (deterministic
    samples), no mixing happens, and ``psi`` truncates w about the average (Eq. 3 of 2019).
    ``mix_z`` and ``mix_layer`` ask for mixing explicitly: layers before ``mix_layer`` take
    the style of ``z``, the layers from it on that of ``mix_z``.
    """

    def __init__(
        self,
        latent_dim: int = 512,
        w_dim: int = 512,
        resolution: int = 32,
        channels: int = 3,
        fmap_base: int = 16384,
        fmap_max: int = 512,
        mapping_layers: int = 8,
        mapping_lr_multiplier: float = 0.01,
        mixing_prob: float = 0.9,
        w_avg_beta: float = 0.995,
    ) -> None:
        super().__init__()
        if not 0 <= mixing_prob <= 1:
            raise ValueError(f"mixing_prob = {mixing_prob} is out of range: allowed 0 <= mixing_prob <= 1")
        self.latent_dim, self.resolution, self.mixing_prob = latent_dim, resolution, mixing_prob
        self.mapping = MappingNetwork(latent_dim, w_dim, mapping_layers, mapping_lr_multiplier, w_avg_beta)
        self.synthesis = SynthesisNetwork(w_dim, resolution, channels, fmap_base, fmap_max)
        self.n_ws = self.synthesis.n_ws

    def styles(self, z: torch.Tensor, psi: float = 1.0) -> torch.Tensor:
        """z (B, latent_dim) -> ws (B, n_ws, w_dim): one (truncated) w, repeated for every layer."""
        w = self.mapping.truncate(self.mapping(z), psi)  # (B, w_dim)
        return w[:, None].expand(-1, self.n_ws, -1)

    def mixed_styles(self, z1: torch.Tensor, z2: torch.Tensor, layer: int, psi: float = 1.0) -> torch.Tensor:
        """ws (B, n_ws, w_dim) with ws[:, :layer] = w(z1) and ws[:, layer:] = w(z2) (style mixing)."""
        if isinstance(layer, bool) or not isinstance(layer, int) or not 0 <= layer <= self.n_ws:
            raise ValueError(f"mix_layer = {layer!r} is out of range: allowed an integer 0 <= layer <= {self.n_ws}")
        ws1, ws2 = self.styles(z1, psi), self.styles(z2, psi)  # (B, n_ws, w_dim) each
        before = torch.arange(self.n_ws, device=z1.device)[None, :, None] < layer  # (1, n_ws, 1)
        return torch.where(before, ws1, ws2)

    def forward(
        self,
        z: torch.Tensor,
        psi: float = 1.0,
        mix_z: torch.Tensor | None = None,
        mix_layer: int | None = None,
        noise_mode: str | None = None,
    ) -> torch.Tensor:
        noise_mode = noise_mode or ("random" if self.training else "const")
        if mix_z is not None:
            ws = self.mixed_styles(z, mix_z, self.n_ws if mix_layer is None else mix_layer, psi)
        elif self.training and self.mixing_prob > 0 and torch.rand(()) < self.mixing_prob:
            layer = int(torch.randint(1, self.n_ws, ()))  # the crossover: at least one layer from each code
            ws = self.mixed_styles(z, torch.randn_like(z), layer, psi)  # (B, n_ws, w_dim)
        else:
            ws = self.styles(z, psi)  # (B, n_ws, w_dim)
        return self.synthesis(ws, noise_mode)  # (B, channels, R, R)


class ResidualDBlock(nn.Module):
    """(B, C_in, r, r) -> (B, C_out, r/2, r/2): conv3x3, conv3x3, avgpool, plus a 1x1 skip, over sqrt(2).

    The residual discriminator block of StyleGAN2 (2020, Fig. 7c).
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv1 = EqualizedConv2d(in_channels, in_channels, 3, padding=1)
        self.conv2 = EqualizedConv2d(in_channels, out_channels, 3, padding=1)
        self.skip = EqualizedConv2d(in_channels, out_channels, 1, gain=1.0)  # linear, as the official code

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skip = self.skip(F.avg_pool2d(x, 2))  # (B, C_out, r/2, r/2)
        h = F.leaky_relu(self.conv1(x), 0.2)  # (B, C_in, r, r)
        h = F.avg_pool2d(F.leaky_relu(self.conv2(h), 0.2), 2)  # (B, C_out, r/2, r/2)
        return (h + skip) / SQRT2  # the sum of two unit-variance branches, back to unit variance


class StyleGAN2Discriminator(nn.Module):
    """image (B, channels, R, R) -> score (B,): fromRGB, residual blocks down to 4 x 4, then the epilogue.

    Epilogue (as ProGAN's last block): minibatch standard deviation, conv3x3, dense to C_4,
    dense to one logit. Equalized learning rate throughout (ProGAN's layers).
    """

    def __init__(
        self, resolution: int = 32, channels: int = 3, fmap_base: int = 16384, fmap_max: int = 512, group_size=4
    ) -> None:
        super().__init__()
        self.resolution = resolution
        resolutions = [2**k for k in range(2, _log2(resolution) + 1)]
        width = [feature_maps(r, fmap_base, fmap_max) for r in resolutions]
        self.from_rgb = EqualizedConv2d(channels, width[-1], 1)
        self.blocks = nn.Sequential(*(ResidualDBlock(width[k], width[k - 1]) for k in range(len(width) - 1, 0, -1)))
        self.stddev = MinibatchStdDev(group_size)
        self.conv = EqualizedConv2d(width[0] + 1, width[0], 3, padding=1)
        self.dense = EqualizedLinear(width[0] * 16, width[0])
        self.out = EqualizedLinear(width[0], 1, gain=1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r = self.resolution
        if x.shape[-2:] != (r, r):
            raise ValueError(f"images of shape {tuple(x.shape)} given to D: it takes {r} x {r}")
        h = F.leaky_relu(self.from_rgb(x), 0.2)  # (B, C_R, R, R)
        h = self.blocks(h)  # (B, C_4, 4, 4)
        h = F.leaky_relu(self.conv(self.stddev(h)), 0.2)  # (B, C_4 + 1, 4, 4) -> (B, C_4, 4, 4)
        h = F.leaky_relu(self.dense(h.flatten(1)), 0.2)  # (B, C_4)
        return self.out(h).flatten()  # (B,): a logit
