"""DCGAN: the deep convolutional GAN of Radford et al. 2015 (Sec. 3, "Approach and model architecture").

The paper's guidelines, each visible below:

* no pooling: strided convolutions in D (learned downsampling) and fractionally
  strided (transposed) convolutions in G (learned upsampling);
* batch normalisation (Ioffe & Szegedy 2015) in both networks, except G's output
  layer and D's input layer;
* no fully connected hidden layers: z is projected to a 4 x 4 feature map, and D's
  last convolution reduces 4 x 4 to one logit;
* ReLU in G with tanh at the output; LeakyReLU (slope 0.2) in D;
* weights drawn from N(0, 0.02) (:func:`dcgan_init`).

The paper's LSUN generator goes 1024 -> 512 -> 256 -> 128 channels from 4 x 4 to
64 x 64; here ``base_channels`` is the width at the largest feature map and each
halving of the resolution doubles it, so any power-of-two size from 16 up works.
As everywhere in the book, D returns a logit and the sigmoid lives in the loss.

The same discriminator serves as the Wasserstein *critic* (Arjovsky et al. 2017): it
already has no sigmoid, and its score is used as it is. ``norm`` swaps its batch norm
for layer norm or none, because the gradient penalty of WGAN-GP (Gulrajani et al.
2017, Sec. 4) is defined per sample and batch norm mixes the samples of a batch.

:meth:`DCGANDiscriminator.features` returns D's last hidden layer, which feature matching
(Salimans et al. 2016, Sec. 3.1) compares between real and generated batches, and
``minibatch_kernels`` > 0 adds minibatch discrimination (Sec. 3.2) on that layer.
"""

from __future__ import annotations

import torch
from torch import nn

from gancourse.checks import check_positive_ints
from gancourse.models.layers import NormLayer, has_shift, n_doublings, norm_layer
from gancourse.models.minibatch import MinibatchDiscrimination
from gancourse.models.spectral import apply_spectral_norm


class DCGANGenerator(nn.Module):
    """z (B, latent_dim) -> image (B, channels, image_size, image_size) in [-1, 1]."""

    def __init__(self, latent_dim: int = 100, base_channels: int = 64, image_size: int = 32, channels: int = 1) -> None:
        super().__init__()
        n = n_doublings(image_size)
        check_positive_ints(latent_dim=latent_dim, base_channels=base_channels, channels=channels)
        self.latent_dim = latent_dim
        width = base_channels * 2 ** (n - 1)  # channels at 4 x 4 (32 px, base 64: 256)
        layers: list[nn.Module] = [
            # project and reshape: (B, latent, 1, 1) -> (B, width, 4, 4)
            nn.ConvTranspose2d(latent_dim, width, kernel_size=4, stride=1, padding=0, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
        ]
        for _ in range(n - 1):
            # (B, w, s, s) -> (B, w/2, 2s, 2s); bias is redundant before batch norm
            layers += [
                nn.ConvTranspose2d(width, width // 2, kernel_size=4, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(width // 2),
                nn.ReLU(inplace=True),
            ]
            width //= 2
        # last doubling to the image, no batch norm on the output (paper's guideline)
        layers += [nn.ConvTranspose2d(width, channels, kernel_size=4, stride=2, padding=1), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self.apply(dcgan_init)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.ndim not in (2, 4) or z[0].numel() != self.latent_dim:
            raise ValueError(f"z must have shape (B, {self.latent_dim}), got {tuple(z.shape)}")
        return self.net(z.view(len(z), self.latent_dim, 1, 1))


#: Normalisations the discriminator/critic accepts by name (see :func:`gancourse.models.layers.norm_layer`).
NORMS = ("batch", "layer", "none")


class DCGANDiscriminator(nn.Module):
    """image (B, channels, image_size, image_size) -> logit, or critic score, (B,).

    ``norm`` is the normalisation of the hidden layers: ``"batch"`` (DCGAN, the default),
    ``"layer"`` or ``"none"`` (WGAN-GP critics: no batch norm with a per-sample penalty), or a
    callable ``channels -> nn.Module`` (:func:`gancourse.models.layers.norm_layer`).
    ``minibatch_kernels`` = B > 0 appends minibatch discrimination with B kernels of
    ``minibatch_kernel_dims`` = C dimensions to the last hidden layer (Salimans et al. 2016, Sec. 3.2).
    ``spectral_norm=True`` divides every convolution's weight by its largest singular value
    (Miyato et al. 2018, :mod:`gancourse.models.spectral`); it needs ``norm="none"``, since batch
    or layer norm rescales by 1/std and so undoes the bound (SNGAN's discriminators have none).
    """

    def __init__(
        self,
        base_channels: int = 64,
        image_size: int = 32,
        channels: int = 1,
        norm: str | NormLayer = "batch",
        minibatch_kernels: int = 0,
        minibatch_kernel_dims: int = 5,
        spectral_norm: bool = False,
    ) -> None:
        super().__init__()
        n = n_doublings(image_size)
        check_positive_ints(base_channels=base_channels, channels=channels)
        self.image_size, self.channels = image_size, channels
        make_norm = norm_layer(norm, allowed=NORMS)  # validates norm before anything is built
        self.norm = norm
        width = base_channels
        # first halving: no batch norm on D's input layer (paper's guideline)
        layers: list[nn.Module] = [
            nn.Conv2d(channels, width, kernel_size=4, stride=2, padding=1),
            nn.LeakyReLU(0.2, inplace=True),
        ]
        for _ in range(n - 1):
            # (B, w, s, s) -> (B, 2w, s/2, s/2); a normalisation's shift makes the conv's bias redundant
            normalise = make_norm(width * 2)
            layers += [
                nn.Conv2d(width, width * 2, kernel_size=4, stride=2, padding=1, bias=not has_shift(normalise)),
                # no Identity for "none": the state dict keeps the layout of earlier checkpoints
                *([] if isinstance(normalise, nn.Identity) else [normalise]),
                nn.LeakyReLU(0.2, inplace=True),
            ]
            width *= 2
        layers.append(nn.Conv2d(width, 1, kernel_size=4, stride=1, padding=0))  # (B, w, 4, 4) -> (B, 1, 1, 1)
        self.net = nn.Sequential(*layers)
        self.minibatch = _minibatch_layer(width * 4 * 4, minibatch_kernels, minibatch_kernel_dims)
        self.apply(dcgan_init)
        if spectral_norm:
            if norm != "none":
                raise ValueError(
                    f"spectral_norm = True with norm = {norm!r}: a normalisation layer rescales by 1/std and undoes "
                    "the spectral bound; use norm = 'none' (Miyato et al. 2018: no normalisation in D)"
                )
            apply_spectral_norm(self.net)  # the convolutions; a minibatch layer (if any) stays unconstrained

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """f(x): the last hidden layer, (B, w * 4 * 4), the input of the final 4 x 4 convolution."""
        return self.net[:-1](x).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # another size would not crash: it would give several logits per image, silently
        expected = (self.channels, self.image_size, self.image_size)
        if x.ndim != 4 or tuple(x.shape[1:]) != expected:
            raise ValueError(f"images must have shape (B, {', '.join(map(str, expected))}), got {tuple(x.shape)}")
        if self.minibatch is None:
            return self.net(x).flatten()  # (B,)
        hidden = self.net[:-1](x)  # (B, w, 4, 4)
        return self.net[-1](hidden).flatten() + _minibatch_logit(self.minibatch, hidden.flatten(1))


def _minibatch_layer(in_features: int, kernels: int, kernel_dims: int) -> nn.ModuleDict | None:
    """Minibatch discrimination on ``in_features`` features and the linear map from o(x) to the logit; None if off."""
    if kernels < 0:
        raise ValueError(f"minibatch_kernels = {kernels} is out of range: allowed minibatch_kernels >= 0 (0 = off)")
    if kernels == 0:
        return None
    return nn.ModuleDict(
        {"layer": MinibatchDiscrimination(in_features, kernels, kernel_dims), "to_logit": nn.Linear(kernels, 1)}
    )


def _minibatch_logit(minibatch: nn.ModuleDict, features: torch.Tensor) -> torch.Tensor:
    """The part of the final linear layer on [f(x), o(x)] that reads o(x): W_o o(x), shape (B,).

    A linear layer on the concatenation is W_f f + W_o o + bias; D's own last layer
    already computes W_f f + bias, so adding W_o o gives exactly the paper's layer.
    """
    return minibatch["to_logit"](minibatch["layer"].closeness(features)).squeeze(1)


def dcgan_init(module: nn.Module) -> None:
    """Radford et al.: "All weights were initialized from a zero-centered Normal distribution with
    standard deviation 0.02." Batch-norm scales are drawn around 1 so that they start as identity."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)
