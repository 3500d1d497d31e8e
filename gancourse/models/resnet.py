"""Residual networks: He et al.'s residual block, and the ResNet GAN of WGAN-GP.

:class:`ResidualBlock` is the basic block of He et al. 2016 (Sec. 3.2, Eq. 1 and
Fig. 2): ``y = relu(x + F(x))`` with ``F`` = conv 3x3, norm, ReLU, conv 3x3, norm.
Input and output have the same shape, so the shortcut is the identity and
``dy/dx = I + dF/dx``: the gradient reaches earlier layers through the ``I`` term
however small ``dF/dx`` is. ``skip=False`` drops the shortcut, which turns a stack
of blocks into the equally deep *plain* network He et al. compare against.

:class:`ResBlock`, :class:`OptimizedBlock`, :class:`ResNetGenerator` and
:class:`ResNetCritic` follow the CIFAR-10 ResNet of Gulrajani et al. 2017
(Appendix F and their released ``gan_cifar_resnet.py``):

* a *pre-activation* residual block (He et al.'s identity-mapping variant):
  norm, ReLU, (upsample), conv 3x3, norm, ReLU, conv 3x3, (mean-pool), plus the
  shortcut;
* the shortcut is the identity when the block keeps the shape, and a 1x1
  convolution (with the same up- or downsampling) when channels or size change;
* generator: z -> linear -> 4 x 4 feature map -> one ``up`` block per doubling
  -> batch norm, ReLU, conv 3x3 -> tanh;
* critic: an "optimized" first block (no norm or ReLU on the raw image), ``down``
  blocks to 8 x 8, two same-shape blocks, ReLU, global mean pool, linear -> a score;
* batch norm in the generator; none in the critic (the CIFAR model), or layer norm:
  batch norm would couple the samples of a batch, and the gradient penalty is
  defined per sample (Gulrajani et al. Sec. 4).

Every block has the same width (``base_channels``; the paper: 128). Upsampling is
nearest neighbour (the paper's depth-to-space of four copies is the same map),
downsampling is a 2 x 2 mean pool. Weights keep PyTorch's default initialisation.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gancourse.checks import check_positive_ints
from gancourse.models.layers import NormLayer, has_shift, n_doublings, norm_layer
from gancourse.models.spectral import apply_spectral_norm

#: Normalisations the residual blocks accept by name (see :func:`gancourse.models.layers.norm_layer`).
NORMS = ("batch", "layer", "none")
RESAMPLES = ("up", "down", None)


class ResidualBlock(nn.Module):
    """He et al. 2016: y = relu(x + F(x)), F = conv3x3-norm-ReLU-conv3x3-norm; shape (B, C, H, W) kept.

    ``skip=False`` computes relu(F(x)): the same layers without the shortcut (a plain network).
    """

    def __init__(self, channels: int, norm: str | NormLayer = "batch", skip: bool = True) -> None:
        super().__init__()
        check_positive_ints(channels=channels)
        make_norm = norm_layer(norm, allowed=NORMS)
        norm1, norm2 = make_norm(channels), make_norm(channels)
        bias = not has_shift(norm1)  # a bias right before a norm's own shift is redundant
        self.residual = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1, bias=bias),
            norm1,
            nn.ReLU(),
            nn.Conv2d(channels, channels, 3, padding=1, bias=bias),
            norm2,
        )
        self.skip = skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.residual(x)  # F(x): (B, C, H, W)
        return F.relu(x + out if self.skip else out)


class ResBlock(nn.Module):
    """Pre-activation residual block of the WGAN-GP ResNet; ``resample`` is 'up', 'down' or None.

    (B, in, H, W) -> (B, out, 2H, 2W) for 'up', (B, out, H/2, W/2) for 'down', (B, out, H, W) for None.
    """

    def __init__(
        self, in_channels: int, out_channels: int, resample: str | None = None, norm: str | NormLayer = "batch"
    ) -> None:
        super().__init__()
        check_positive_ints(in_channels=in_channels, out_channels=out_channels)
        if resample not in RESAMPLES:
            raise ValueError(f"resample = {resample!r} is not allowed: choose 'up', 'down' or None")
        make_norm = norm_layer(norm, allowed=NORMS)
        self.resample = resample
        # 'up' changes the width in the first conv (paper: UpsampleConv in -> out), otherwise in the second
        mid = out_channels if resample == "up" else in_channels
        self.norm1 = make_norm(in_channels)
        self.conv1 = nn.Conv2d(in_channels, mid, 3, padding=1)
        self.norm2 = make_norm(mid)
        self.conv2 = nn.Conv2d(mid, out_channels, 3, padding=1)
        # identity when the shape is kept; else a 1x1 conv that matches the new channels (and is resampled too)
        self.shortcut_conv = (
            nn.Conv2d(in_channels, out_channels, 1) if in_channels != out_channels or resample is not None else None
        )

    def _shortcut(self, x: torch.Tensor) -> torch.Tensor:
        if self.shortcut_conv is None:
            return x
        if self.resample == "up":
            x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        x = self.shortcut_conv(x)  # 1x1 conv and mean pool commute: the order does not matter
        return F.avg_pool2d(x, 2) if self.resample == "down" else x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.norm1(x))
        if self.resample == "up":
            out = F.interpolate(out, scale_factor=2.0, mode="nearest")  # (B, in, 2H, 2W)
        out = self.conv1(out)
        out = self.conv2(F.relu(self.norm2(out)))
        if self.resample == "down":
            out = F.avg_pool2d(out, 2)  # conv then mean pool (paper: ConvMeanPool)
        return self._shortcut(x) + out


class OptimizedBlock(nn.Module):
    """The critic's first block: conv3x3, ReLU, conv3x3, mean pool; shortcut mean pool then 1x1 conv.

    No norm or ReLU before the first conv: a ReLU on the raw image would zero every
    negative pixel. (B, in, H, W) -> (B, out, H/2, W/2).
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        check_positive_ints(in_channels=in_channels, out_channels=out_channels)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.shortcut_conv = nn.Conv2d(in_channels, out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.avg_pool2d(self.conv2(F.relu(self.conv1(x))), 2)
        return self.shortcut_conv(F.avg_pool2d(x, 2)) + out


class ResNetGenerator(nn.Module):
    """z (B, latent_dim) -> image (B, channels, image_size, image_size) in [-1, 1]; batch norm inside."""

    def __init__(
        self, latent_dim: int = 128, base_channels: int = 128, image_size: int = 32, channels: int = 1
    ) -> None:
        super().__init__()
        check_positive_ints(latent_dim=latent_dim, base_channels=base_channels, channels=channels)
        n = n_doublings(image_size)
        self.latent_dim, self.base_channels = latent_dim, base_channels
        self.input = nn.Linear(latent_dim, base_channels * 4 * 4)  # z -> (B, C * 16), reshaped to (B, C, 4, 4)
        self.blocks = nn.Sequential(*[ResBlock(base_channels, base_channels, "up", norm="batch") for _ in range(n)])
        self.output = nn.Sequential(
            nn.BatchNorm2d(base_channels), nn.ReLU(), nn.Conv2d(base_channels, channels, 3, padding=1), nn.Tanh()
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.input(z.view(len(z), self.latent_dim)).view(len(z), self.base_channels, 4, 4)
        return self.output(self.blocks(x))  # (B, C, 4, 4) -> ... -> (B, channels, image_size, image_size)


class ResNetCritic(nn.Module):
    """image (B, channels, image_size, image_size) -> score (B,); no batch norm (gradient penalty).

    ``spectral_norm=True``: the SN-ResNet discriminator of Miyato et al. 2018 (App. B.4), every weight
    divided by its spectral norm (:mod:`gancourse.models.spectral`); it needs ``norm="none"``.
    """

    def __init__(
        self,
        base_channels: int = 128,
        image_size: int = 32,
        norm: str | NormLayer = "none",
        channels: int = 1,
        spectral_norm: bool = False,
    ) -> None:
        super().__init__()
        check_positive_ints(base_channels=base_channels, channels=channels)
        # a name must be one of the two; a callable must not build a batch norm
        if callable(norm):
            rejected = isinstance(norm(base_channels), (nn.BatchNorm2d, nn.SyncBatchNorm))
        else:
            rejected = norm not in ("layer", "none")
        if rejected:
            raise ValueError(
                f"norm = {norm!r} is not allowed in the critic: choose 'layer' or 'none' "
                "(batch norm breaks the per-sample gradient penalty, Gulrajani et al. Sec. 4)"
            )
        n = n_doublings(image_size)
        c = base_channels
        blocks: list[nn.Module] = [OptimizedBlock(channels, c)]  # image_size -> image_size / 2
        blocks += [ResBlock(c, c, "down", norm) for _ in range(n - 2)]  # ... -> 8 x 8
        blocks += [ResBlock(c, c, None, norm) for _ in range(2)]  # two more blocks at 8 x 8
        self.blocks = nn.Sequential(*blocks)
        self.linear = nn.Linear(c, 1)
        if spectral_norm:  # SN-ResNet (Miyato et al. 2018, App. B.4): every convolution and the linear layer
            if norm != "none":
                raise ValueError(
                    f"spectral_norm = True with norm = {norm!r}: layer norm rescales by 1/std and undoes the "
                    "spectral bound; use norm = 'none' (Miyato et al. 2018: no normalisation in D)"
                )
            apply_spectral_norm(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = F.relu(self.blocks(x)).mean(dim=(2, 3))  # global mean pool: (B, C)
        return self.linear(features).flatten()  # (B,)


def conv_gradient_norms(net: nn.Module, x: torch.Tensor, seed: int = 0) -> list[float]:
    """||dL/dW||_2 of every convolution's weight in ``net``, in order, at ``x``.

    L = mean over the batch of <r, net(x)> with a fixed random readout r ~ N(0, I), the
    linear layer a critic ends with: the gradients then measure only how much of the
    signal from the output survives the backward pass down to each layer.
    """
    net.zero_grad(set_to_none=True)
    out = net(x)  # (B, ...)
    readout = torch.randn(out.shape[1:], generator=torch.Generator().manual_seed(seed), dtype=out.dtype)
    ((out * readout).flatten(1).sum(dim=1).mean()).backward()
    norms = [m.weight.grad.norm().item() for m in net.modules() if isinstance(m, nn.Conv2d)]
    net.zero_grad(set_to_none=True)
    return norms
